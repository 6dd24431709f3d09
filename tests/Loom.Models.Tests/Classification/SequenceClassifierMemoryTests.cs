// What a sequence classifier costs in native memory (issue 12: the 2-layer, 64-wide SMS example
// peaked at 2.35 GB because its GPT-2 body planned B·T·V logits it never used). The bounds are
// counted here from each family's architecture (HF's module tree: tensor shapes of GPT2Model,
// LlamaModel, BertModel + pooler, and the score/classifier head), not read from the code under test:
//   live ≤ 4·(values + gradients of trainable tensors) + the body's activations + 4·B·num_labels,
// where the body's activations are bounded by what the same family's LM plans at (B, T) minus its
// (B, T, V) logits; and live < what the LM model of the same config allocates.
// NativeBuffer.LiveBytes is process-wide, so these tests run alone (the collection below).
using Loom.Core.Tensors;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Models.Llama;

namespace Loom.Models.Tests.Classification;

[CollectionDefinition(nameof(NativeMemoryCollection), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

[Collection(nameof(NativeMemoryCollection))]
public class SequenceClassifierMemoryTests
{
    private const int B = 4, T = 16, N = 3, V = 1000, C = 32, L = 2, P = 64, I = 64;

    private static object Config(string family) => family switch
    {
        "gpt2" => new Gpt2Config { VocabSize = V, MaxPositions = P, Embedding = C, Layers = L, Heads = 4 },
        "llama" => new LlamaConfig { VocabSize = V, MaxPositions = P, HiddenSize = C, IntermediateSize = I, Layers = L, Heads = 4, KeyValueHeads = 2 },
        _ => new BertConfig { VocabSize = V, MaxPositions = P, HiddenSize = C, IntermediateSize = I, Layers = L, Heads = 4 },
    };

    // Parameter floats of each *ForSequenceClassification, from HF's module shapes (no LM head).
    private static long ClassifierFloats(string family)
    {
        switch (family)
        {
            case "gpt2":
                // wte, wpe; per block ln_1, c_attn (C, 3C)+3C, c_proj (C, C)+C, ln_2, c_fc (C, 4C)+4C, c_proj (4C, C)+C; ln_f; score (N, C)
                return (long)V * C + P * C + L * (2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C)) + 2 * C + N * C;
            case "llama":
                // embed_tokens; per layer two RMSNorms, q (C, C), k and v (KV, C), o (C, C), gate/up (I, C), down (C, I); norm; score (N, C)
                int kv = 2 * (C / 4);
                return (long)V * C + L * (2 * C + C * C + 2 * kv * C + C * C + 3 * C * I) + C + N * C;
            default:
                // word, position, token type (2) embeddings, LayerNorm; per layer q/k/v/o (C, C)+C, LN, intermediate (I, C)+I,
                // output (C, I)+C, LN; pooler (C, C)+C; classifier (N, C)+N
                return (long)V * C + P * C + 2 * C + 2 * C + L * (4 * (C * C + C) + 2 * C + (I * C + I) + (C * I + C) + 2 * C) + (C * C + C) + (N * C + N);
        }
    }

    private static readonly int[] Ids = Enumerable.Range(0, B * T).Select(i => 1 + i * 7 % (V - 1)).ToArray();

    private static long ClassifierLiveBytes(string family, out ISequenceClassificationModel model)
    {
        long before = NativeBuffer.LiveBytes;
        model = SequenceClassifiers.Create(Config(family), new SequenceClassifierOptions { NumLabels = N, PadTokenId = 0, Seed = 1 });
        model.Forward(new TokenBatch(Ids, B, T), ClassificationLabels.FromClasses([0, 1, 2, 1]));
        model.Backward();
        return NativeBuffer.LiveBytes - before;
    }

    // The language model of the same config after one training step at (B, T).
    private static long LanguageModelLiveBytes(string family)
    {
        long before = NativeBuffer.LiveBytes;
        var targets = Ids.Select((id, i) => i % 5 == 0 ? id : -100).ToArray();
        ILanguageModel lm = family switch
        {
            "gpt2" => new Gpt2Model((Gpt2Config)Config(family)),
            "llama" => new LlamaModel((LlamaConfig)Config(family)),
            _ => new BertForMaskedLM((BertConfig)Config(family)),
        };
        using (lm)
        {
            lm.Forward(Ids, targets, B, T);
            lm.Backward();
            return NativeBuffer.LiveBytes - before;
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("bert")]
    public void AClassifierAllocatesNoLanguageModelHeadAndNoLogits(string family)
    {
        LanguageModelLiveBytes(family);   // warm-up: lazily created kernel scratch is not the model's
        long lmLive = LanguageModelLiveBytes(family);
        long live = ClassifierLiveBytes(family, out var model);
        using (model)
        {
            var p = model.Parameters;
            Assert.DoesNotContain(p.Specs, s => s.Name == "lm_head.weight" || s.Name.StartsWith("cls.", StringComparison.Ordinal));
            long floats = ClassifierFloats(family);
            long padding = 15L * p.Specs.Count;   // each tensor starts 64-byte aligned
            Assert.InRange(p.Floats, floats, floats + padding);

            // The LM's step holds its parameters and gradients (Llama: plus lm_head (V, C); BERT: plus
            // cls.predictions: transform (C, C)+C, LayerNorm 2C, bias V) and (B, T, V) logits.
            long lmHeadFloats = family switch { "llama" => (long)V * C, "bert" => C * C + C + 2 * C + V, _ => 0 };
            long logits = 4L * B * T * V;
            long classifierHead = family == "bert" ? N * C + N : N * C;
            long lmValues = floats - classifierHead + lmHeadFloats;
            long lmGradients = lmValues - (family == "bert" ? C * C + C : 0);   // BertForMaskedLM freezes the pooler it has no use for
            long bodyActivationsBound = lmLive - 4 * (lmValues + lmGradients) - logits;
            long bound = 4 * 2 * (floats + padding) + bodyActivationsBound + 4L * B * N;
            Assert.True(live <= bound, $"{family}: the classifier holds {live:N0} native bytes; its parameters, gradients and body activations allow {bound:N0}.");
            Assert.True(live < lmLive, $"{family}: the classifier holds {live:N0} bytes, the LM {lmLive:N0}.");
            // What it saves is at least the logits, less what its own head adds (values and gradients).
            Assert.True(live <= lmLive - logits + 4 * 2 * (classifierHead + 30), $"{family}: the classifier holds {live:N0} bytes, the LM {lmLive:N0} (of which logits {logits:N0}).");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AClassifierAllocatesLessThanTheLanguageModelPlans(string family)
    {
        var cfg = Config(family);
        var plan = Loom.Models.Families.ModelFamilies.ForConfiguration(cfg)!.PlanMemory!(cfg, B, T, false);
        long live = ClassifierLiveBytes(family, out var model);
        model.Dispose();
        // The LM plans values + gradients + activations; the classifier allocates less by at least the
        // logits, less its own head (score (N, C), values and gradients, each padded to 16 floats).
        double lm = 2 * plan.ParameterBytes + plan.ActivationBytes;
        Assert.True(live < lm, $"{family}: the classifier holds {live:N0} native bytes; the LM plans {lm:N0}.");
        Assert.True(live <= lm - 4.0 * B * T * V + 4 * 2 * (N * C + 15),
            $"{family}: the classifier holds {live:N0} native bytes; the LM plans {lm:N0}, of which logits {4.0 * B * T * V:N0}.");
    }

    [Fact]
    public void AnInferenceClassifierAllocatesOnlyItsValuesAndActivationsWithoutLogits()
    {
        long before = NativeBuffer.LiveBytes;
        using var model = SequenceClassifiers.Create(Config("gpt2"), new SequenceClassifierOptions { NumLabels = N, PadTokenId = 0 }, ModelOptions.Inference);
        long afterBuild = NativeBuffer.LiveBytes - before;
        long floats = ClassifierFloats("gpt2");
        Assert.InRange(afterBuild, 4 * floats, 4 * (floats + 15L * model.Parameters.Specs.Count));
        model.Forward(new TokenBatch(Ids, B, T), default);
        long activations = NativeBuffer.LiveBytes - before - afterBuild;
        var plan = Gpt2Model.PlanMemory((Gpt2Config)Config("gpt2"), B, T, false);
        Assert.True(activations <= plan.ActivationBytes - 4.0 * B * T * V,
            $"forward activations {activations:N0} bytes; the LM plans {plan.ActivationBytes:N0}, of which logits {4.0 * B * T * V:N0}.");
    }
}
