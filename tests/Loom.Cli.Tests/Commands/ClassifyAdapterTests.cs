// `loom classify --adapter DIR`: a LoRA adapter in PEFT's layout applied through the projection seam to
// a sequence classifier. An adapter whose B is zero changes nothing (the output equals the classifier
// alone, exactly); one with a non-zero B changes the probabilities; an adapter for another model size is
// refused naming the adapter file.
using System.Text.Json.Nodes;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class ClassifyAdapterTests
{
    private static readonly LoraOptions Lora = new() { Rank = 2, Alpha = 4, TargetModules = ["c_attn"] };

    private static string Adapter(Gpt2Config config, string dir, float b)
    {
        using var m = new Gpt2Model(config, LoraAdapters.CreateModelOptions(Lora, config));
        LoraAdapters.InitializeAdapter(m.Parameters, 3);
        foreach (var (s, i) in m.Parameters.Specs.Select((s, i) => (s, i)))
            if (s.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal)) m.Parameters.Value(i).Fill(b);
        LoraAdapters.Save(m.Parameters, config, Lora, dir);
        return dir;
    }

    [Fact]
    public void TheAdapterIsAppliedToTheClassifiersProjections()
    {
        string root = CliRunner.TempDir(), model = Path.Combine(root, "clf");
        Directory.CreateDirectory(model);
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("a good movie, a bad movie.\n", 40))], new BpeTrainerOptions { VocabularySize = 280, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(model, "tokenizer.json"), bpe.Merges);
        var config = new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 };
        using (var clf = SequenceClassifiers.Create(config, new SequenceClassifierOptions { Labels = ["neg", "pos"], PadTokenId = 0 }))
        {
            var rng = new Random(5);
            for (int i = 0; i < clf.Parameters.Specs.Count; i++)
            {
                var v = clf.Parameters.Value(i);
                for (int k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() - 0.5) * 0.4f;
            }
            clf.Save(model);
        }
        string input = Path.Combine(root, "in.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"a good movie\"}", "{\"text\": \"a bad movie\"}"]);
        string Classify(params string[] more)
        {
            var (code, output, console) = CliRunner.Run(["classify", "--model", model, "--input", input, .. more]);
            Assert.True(code == 0, console);
            return output;
        }
        string plain = Classify();
        Assert.Equal(plain, Classify("--adapter", Adapter(config, Path.Combine(root, "zero"), 0f)));
        string adapted = Classify("--adapter", Adapter(config, Path.Combine(root, "nonzero"), 0.5f));
        Assert.NotEqual(plain, adapted);
        Assert.Equal(2, adapted.Trim().Split('\n').Length);

        var other = config with { Embedding = 32 };
        var (bcode, _, bconsole) = CliRunner.Run("classify", "--model", model, "--input", input, "--adapter", Adapter(other, Path.Combine(root, "other"), 0.5f));
        Assert.Equal(1, bcode);
        Assert.Contains("adapter_model.safetensors", bconsole);
        Assert.DoesNotContain("   at ", bconsole);
    }
}
