// `loom serve` and `loom batch` from the command line: a bad model directory or bad option fails at
// start with exit 1 and a message naming the file or option (no stack trace); a batch run writes one
// result per custom_id, equal to the engine's greedy output, and a rerun adds nothing.
using System.Text.Json.Nodes;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models.Gpt2;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class ServeCommandsTests
{
    private static string MakeModelDir()
    {
        string dir = Path.Combine(CliRunner.TempDir(), "tiny");
        Directory.CreateDirectory(dir);
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 50))], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(dir, "tokenizer.json"), bpe.Merges);
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 128, Embedding = 16, Layers = 1, Heads = 2 });
        model.InitializeWeights(4);
        model.Save(dir);
        return dir;
    }

    [Fact]
    public void ServeOnABadModelDirectoryFailsAtStartNamingTheFile()
    {
        var (code, _, console) = CliRunner.Run("serve", "--model", CliRunner.TempDir(), "--port", "0");
        Assert.Equal(1, code);
        Assert.Contains("tokenizer.json", console);
        Assert.DoesNotContain("   at ", console);

        string dir = MakeModelDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ not json");
        (code, _, console) = CliRunner.Run("serve", "--model", dir, "--port", "0");
        Assert.Equal(1, code);
        Assert.Contains("config.json", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void ServeOnAT5DirectoryRefusesAnAdapterInOneLine()
    {
        string t5 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "t5_tiny");
        var (code, _, console) = CliRunner.Run("serve", "--model", t5, "--port", "0", "--adapter", CliRunner.TempDir());
        Assert.Equal(1, code);
        Assert.Contains("--adapter", console);
        Assert.Contains("encoder-decoder (T5)", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Theory]
    [InlineData("--port", "70000", "--port")]
    [InlineData("--max-batch", "0", "--max-batch")]
    [InlineData("--kv-cache-mb", "-1", "--kv-cache-mb")]
    [InlineData("--max-body-mb", "0", "--max-body-mb")]
    [InlineData("--prefix-caching", "maybe", "--prefix-caching")]
    public void ServeNamesABadOption(string option, string value, string named)
    {
        var (code, _, console) = CliRunner.Run("serve", "--model", CliRunner.TempDir(), option, value);
        Assert.Equal(1, code);
        Assert.Contains(named, console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public async Task BatchWritesEveryCustomIdOnceAndARerunAddsNothing()
    {
        string dir = MakeModelDir();
        string input = Path.Combine(CliRunner.TempDir(), "requests.jsonl"), output = input + ".results.jsonl";
        string[] prompts = ["to be", "or not", "that is", "the question", "not to"];
        File.WriteAllLines(input, prompts.Select((p, i) => new JsonObject
        {
            ["custom_id"] = $"q{i}", ["method"] = "POST", ["url"] = "/v1/completions",
            ["body"] = new JsonObject { ["model"] = "tiny", ["prompt"] = p, ["max_tokens"] = 5, ["temperature"] = 0 },
        }.ToJsonString()));
        var (code, _, console) = CliRunner.Run("batch", "--model", dir, "--input", input, "--output", output);
        Assert.True(code == 0, console);
        var lines = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(prompts.Length, lines.Count);
        using var engine = InferenceEngine.Load(dir);
        foreach (var line in lines)
        {
            int i = int.Parse(((string)line["custom_id"]!)[1..]);
            var expected = await engine.GenerateAsync(new GenerationRequest(prompts[i], new SamplingOptions { MaxNewTokens = 5 }));
            Assert.Equal(expected.Text, (string?)line["response"]!["body"]!["choices"]![0]!["text"]);
        }
        (code, _, console) = CliRunner.Run("batch", "--model", dir, "--input", input, "--output", output);
        Assert.True(code == 0, console);
        Assert.Equal(prompts.Length, File.ReadAllLines(output).Length);
        Assert.Contains("5 already", console);

        File.AppendAllText(input, File.ReadAllLines(input)[1] + "\n");
        (code, _, console) = CliRunner.Run("batch", "--model", dir, "--input", input, "--output", output);
        Assert.Equal(1, code);
        Assert.Contains("q1", console);
        Assert.Contains("line 2", console);
        Assert.DoesNotContain("   at ", console);
    }
}
