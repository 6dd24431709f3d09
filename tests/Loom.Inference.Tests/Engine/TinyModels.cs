// Tiny random GPT-2 and Llama models with a BPE tokenizer trained on a few lines, for engine tests,
// and the references the engine is checked against: the full forward pass recomputed over the whole
// sequence for every token (no cache, no batching).
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Tokenizers;
using Loom.Tokenizers.Trainer;

namespace Loom.Inference.Tests.Engine;

internal static class TinyModels
{
    public const string Text = "the cat sat on the mat.\nthe dog sat on the log.\nwhere is the cat? the cat is on the mat, said the dog.\n";

    private static BpeTrainingResult? s_bpe;
    public static BpeTrainingResult Bpe => s_bpe ??= BpeTrainer.Train([Text], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
    public static BpeTokenizer Tokenizer => Bpe.Tokenizer;

    public static ICausalLanguageModel Create(string family, int context = 48, int seed = 3, bool sharpen = true)
    {
        int V = Tokenizer.VocabularySize;
        ICausalLanguageModel m = family == "gpt2"
            ? new Gpt2Model(new Gpt2Config { VocabSize = V, MaxPositions = context, Embedding = 32, Layers = 2, Heads = 4 }, ModelOptions.Inference)
            : new LlamaModel(new LlamaConfig { VocabSize = V, HiddenSize = 32, IntermediateSize = 48, Layers = 2, Heads = 4, KeyValueHeads = 2, MaxPositions = context }, ModelOptions.Inference);
        m.InitializeWeights(seed);
        // Random weights of std 0.02 give nearly flat logits; sharper ones make greedy and sampled text differ visibly.
        var p = m.Parameters;
        if (sharpen)
        for (int i = 0; i < p.Specs.Count; i++)
            if (p.Specs[i].Shape.Length == 2) { var v = p.Value(i); for (int j = 0; j < v.Length; j++) v[j] *= 25f; }
        return m;
    }

    /// <summary>Next-token logits after <paramref name="ids"/>, by the full forward over the whole sequence.</summary>
    public static float[] FullLogits(ICausalLanguageModel model, IReadOnlyList<int> ids)
    {
        model.Forward(ids.ToArray(), default, 1, ids.Count);
        int V = model.VocabularySize;
        return model.Logits.Slice((ids.Count - 1) * V, V).ToArray();
    }

    public static int ArgMax(float[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
