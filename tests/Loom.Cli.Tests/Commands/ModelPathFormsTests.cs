// Every on-disk model form opens through the one seam (Loom.Models' ModelFormats, consulted by
// CausalLanguageModels.Load): a low-rank directory (`loom compress lowrank`) is served by `loom serve`'s
// server and engine with the same greedy text `loom generate` prints, and `loom eval perplexity` scores a
// low-rank and a quantized directory. References: `loom generate` on the same directory (the task's
// definition of "opens"); for perplexity, the library's SlidingWindowPerplexity on the model opened with
// the owning assembly's own loader (LowRankModels.Load, QuantizedModels.Load), and the dense model's
// perplexity, which the factored model must differ from (it is not silently loading dense weights) and
// which q8_0 must stay within 1% of (8-bit weights, one fp16 scale per 32: error ≈ 0.4% of each weight).
using System.Text;
using System.Text.Json;
using Loom.Compression.LowRank;
using Loom.Evaluation.Perplexity;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Models.Quantization;
using Loom.Serving.Hosting;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class ModelPathFormsTests
{
    private const string Text = "to be or not to be, that is the question. whether tis nobler in the mind to suffer.\n";

    // A tiny GPT-2 (n_embd 32, so q8_0's 32-weight blocks tile every row) with its tokenizer.
    private static (string Dir, string Model) MakeModel()
    {
        string dir = CliRunner.TempDir(), model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat(Text, 50))], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(model, "tokenizer.json"), bpe.Merges);
        using (var m = new Gpt2Model(new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 32, Layers = 2, Heads = 2 }))
        {
            m.InitializeWeights(4);
            m.Save(model);
        }
        return (dir, model);
    }

    [Fact]
    public async Task ServeOpensALowRankDirectoryAndGivesGeneratesGreedyText()
    {
        var (dir, model) = MakeModel();
        try
        {
            string lowRank = Path.Combine(dir, "lowrank");
            var c = CliRunner.Run("compress", "lowrank", "--model", model, "--rank", "4", "--output", lowRank);
            Assert.True(c.Code == 0, c.Console);
            var (code, generated, console) = CliRunner.Run("generate", "--model", lowRank, "--prompt", "to be", "--max-new-tokens", "8", "--temperature", "0");
            Assert.True(code == 0, console);
            Assert.NotEmpty(generated.Trim());
            // LoomServer.Create is what `loom serve` runs; the engine inside is what `loom batch` and `eval harness` use.
            LowRankModels.Register();
            await using var server = LoomServer.Create(new ServerOptions { ModelDirectory = lowRank, Port = 0 });
            var served = await server.Engine.GenerateAsync(new GenerationRequest("to be", new SamplingOptions { MaxNewTokens = 8, Temperature = 0 }));
            Assert.Equal(generated.TrimEnd('\n', '\r'), served.Text);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EvalPerplexityScoresLowRankAndQuantizedDirectories()
    {
        var (dir, model) = MakeModel();
        try
        {
            string text = string.Concat(Enumerable.Repeat(Text, 4)), file = Path.Combine(dir, "text.txt");
            File.WriteAllText(file, text, new UTF8Encoding(false));
            string lowRank = Path.Combine(dir, "lowrank"), q8 = Path.Combine(dir, "q8_0");
            Assert.Equal(0, CliRunner.Run("compress", "lowrank", "--model", model, "--rank", "4", "--output", lowRank).Code);
            Assert.Equal(0, CliRunner.Run("quantize", "--model", model, "--type", "q8_0", "--output", q8).Code);

            var ids = TokenizerLoader.Load(model).EncodeOrdinary(text);
            var options = new PerplexityOptions { Context = 16, Stride = 8 };
            double Reference(ICausalLanguageModel m) { using (m) return SlidingWindowPerplexity.Evaluate(m, ids, options).Perplexity; }
            double Command(string path)
            {
                var (code, output, console) = CliRunner.Run("eval", "perplexity", "--model", path, "--input", file, "--context", "16", "--stride", "8");
                Assert.True(code == 0, console);
                return JsonDocument.Parse(output).RootElement.GetProperty("perplexity").GetDouble();
            }
            double dense = Reference(CausalLanguageModels.Load(model, ModelOptions.Inference));
            double lowRankExpected = Reference(LowRankModels.Load(lowRank, ModelOptions.Inference));
            double q8Expected = Reference(QuantizedModels.Load(q8, ModelOptions.Inference));

            double lowRankPpl = Command(lowRank), q8Ppl = Command(q8);
            Near(lowRankExpected, lowRankPpl);
            Near(q8Expected, q8Ppl);
            Assert.True(Math.Abs(lowRankPpl - dense) > 1e-4 * dense, $"rank-4 perplexity {lowRankPpl} equals the dense model's {dense}: the factors were not used");
            Assert.True(Math.Abs(q8Ppl - dense) < 0.01 * dense, $"q8_0 perplexity {q8Ppl} is not within 1% of the f32 model's {dense}");
        }
        finally { Directory.Delete(dir, true); }
    }

    // The command batches windows; the reference scores one at a time: float rounding differs by ~1e-7 relative.
    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");
}
