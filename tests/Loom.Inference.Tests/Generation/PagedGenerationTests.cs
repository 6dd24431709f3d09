// TextGenerator picks the paged KV cache by capability (IBatchedDecoder) for Llama: its text equals
// the recomputing path's (the full forward over the window for every token), also past the context
// window where the cache is re-primed with the recent half window.
using Loom.Inference.Generation;
using Loom.Inference.Tests.Engine;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Inference.Tests.Generation;

public class PagedGenerationTests
{
    // Hides every capability of the model it wraps: only the full forward is left.
    private sealed class Plain(ICausalLanguageModel inner) : ICausalLanguageModel
    {
        public int Forwards;
        public object Configuration => inner.Configuration;
        public int VocabularySize => inner.VocabularySize;
        public int ContextLength => inner.ContextLength;
        public ParameterSet Parameters => inner.Parameters;
        public bool ActivationCheckpointing { get => false; set { } }
        public void InitializeWeights(int seed) => inner.InitializeWeights(seed);
        public void LoadWeights(SafetensorsFile file, string prefix = "") => inner.LoadWeights(file, prefix);
        public void Save(string directory) => inner.Save(directory);
        public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time) { Forwards++; return inner.Forward(ids, targets, batch, time); }
        public void Backward(float lossScale = 1) => inner.Backward(lossScale);
        public ReadOnlySpan<float> Logits => inner.Logits;
        public void Dispose() => inner.Dispose();
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]   // past the 16-position window: re-primed
    public void LlamaThroughThePagedCacheWritesWhatTheRecomputingPathWrites(int maxNew)
    {
        var options = new SamplingOptions { MaxNewTokens = maxNew, Temperature = 0.8f, Seed = 2 };
        using var paged = TinyModels.Create("llama", context: 16);
        Assert.IsAssignableFrom<IBatchedDecoder>(paged);
        string viaPaged = string.Concat(new TextGenerator(paged, TinyModels.Tokenizer).Generate("the cat sat", options));
        using var plain = new Plain(TinyModels.Create("llama", context: 16));
        string viaRecompute = string.Concat(new TextGenerator(plain, TinyModels.Tokenizer).Generate("the cat sat", options));
        Assert.True(plain.Forwards > 0);
        Assert.NotEmpty(viaPaged);
        Assert.Equal(viaRecompute, viaPaged);
    }
}
