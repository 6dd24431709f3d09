// `loom prune` and `loom compress lowrank` on a tiny GPT-2 with its tokenizer: each writes a model
// directory that `loom generate` opens, reports what it did, and bad input is a one-line error.
using Loom.Models.Gpt2;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class CompressionCommandsTests
{
    private const string Text = "to be or not to be, that is the question. whether tis nobler in the mind to suffer.\n";

    private static (string Dir, string Model, string Calibration) MakeModel()
    {
        string dir = CliRunner.TempDir(), model = Path.Combine(dir, "model"), calibration = Path.Combine(dir, "calibration.txt");
        Directory.CreateDirectory(model);
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat(Text, 50))], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(model, "tokenizer.json"), bpe.Merges);
        var config = new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 16, Embedding = 16, Layers = 2, Heads = 2 };
        using (var m = new Gpt2Model(config))
        {
            m.InitializeWeights(4);
            m.Save(model);
        }
        File.WriteAllText(calibration, string.Concat(Enumerable.Repeat(Text, 20)));
        return (dir, model, calibration);
    }

    [Theory]
    [InlineData("sparsegpt", "--pattern", "2:4")]
    [InlineData("wanda", "--sparsity", "0.5")]
    [InlineData("magnitude", "--pattern", "4:8")]
    public void PruneWritesAModelThatGenerates(string method, string option, string value)
    {
        var (dir, model, calibration) = MakeModel();
        try
        {
            string output = Path.Combine(dir, "pruned");
            var (code, _, console) = CliRunner.Run("prune", "--model", model, "--method", method, option, value, "--calibration", calibration, "--samples", "4", "--output", output);
            Assert.True(code == 0, console);
            Assert.Contains("h.1.mlp.c_proj", console);
            Assert.Contains("50.00%", console);
            foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "pruning.json" }) Assert.True(File.Exists(Path.Combine(output, f)), f);
            var gen = CliRunner.Run("generate", "--model", output, "--prompt", "to be", "--max-new-tokens", "4");
            Assert.True(gen.Code == 0, gen.Console);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void LowRankWritesAModelThatGeneratesAndReportsTheSaving()
    {
        var (dir, model, _) = MakeModel();
        try
        {
            string output = Path.Combine(dir, "lowrank");
            var (code, _, console) = CliRunner.Run("compress", "lowrank", "--model", model, "--rank", "4", "--output", output);
            Assert.True(code == 0, console);
            Assert.Contains("saved", console);
            Assert.True(File.Exists(Path.Combine(output, "low_rank.json")));
            var gen = CliRunner.Run("generate", "--model", output, "--prompt", "to be", "--max-new-tokens", "4");
            Assert.True(gen.Code == 0, gen.Console);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("needs --calibration", "prune", "--method", "wanda")]
    [InlineData("not both", "prune", "--sparsity", "0.5", "--pattern", "2:4")]
    [InlineData("--sparsity must be in [0, 1)", "prune", "--method", "magnitude", "--sparsity", "1.5")]
    [InlineData("not a pruning method", "prune", "--method", "obs")]
    [InlineData("exactly one of --rank R or --energy F", "compress", "lowrank")]
    public void BadInputIsOneErrorLine(string expected, params string[] args)
    {
        var (dir, model, _) = MakeModel();
        try
        {
            var (code, _, console) = CliRunner.Run([.. args, "--model", model, "--output", Path.Combine(dir, "out")]);
            Assert.Equal(1, code);
            Assert.Contains(expected, console);
            Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
