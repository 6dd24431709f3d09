// loom-run classify against the reference, `loom classify` on the same fine-tuned directory and input:
// equal JSON lines (a tiny BERT classifier fine-tuned here with `loom finetune`, as the CLI's tests do),
// and the same refusal of a directory without a trained head.
using System.Text;
using System.Text.Json.Nodes;

namespace Loom.Run.Tests;

public class ClassifyRunTests
{
    private static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "the", "film"];

    private static readonly Lazy<(string Dir, string Model)> s_classifier = new(() =>
    {
        string dir = Runners.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "tok"));
        File.WriteAllLines(Path.Combine(dir, "tok", "vocab.txt"), Vocabulary);
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), string.Concat(Enumerable.Range(0, 16).Select(i =>
            i % 2 == 0 ? "{\"text\": \"good movie\", \"label\": \"pos\"}\n" : "{\"text\": \"bad film\", \"label\": \"neg\"}\n")));
        string config = Path.Combine(dir, "finetune.yaml");
        File.WriteAllLines(config,
        [
            $"output: {dir}/run",
            "model: {model_type: bert, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64}",
            $"tokenizer: {dir}/tok",
            "data:",
            $"  train: {dir}/train.jsonl",
            "train: {max_length: 16, epochs: 2, batch_size: 4}",
        ]);
        var r = Runners.Loom("finetune", "--config", config, "--set", "data.validation_fraction=0.25");
        Assert.True(r.Code == 0, r.Console);
        return (dir, Path.Combine(dir, "run", "model"));
    });

    [Fact]
    public void JsonLinesEqualLoomClassify()
    {
        var (dir, model) = s_classifier.Value;
        string input = Path.Combine(dir, "in.jsonl");
        // More lines than one 16-text batch, of different lengths (length bucketing reorders batches, not output), one over the field name.
        File.WriteAllText(input, string.Concat(Enumerable.Range(0, 37).Select(i =>
            $"{{\"body\": \"{string.Join(' ', Enumerable.Repeat(i % 3 == 0 ? "good" : "bad", 1 + i % 5))} movie\", \"id\": {i}}}\n")));
        var reference = Runners.Loom("classify", "--model", model, "--input", input, "--field", "body");
        Assert.True(reference.Code == 0, reference.Console);
        var run = Runners.LoomRun("classify", "--model", model, "--input", input, "--field", "body", "--threads", "1");
        Assert.True(run.Code == 0, run.Error);
        Assert.Equal(reference.Output, run.Output);
        var lines = run.Output.TrimEnd('\n').Split('\n');
        Assert.Equal(37, lines.Length);
        var first = JsonNode.Parse(lines[0])!.AsObject();
        Assert.Contains((string)first["label"]!, new[] { "pos", "neg" });
        Assert.Equal(1.0, (double)first["probabilities"]!["pos"]! + (double)first["probabilities"]!["neg"]!, 5);
    }

    [Fact]
    public void MalformedLinesAndHeadlessModelsAreOneErrorLine()
    {
        var (dir, model) = s_classifier.Value;
        string bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"good movie\"}\n\n");
        var (code, _, error) = Runners.LoomRun("classify", "--model", model, "--input", bad);
        Assert.Equal(1, code);
        Assert.Contains($"{bad}:2: a blank line", error);

        // A directory whose weights lack the head: refused as `loom classify` refuses it.
        string headless = Runners.TempDir();
        File.WriteAllText(Path.Combine(headless, "config.json"), "{\"model_type\": \"bert\", \"architectures\": [\"BertForMaskedLM\"], \"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 32, \"vocab_size\": 10}");
        byte[] header = Encoding.UTF8.GetBytes("{\"embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        using (var f = File.Create(Path.Combine(headless, "model.safetensors")))
        {
            f.Write(BitConverter.GetBytes((long)header.Length));
            f.Write(header);
            f.Write(new byte[4]);
        }
        (code, _, error) = Runners.LoomRun("classify", "--model", headless, "--input", bad);
        Assert.Equal(1, code);
        Assert.Contains("has no classification head", error);
        Assert.Contains("loom finetune", error);
    }
}
