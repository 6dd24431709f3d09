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
    public void GreedyGenerateIsTheArgMaxOfAFullForwardEachStep()
    {
        string dir = MakeModelDir();
        var (code, output, console) = CliRunner.Run("generate", "--model", dir, "--prompt", "to be", "--max-new-tokens", "12", "--temperature", "0");
        Assert.True(code == 0, console);

        // The reference, by hand: full forward over all tokens so far, argmax of the last row, decoded at the end.
        using var model = Loom.Models.CausalLanguageModels.Load(dir);
        var tok = Loom.Tokenizers.TokenizerLoader.Load(dir);
        var ids = new List<int>(tok.Encode("to be"));
        var produced = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            model.Forward(ids.ToArray(), default, 1, ids.Count);
            var last = model.Logits.Slice((ids.Count - 1) * model.VocabularySize, model.VocabularySize);
            int best = 0;
            for (int v = 1; v < last.Length; v++) if (last[v] > last[best]) best = v;
            if (tok.SpecialTokens.TryGetValue("<|endoftext|>", out int eot) && best == eot) break;
            ids.Add(best);
            produced.Add(best);
        }
        string expected = tok.Decode(produced.ToArray());
        Assert.NotEmpty(expected);
        Assert.Equal(expected + "\n", output);
    }

    [Fact]
    public void SampledGenerateIsReproducibleForASeed()
    {
        string dir = MakeModelDir();
        string[] args = ["generate", "--model", dir, "--prompt", "to be", "--max-new-tokens", "12", "--temperature", "0.9", "--seed", "5"];
        var (code, first, console) = CliRunner.Run(args);
        Assert.True(code == 0, console);
        Assert.True(first.TrimEnd('\n').Length > 0, "a continuation is printed");
        Assert.Equal(first, CliRunner.Run(args).Output);
    }

    [Theory]
    [InlineData("--temperature", "NaN")]
    [InlineData("--temperature", "-1")]
    [InlineData("--temperature", "Infinity")]
    [InlineData("--top-p", "0")]
    [InlineData("--top-p", "NaN")]
    [InlineData("--top-k", "-2")]
    [InlineData("--repetition-penalty", "0")]
    [InlineData("--max-new-tokens", "-5")]
    public void BadSamplingOptionsAreNamed(string option, string value)
    {
        string dir = CliRunner.TempDir();   // no model: the options are checked first
        var (code, _, console) = CliRunner.Run("generate", "--model", dir, "--prompt", "x", option, value);
        Assert.Equal(1, code);
        Assert.Contains(option + " must", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void EvalLossIsTheMeanCrossEntropyOverNonOverlappingWindows()
    {
        string dir = MakeModelDir();
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 30)));
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", Path.Combine(dir, "tokenizer.json"), "--input", text, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        (code, _, console) = CliRunner.Run("eval", "--model", dir, "--data", Path.Combine(dir, "shards"), "--batch-size", "2");
        Assert.True(code == 0, console);
        var match = System.Text.RegularExpressions.Regex.Match(console, @"loss (\d+\.\d+)\s+perplexity (\d+\.\d+)\s+\((\d+) batches of 2×32");
        Assert.True(match.Success, console);
        double loss = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double perplexity = double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        int batches = int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);

        // Reference: the shard's tokens cut into windows of B·T inputs with next-token targets, the
        // cross-entropy of each position computed here in double from the model's logits.
        var tokens = new List<int>();
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "shards"), "*.bin").Order(StringComparer.Ordinal))
        {
            using var shard = Loom.Tokenizers.Shards.TokenShard.Open(f);
            var buf = new int[shard.Count];
            shard.CopyTo(0, buf);
            tokens.AddRange(buf);
        }
        using var model = Loom.Models.CausalLanguageModels.Load(dir);
        const int B = 2, T = 32;
        int V = model.VocabularySize;
        double sum = 0;
        int windows = 0;
        for (int start = 0; start + B * T + 1 <= tokens.Count; start += B * T, windows++)
        {
            model.Forward(tokens.GetRange(start, B * T).ToArray(), default, B, T);
            var logits = model.Logits;
            double batchLoss = 0;
            for (int p = 0; p < B * T; p++)
            {
                var row = logits.Slice(p * V, V);
                double max = double.NegativeInfinity, z = 0;
                for (int v = 0; v < V; v++) max = Math.Max(max, row[v]);
                for (int v = 0; v < V; v++) z += Math.Exp(row[v] - max);
                batchLoss += Math.Log(z) + max - row[tokens[start + p + 1]];
            }
            sum += batchLoss / (B * T);
        }
        Assert.True(windows >= 2, $"the test text should span several batches; it gave {windows}");
        Assert.Equal(windows, batches);
        Assert.Equal(sum / windows, loss, 3);
        Assert.Equal(Math.Exp(sum / windows), perplexity, 1);
    }

    [Fact]
    public void MissingModelFilesAreNamed()
    {
        var (code, _, console) = CliRunner.Run("generate", "--model", CliRunner.TempDir(), "--prompt", "x");
        Assert.Equal(1, code);
        Assert.Contains("config.json", console);
    }

    // Text tokenized into a shard set in dir/shards with the model's own tokenizer.
    private static string ShardsFor(string dir, string tokenizer)
    {
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 40)));
        string shards = Path.Combine(dir, "shards-" + Path.GetFileName(tokenizer));
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", tokenizer, "--input", text, "--output", shards);
        Assert.True(code == 0, console);
        return shards;
    }

    [Fact]
    public void EvalRefusesShardsOfAnotherTokenizerNamingBoth()
    {
        // Before, gpt2 ids were read as ids of the model's 300-id tokenizer... as long as they fit; a
        // tokenizer of the same size but other merges gave a meaningless loss and exit 0.
        string dir = MakeModelDir();
        string other = CliRunner.TempDir();
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("a different corpus gives different merges entirely.\n", 50))],
            new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(other, "tokenizer.json"), bpe.Merges);
        string shards = ShardsFor(other, Path.Combine(other, "tokenizer.json"));

        var (code, _, console) = CliRunner.Run("eval", "--model", dir, "--data", shards, "--batch-size", "1");
        Assert.Equal(1, code);
        Assert.Contains(Path.GetFileName(other), console);          // the shards' tokenizer, by name
        Assert.Contains(dir, console);                              // the model whose tokenizer it is not
        Assert.Contains("fingerprint", console);
        Assert.DoesNotContain("   at ", console);

        (code, _, console) = CliRunner.Run("eval", "--model", dir, "--data", ShardsFor(dir, Path.Combine(dir, "tokenizer.json")), "--batch-size", "1");
        Assert.True(code == 0, console);
    }

    [Fact]
    public void EvalReadsOnlyTheShardsTheManifestListsAndRefusesAFolderWithoutOne()
    {
        string dir = MakeModelDir();
        string shards = ShardsFor(dir, Path.Combine(dir, "tokenizer.json"));
        var (code, _, clean) = CliRunner.Run("eval", "--model", dir, "--data", shards, "--batch-size", "1");
        Assert.True(code == 0, clean);
        // A stale shard from an earlier, longer run: the loss must not move.
        File.Copy(Path.Combine(shards, "shard_00000.bin"), Path.Combine(shards, "shard_00001.bin"));
        var (code2, _, withStale) = CliRunner.Run("eval", "--model", dir, "--data", shards, "--batch-size", "1");
        Assert.True(code2 == 0, withStale);
        Assert.Equal(clean, withStale);

        File.Delete(Path.Combine(shards, "manifest.json"));
        var (code3, _, console) = CliRunner.Run("eval", "--model", dir, "--data", shards);
        Assert.Equal(1, code3);
        Assert.Contains("manifest.json", console);
        Assert.Contains("loom tokenize", console);

        // A single shard file given explicitly still works.
        var (code4, _, single) = CliRunner.Run("eval", "--model", dir, "--data", Path.Combine(shards, "shard_00000.bin"), "--batch-size", "1");
        Assert.True(code4 == 0, single);
        Assert.Equal(clean, single);
    }

    [Theory]
    [InlineData("--max-batches", "-1")]
    [InlineData("--batch-size", "0")]
    [InlineData("--batch-size", "-4")]
    public void EvalOptionsAreNamed(string option, string value)
    {
        string dir = MakeModelDir();
        string shards = ShardsFor(dir, Path.Combine(dir, "tokenizer.json"));
        var (code, _, console) = CliRunner.Run("eval", "--model", dir, "--data", shards, option, value);
        Assert.Equal(1, code);
        Assert.Contains(option + " must", console);
        Assert.Contains(value, console);
        Assert.DoesNotContain("   at ", console);
    }
}
