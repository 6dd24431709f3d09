using System.Text;
using System.Text.Json.Nodes;

namespace Loom.Cli.Tests.Commands;

// Regression tests for the adversarial pass over `loom finetune` / `loom classify` (each failed before
// its fix): heads reused or invented where they must not be, messages that named .NET types or internal
// parameters instead of what the user wrote, and checks that came after minutes of data reading.
public class FinetuneAdversarialTests
{
    private static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "the"];

    private static (string Dir, string Config) Setup(string trainContent, string extra = "", string trainName = "train.jsonl")
    {
        string dir = CliRunner.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "tok"));
        File.WriteAllLines(Path.Combine(dir, "tok", "vocab.txt"), Vocabulary);
        File.WriteAllText(Path.Combine(dir, trainName), trainContent);
        string config = Path.Combine(dir, "finetune.yaml");
        File.WriteAllLines(config,
        [
            $"output: {dir}/run",
            "model: {model_type: bert, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64}",
            $"tokenizer: {dir}/tok",
            "data:",
            $"  train: {dir}/{trainName}",
            extra,
            "train: {max_length: 16, epochs: 1, batch_size: 4}",
        ]);
        return (dir, config);
    }

    private static string Good(int n) => string.Concat(Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "{\"text\": \"good movie\", \"label\": \"pos\"}\n" : "{\"text\": \"bad movie\", \"label\": \"neg\"}\n"));

    private static string Run(int expected, params string[] args)
    {
        var (code, output, console) = CliRunner.Run(args);
        Assert.True(code == expected, $"exit {code}: {console}{output}");
        Assert.DoesNotContain("   at ", console);
        return console.Replace("\n", " ").Replace("  ", " ");
    }

    // A model directory whose weights lack the head: config.json plus a safetensors file with one body tensor.
    private static string HeadlessModel(string config)
    {
        string dir = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        byte[] header = Encoding.UTF8.GetBytes("{\"embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        using var f = File.Create(Path.Combine(dir, "model.safetensors"));
        f.Write(BitConverter.GetBytes((long)header.Length));
        f.Write(header);
        f.Write(new byte[4]);
        return dir;
    }

    [Fact]
    public void ClassifyRefusesAModelWithoutATrainedHead()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"good movie\"}\n");
        string bert = HeadlessModel("{\"model_type\": \"bert\", \"architectures\": [\"BertForMaskedLM\"], \"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 32, \"vocab_size\": 9}");
        string console = Run(1, "classify", "--model", bert, "--input", input);
        Assert.Contains("has no classification head", console);
        Assert.Contains("BertForMaskedLM", console);
        Assert.Contains("loom finetune", console);
        string gpt2 = HeadlessModel("{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"], \"pad_token_id\": 0, \"n_embd\": 16, \"n_layer\": 1, \"n_head\": 2, \"vocab_size\": 9}");
        console = Run(1, "classify", "--model", gpt2, "--input", input);
        Assert.Contains("has no classification head", console);
        Assert.Contains("score.weight", console);
    }

    [Fact]
    public void ClassifyChecksOutputAndMaxLengthBeforeTheModel()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"good movie\"}\n");
        string console = Run(1, "classify", "--model", Path.Combine(dir, "absent"), "--input", input, "--output", dir);
        Assert.Contains($"--output {dir} is a directory", console);
        console = Run(1, "classify", "--model", Path.Combine(dir, "absent"), "--input", input, "--max-length", "2");
        Assert.Contains("--max-length is 2", console);
        Assert.Contains("at least 4", console);
    }

    [Fact]
    public void InitFromAClassifierKeepsItsLabelOrderOrRefusesOtherLabels()
    {
        // A classifier trained with labels [pos, neg] (pos = row 0), then fine-tuned again from it.
        var (dir, config) = Setup(Good(8), "labels: [pos, neg]");
        Run(0, "finetune", "--config", config, "--set", "data.validation_fraction=0.5");
        string from = Path.Combine(dir, "run", "model");
        Assert.Equal("pos", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(from, "config.json")))!["id2label"]!["0"]!);
        string[] again = ["finetune", "--config", config, "--overwrite", "--set", "labels=null", $"init_from={from}", "model=null", "tokenizer=null", $"output={dir}/again", "data.validation_fraction=0.5"];

        // No labels given: the data's sorted order would be [neg, pos]; init_from's order is adopted instead.
        Run(0, again);
        Assert.Equal("pos", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "again", "model", "config.json")))!["id2label"]!["0"]!);

        // The same names in another order: refused, naming both lists.
        string console = Run(1, [.. again, "--set", "labels=[neg, pos]"]);
        Assert.Contains("[neg, pos]", console);
        Assert.Contains("[pos, neg]", console);
        Assert.Contains("init_from", console);

        // Other names: refused, naming both lists and the fix.
        File.WriteAllText(Path.Combine(dir, "other.jsonl"), Good(8).Replace("\"pos\"", "\"yes\"").Replace("\"neg\"", "\"no\""));
        console = Run(1, [.. again, "--set", $"data.train={dir}/other.jsonl"]);
        Assert.Contains("[pos, neg]", console);
        Assert.Contains("[no, yes]", console);
        Assert.Contains("start from the base model", console);

        // Another task.
        File.WriteAllText(Path.Combine(dir, "reg.jsonl"), Good(8).Replace("\"pos\"", "1.5").Replace("\"neg\"", "-0.5"));
        console = Run(1, [.. again, "--set", $"data.train={dir}/reg.jsonl", "task=regression"]);
        Assert.Contains("single_label_classification", console);
        Assert.Contains("regression", console);
        Assert.False(File.Exists(Path.Combine(dir, "again", "model", "model.safetensors")) && console.Contains("wrote"));
    }

    [Fact]
    public void SettingsAreNamedAsWrittenNeverAsDotNetTypes()
    {
        var (dir, config) = Setup(Good(8));
        // A YAML flow list in --set works as in loom train: [a, b] is the label set (pos, neg are then outside it).
        Assert.Contains("is not in the label set (a, b)", Run(1, "finetune", "--config", config, "--set", "labels=[a, b]"));
        string console = Run(1, "finetune", "--config", config, "--set", "train.greater_is_better=yes");
        Assert.Contains("must be true or false", console);
        Assert.DoesNotContain("System.", console);
        console = Run(1, "finetune", "--config", config, "--set", "data=5");
        Assert.Contains("must be a mapping", console);
        Assert.DoesNotContain("Loom.", console);
        console = Run(1, "finetune", "--config", config, "--set", "data.validation_fraction=0.99");
        Assert.Contains("data.validation_fraction", console);
        Assert.DoesNotContain("testFraction", console);
        // A class too small to hold out is named by its label, not its id.
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), Good(8) + "{\"text\": \"the\", \"label\": \"rare\"}\n");
        Assert.Contains("\"rare\"", Run(1, "finetune", "--config", config));
    }

    [Fact]
    public void ResumeIsCheckedBeforeTheDataIsRead()
    {
        var (dir, config) = Setup(Good(8));
        File.Delete(Path.Combine(dir, "train.jsonl"));   // reading the data would fail: the --resume check must come first
        string console = Run(1, "finetune", "--config", config, "--resume", config);
        Assert.Contains($"--resume {config} is a file", console);
        console = Run(1, "finetune", "--config", config, "--resume", Path.Combine(dir, "nowhere"));
        Assert.Contains("--resume", console);
        Assert.Contains("does not exist", console);
    }

    [Fact]
    public void ADuplicateKeyNamesTheLine()
    {
        var (_, config) = Setup(Good(4) + "{\"text\": \"good\", \"label\": \"pos\", \"label\": \"neg\"}\n");
        string console = Run(1, "finetune", "--config", config);
        Assert.Contains("train.jsonl:5", console);
        Assert.Contains("\"label\" appears twice", console);
    }

    [Fact]
    public void ADeclaredLabelWithoutExamplesIsReported()
    {
        var (dir, config) = Setup(Good(8), "labels: [neg, pos, meh]");
        string console = Run(0, "finetune", "--config", config, "--set", "data.validation_fraction=0.5");
        Assert.Contains("no training example: meh", console);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run", "eval_results.json")))!;
        Assert.Equal(["meh"], results["labels_without_train_examples"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["meh"], results["labels_without_validation_examples"]!.AsArray().Select(n => (string)n!));
    }
}
