namespace Loom.Cli.Tests.Commands;

// `loom finetune` bad input (issue 12 §5): each case is exit 1 with a message naming the file and line
// (or the setting as written), never a stack trace, and nothing is written to the output directory.
public class FinetuneCommandTests
{
    private static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "the"];

    private static (string Dir, string Config) Setup(string trainName, string trainContent, string extra = "", string? validation = null)
    {
        string dir = CliRunner.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "tok"));
        File.WriteAllLines(Path.Combine(dir, "tok", "vocab.txt"), Vocabulary);
        File.WriteAllText(Path.Combine(dir, trainName), trainContent);
        if (validation != null) File.WriteAllText(Path.Combine(dir, "validation.jsonl"), validation);
        string config = Path.Combine(dir, "finetune.yaml");
        var lines = new List<string>
        {
            $"output: {dir}/run",
            "model: {model_type: bert, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64}",
            $"tokenizer: {dir}/tok",
            "data:",
            $"  train: {dir}/{trainName}",
        };
        if (validation != null) lines.Add($"  validation: {dir}/validation.jsonl");
        lines.Add(extra);
        lines.Add("train: {max_length: 32}");
        File.WriteAllLines(config, lines);
        return (dir, config);
    }

    private static string Run(string config, int expected, params string[] more)
    {
        var (code, output, console) = CliRunner.Run(["finetune", "--config", config, .. more]);
        Assert.True(code == expected, $"exit {code}: {console}{output}");
        Assert.DoesNotContain("   at ", console);
        return console.Replace("\n", " ");
    }

    private static string Good(int n) => string.Concat(Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "{\"text\": \"good movie\", \"label\": \"pos\"}\n" : "{\"text\": \"bad movie\", \"label\": \"neg\"}\n"));

    [Fact]
    public void ALabelOutsideTheGivenSetNamesFileAndLine()
    {
        var (dir, config) = Setup("train.jsonl", Good(6) + "{\"text\": \"the movie\", \"label\": \"meh\"}\n", "labels: [neg, pos]");
        string console = Run(config, 1);
        Assert.Contains("train.jsonl:7", console);
        Assert.Contains("\"meh\" is not in the label set (neg, pos)", console);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void ARaggedCsvRowNamesFileAndLine()
    {
        var (_, config) = Setup("train.csv", "text,label\ngood movie,pos\nbad, movie,neg\n");
        string console = Run(config, 1);
        Assert.Contains("train.csv:3", console);
        Assert.Contains("3 field(s) but the header has 2", console);
    }

    [Fact]
    public void AnEmptyTextAndAMissingFieldNameTheirLines()
    {
        var (_, config) = Setup("train.jsonl", Good(4) + "{\"text\": \"  \", \"label\": \"pos\"}\n");
        Assert.Contains("train.jsonl:5", Run(config, 1));
        (_, config) = Setup("train.jsonl", Good(2) + "{\"review\": \"good\", \"label\": \"pos\"}\n");
        string console = Run(config, 1);
        Assert.Contains("train.jsonl:3", console);
        Assert.Contains("\"text\" is missing", console);
    }

    [Fact]
    public void AClassWithTooFewExamplesForTheFoldsIsNamed()
    {
        var (_, config) = Setup("train.jsonl", Good(8) + "{\"text\": \"the\", \"label\": \"rare\"}\n");
        string console = Run(config, 1, "--folds", "3");
        Assert.Contains("train.jsonl", console);
        Assert.Contains("\"rare\" has 1 example(s), fewer than the 3 folds", console);
        Assert.Contains("--folds is 1; it must be at least 2", Run(config, 1, "--folds", "1"));   // one fold is not cross-validation
    }

    [Fact]
    public void AStratifiedHoldOutOfAOneExampleClassIsRefusedNamingTheFile()
    {
        var (_, config) = Setup("train.jsonl", Good(8) + "{\"text\": \"the\", \"label\": \"rare\"}\n");
        string console = Run(config, 1);
        Assert.Contains("data.train", console);
        Assert.Contains("validation_fraction", console);
    }

    [Fact]
    public void BadSettingsAreNamedAsWritten()
    {
        var (_, config) = Setup("train.jsonl", Good(8));
        Assert.Contains("train.learning_rate is -1", Run(config, 1, "--set", "train.learning_rate=-1"));
        Assert.Contains("task is \"sentiment\"", Run(config, 1, "--set", "task=sentiment"));
        Assert.Contains("train.epoch is not a setting", Run(config, 1, "--set", "train.epoch=3"));
        Assert.Contains("train.truncation", Run(config, 1, "--set", "train.truncation=middle"));
        Assert.Contains("--resume", Run(config, 1, "--resume", "--overwrite"));
        string none = Path.Combine(Path.GetDirectoryName(config)!, "none.yaml");
        File.WriteAllText(none, "data: {train: x.jsonl}\n");
        Assert.Contains("Neither init_from nor model", Run(none, 1));
    }

    [Fact]
    public void TheTruncationCountNamesThePolicyAsWritten()
    {
        // It once printed "train.truncation: headtail" (the enum's name) for head_tail.
        var (_, config) = Setup("train.jsonl", Good(8) + "{\"text\": \"good movie the movie the movie the movie the movie the movie the movie the movie\", \"label\": \"pos\"}\n");
        string console = Run(config, 0, "--set", "train.max_length=6", "train.truncation=head_tail", "train.epochs=1", "data.validation_fraction=0.3");
        Assert.Contains("train.truncation: head_tail", console);
    }
}
