using Loom.Models.Gpt2;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class ModelCommandsTests
{
    // A model directory as Hugging Face lays out GPT-2: config.json, model.safetensors, tokenizer.json.
    private static string MakeModelDir()
    {
        string dir = CliRunner.TempDir();
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 50))],
            new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(dir, "tokenizer.json"), bpe.Merges);
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 });
        model.InitializeWeights(4);
        model.Save(dir);
        return dir;
    }

    [Fact]
    public void GeneratePrintsADeterministicContinuation()
    {
        string dir = MakeModelDir();
        var (code, first, console) = CliRunner.Run("generate", "--model", dir, "--prompt", "to be", "--max-new-tokens", "12", "--temperature", "0.9", "--seed", "5");
        Assert.True(code == 0, console);
        Assert.False(first.StartsWith("to be", StringComparison.Ordinal), "only the continuation is printed");
        var (_, second, _) = CliRunner.Run("generate", "--model", dir, "--prompt", "to be", "--max-new-tokens", "12", "--temperature", "0.9", "--seed", "5");
        Assert.Equal(first, second);
    }

    [Fact]
    public void EvalReportsLossAndPerplexityOnShards()
    {
        string dir = MakeModelDir();
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 30)));
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", Path.Combine(dir, "tokenizer.json"), "--input", text, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        (code, _, console) = CliRunner.Run("eval", "--model", dir, "--data", Path.Combine(dir, "shards"), "--batch-size", "2");
        Assert.True(code == 0, console);
        var match = System.Text.RegularExpressions.Regex.Match(console, @"loss (\d+\.\d+)\s+perplexity (\d+\.\d+)");
        Assert.True(match.Success, console);
        double loss = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(loss, 4.0, 7.0); // an untrained model is near ln(V) = ln(301) ≈ 5.7
    }

    [Fact]
    public void MissingModelFilesAreNamed()
    {
        var (code, _, console) = CliRunner.Run("generate", "--model", CliRunner.TempDir(), "--prompt", "x");
        Assert.Equal(1, code);
        Assert.Contains("config.json", console);
    }
}
