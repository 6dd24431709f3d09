// A failing model call (a bug, or memory running out inside a kernel) fails only the requests of that
// step — their readers get the exception — frees their blocks, and the engine keeps serving.
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Paged;
using Loom.Models.Parameters;

namespace Loom.Inference.Tests.Engine;

public class EngineFaultTests
{
    private sealed class Faulty(ICausalLanguageModel inner) : ICausalLanguageModel, IBatchedDecoder
    {
        public volatile bool Fail;
        public object Configuration => inner.Configuration;
        public int VocabularySize => inner.VocabularySize;
        public int ContextLength => inner.ContextLength;
        public ParameterSet Parameters => inner.Parameters;
        public bool ActivationCheckpointing { get => false; set { } }
        public KvCacheShape KvShape => ((IBatchedDecoder)inner).KvShape;
        public void InitializeWeights(int seed) => inner.InitializeWeights(seed);
        public void LoadWeights(SafetensorsFile file, string prefix = "") => inner.LoadWeights(file, prefix);
        public void Save(string directory) => inner.Save(directory);
        public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time) => inner.Forward(ids, targets, batch, time);
        public void Backward(float lossScale = 1) => inner.Backward(lossScale);
        public ReadOnlySpan<float> Logits => inner.Logits;
        public void ForwardPaged(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> counts, Span<float> logits)
        {
            if (Fail) throw new InsufficientExecutionStackException("injected fault");
            ((IBatchedDecoder)inner).ForwardPaged(sequences, tokens, counts, logits);
        }
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task AFailingStepFailsItsRequestsAndTheEngineCarriesOn()
    {
        var model = new Faulty(TinyModels.Create("gpt2"));
        using var engine = new InferenceEngine(model, TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        var before = await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 8 }));
        model.Fail = true;
        var ex = await Assert.ThrowsAsync<InsufficientExecutionStackException>(() => engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 8, N = 2 })));
        Assert.Contains("injected", ex.Message);
        await EngineIdle.WaitAsync(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        model.Fail = false;
        var after = await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 8 }));
        Assert.Equal(before.Choices[0].TokenIds, after.Choices[0].TokenIds);
        await EngineIdle.WaitAsync(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }
}
