// LoRA through the trainer's optimizer: a sequence classifier with LoRA on its attention and the
// head in modules_to_save (PEFT's SEQ_CLS recipe). AdamW holds moments for A, B and the head only,
// and two steps change those tensors and leave every base tensor bit-identical.
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;

namespace Loom.Training.Tests.Adapters;

public class LoraStepTests
{
    public static TheoryData<string> Families => new() { "gpt2", "bert" };

    private static object Config(string family) => family == "gpt2"
        ? new Gpt2Config { VocabSize = 40, MaxPositions = 8, Embedding = 16, Layers = 2, Heads = 2 }
        : new BertConfig { VocabSize = 40, MaxPositions = 8, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 32 };

    [Theory]
    [MemberData(nameof(Families))]
    public void AdamWMomentsAndUpdatesAreOnlyForTheAdapterAndTheSavedHead(string family)
    {
        string head = family == "gpt2" ? "score" : "classifier";
        var lora = new LoraOptions { Rank = 2, Alpha = 4, TargetModules = [family == "gpt2" ? "c_attn" : "query"], ModulesToSave = [head], TaskType = "SEQ_CLS" };
        var config = Config(family);
        using var model = SequenceClassifiers.Create(config, new SequenceClassifierOptions { NumLabels = 3, PadTokenId = 0, Seed = 5 }, LoraAdapters.CreateModelOptions(lora, config));
        var p = model.Parameters;
        LoraAdapters.InitializeAdapter(p, seed: 3);
        bool Adapter(string n) => n.Contains(".lora_", StringComparison.Ordinal) || n.StartsWith(head + ".", StringComparison.Ordinal);
        Assert.Equal(p.Specs.Where(s => Adapter(s.Name)).Select(s => s.Name), p.Specs.Where(s => s.IsTrainable).Select(s => s.Name));
        Assert.Equal(4, p.Specs.Count(s => s.Name.Contains(".lora_", StringComparison.Ordinal)));

        using var optimizer = new AdamWOptimizer(p, new AdamWOptions { WeightDecay = 0.1f });
        Assert.Equal(p.Specs.Where(s => Adapter(s.Name)).Sum(s => (s.Count + 15) & ~15L), optimizer.FirstMoment.Length);
        float[] before = p.AllValues.ToArray();
        int[] ids = [5, 6, 7, 8, 9, 0, 0, 0, 11, 12, 13, 14, 15, 16, 17, 18];
        var batch = new TokenBatch(ids, 2, 8) { AttentionMask = ids.Select((id, i) => i < 8 && i >= 5 ? 0 : 1).ToArray() };
        for (int step = 0; step < 2; step++)
        {
            p.ZeroGradients();
            model.Forward(batch, ClassificationLabels.FromClasses([2, 0]));
            model.Backward();
            optimizer.Update(1e-2f);
        }
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var s = p.Specs[i];
            var was = before.AsSpan(checked((int)s.Offset), checked((int)s.Count)).ToArray();
            if (Adapter(s.Name)) Assert.NotEqual(was, p.Value(i).ToArray());
            else Assert.Equal(was, p.Value(i).ToArray());
        }

        // PEFT's names for a *ForSequenceClassification: body modules under the HF body prefix, the head at the top.
        string dir = Directory.CreateTempSubdirectory("loom-lora-cls-").FullName;
        try
        {
            LoraAdapters.Save(p, config, lora, dir);
            using var file = Loom.Models.Formats.SafetensorsFile.Open(Path.Combine(dir, LoraAdapters.WeightsFileName));
            string body = family == "gpt2" ? "base_model.model.transformer.h.0.attn.c_attn" : "base_model.model.bert.encoder.layer.0.attention.self.query";
            Assert.Contains(body + ".lora_A.weight", file.Tensors.Keys);
            Assert.Contains($"base_model.model.{head}.weight", file.Tensors.Keys);
            // Read back into a fresh classifier: the adapter and the head come back.
            var (options, read) = LoraAdapters.Apply(ModelOptions.Inference, config, dir);
            using var again = SequenceClassifiers.Create(config, new SequenceClassifierOptions { NumLabels = 3, PadTokenId = 0, Seed = 6 }, options);
            LoraAdapters.LoadInto(again.Parameters, config, read, dir);
            foreach (var s in p.Specs.Where(s => Adapter(s.Name)))
                Assert.Equal(p.Value(p.IndexOf(s.Name)).ToArray(), again.Parameters.Value(again.Parameters.IndexOf(s.Name)).ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
