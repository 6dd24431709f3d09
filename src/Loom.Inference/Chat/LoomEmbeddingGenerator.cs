// Microsoft.Extensions.AI's IEmbeddingGenerator in-process: a text's embedding is the mean over its
// tokens of the model's last hidden states (after the final norm), as the server's /v1/embeddings
// does for causal models. The forward runs on the engine's model thread between decode steps, so
// embeddings and generation share one model safely. Asks for the body through the IHiddenStateModel
// capability, not a family.
using Loom.Inference.Engine;
using Loom.Models;
using Loom.Tokenizers;
using Microsoft.Extensions.AI;

namespace Loom.Inference.Chat;

/// <summary>Mean-pooled last hidden states as embeddings.</summary>
public sealed class LoomEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly InferenceEngine _engine;
    private readonly EmbeddingGeneratorMetadata _metadata;

    public LoomEmbeddingGenerator(InferenceEngine engine, string modelId)
    {
        if (engine.Model is not IHiddenStateModel body)
            throw new NotSupportedException($"{CausalLanguageModels.Describe(engine.Model.Configuration)} exposes no hidden states (IHiddenStateModel); it cannot embed.");
        _engine = engine;
        _metadata = new EmbeddingGeneratorMetadata("loom", null, modelId, body.HiddenSize);
    }

    /// <summary>The mean of the last hidden states of <paramref name="text"/>'s tokens, (hidden_size).</summary>
    public Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken = default)
    {
        int[] ids = _engine.Tokenizer.Encode(text, SpecialTokenPolicy.PlainText);
        if (ids.Length == 0) throw new ArgumentException("The input is empty (no tokens); an embedding needs at least one token.");
        if (ids.Length > _engine.ContextLength)
            throw new ArgumentException($"The input has {ids.Length} tokens; the model's context is {_engine.ContextLength}. Shorten it.");
        return _engine.InvokeAsync(model =>
        {
            var body = (IHiddenStateModel)model;
            var hidden = body.ForwardHidden(new TokenBatch(ids, 1, ids.Length));
            int C = body.HiddenSize;
            var mean = new double[C];
            for (int t = 0; t < ids.Length; t++)
                for (int c = 0; c < C; c++) mean[c] += hidden[t * C + c];
            return mean.Select(m => (float)(m / ids.Length)).ToArray();
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        long tokens = 0;
        foreach (var text in values)
        {
            tokens += _engine.Tokenizer.Encode(text, SpecialTokenPolicy.PlainText).Length;
            result.Add(new Embedding<float>(await EmbedAsync(text, cancellationToken).ConfigureAwait(false)) { ModelId = _metadata.DefaultModelId });
        }
        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey != null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }
}
