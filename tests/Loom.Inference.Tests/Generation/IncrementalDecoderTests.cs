// TextGenerator picks the KV-cache path by capability (IIncrementalDecoder), not by family: any model
// offering it is decoded one position at a time, and one that does not is recomputed over the window.
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Parameters;
using Loom.Tokenizers.Trainer;

namespace Loom.Inference.Tests.Generation;

public class IncrementalDecoderTests
{
    // A model of no known family: it delegates to GPT-2 and counts which path the generator used.
    private class Wrapper(Gpt2Model inner) : ICausalLanguageModel
    {
        protected Gpt2Model Inner => inner;
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

    private sealed class DecodingWrapper(Gpt2Model model) : Wrapper(model), IIncrementalDecoder
    {
        public int Decodes;
        public IDecoderCache CreateDecoderCache(int? capacity = null) => Inner.CreateDecoderCache(capacity);
        public ReadOnlySpan<float> DecodeNext(IDecoderCache cache, int token) { Decodes++; return Inner.DecodeNext(cache, token); }
    }

    [Fact]
    public void AModelOfferingIncrementalDecodingIsDecodedThroughItsCacheWithTheSameText()
    {
        var bpe = BpeTrainer.Train(["the cat sat on the mat.\nthe dog sat on the log.\n"], new BpeTrainerOptions { VocabularySize = 280, MinFrequency = 1 });
        var config = new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 2, Heads = 2 };
        var options = new SamplingOptions { MaxNewTokens = 12, Temperature = 0f };
        Gpt2Model Make() { var m = new Gpt2Model(config, ModelOptions.Inference); m.InitializeWeights(5); return m; }

        using var cached = new DecodingWrapper(Make());
        string viaCache = string.Concat(new TextGenerator(cached, bpe.Tokenizer).Generate("the dog", options));
        Assert.True(cached.Decodes > 0);
        Assert.Equal(0, cached.Forwards);

        using var plain = new Wrapper(Make());
        string viaRecompute = string.Concat(new TextGenerator(plain, bpe.Tokenizer).Generate("the dog", options));
        Assert.True(plain.Forwards > 0);
        Assert.NotEmpty(viaRecompute);
        Assert.Equal(viaRecompute, viaCache);
    }
}
