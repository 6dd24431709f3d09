// Microsoft.Extensions.AI's IChatClient in-process over an InferenceEngine: the conversation is
// rendered by an IChatFormatter (ChatML unless the model brings its own template), generated with
// continuous batching alongside every other request, and mapped back to ChatResponse /
// ChatResponseUpdate with finish reason and usage. ChatOptions map to SamplingOptions (temperature,
// top_p, top_k, max output tokens, penalties, seed, stop sequences); a cancelled token throws
// OperationCanceledException, as IChatClient callers expect.
using System.Runtime.CompilerServices;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Microsoft.Extensions.AI;

namespace Loom.Inference.Chat;

/// <summary>An <see cref="IChatClient"/> backed by a local <see cref="InferenceEngine"/>.</summary>
public sealed class LoomChatClient : IChatClient
{
    private readonly InferenceEngine _engine;
    private readonly IChatFormatter _formatter;
    private readonly bool _ownsEngine;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Default settings when a call passes no options (greedy, 256 tokens).</summary>
    public SamplingOptions Defaults { get; init; } = new() { MaxNewTokens = 256 };

    /// <param name="engine">The engine that runs the model.</param>
    /// <param name="modelId">The model's name in responses.</param>
    /// <param name="formatter">The chat template (default ChatML).</param>
    /// <param name="ownsEngine">Dispose the engine with the client.</param>
    public LoomChatClient(InferenceEngine engine, string modelId, IChatFormatter? formatter = null, bool ownsEngine = false)
    {
        _engine = engine;
        _formatter = formatter ?? ChatMLFormatter.Instance;
        _ownsEngine = ownsEngine;
        _metadata = new ChatClientMetadata("loom", null, modelId);
    }

    /// <summary>The sampling settings a call with <paramref name="options"/> runs with.</summary>
    public SamplingOptions ToSampling(ChatOptions? options)
    {
        var s = Defaults;
        if (options == null) return s with { StopSequences = [.. s.StopSequences, .. _formatter.StopSequences] };
        return s with
        {
            Temperature = options.Temperature ?? s.Temperature,
            TopP = options.TopP ?? s.TopP,
            TopK = options.TopK ?? s.TopK,
            MaxNewTokens = options.MaxOutputTokens ?? s.MaxNewTokens,
            PresencePenalty = options.PresencePenalty ?? s.PresencePenalty,
            FrequencyPenalty = options.FrequencyPenalty ?? s.FrequencyPenalty,
            Seed = options.Seed is long seed ? unchecked((int)seed) : s.Seed,
            StopSequences = [.. (IEnumerable<string>?)options.StopSequences ?? s.StopSequences, .. _formatter.StopSequences],
        };
    }

    private GenerationRequest Request(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var turns = messages.Select(m => new ChatTurn(m.Role.Value, m.Text)).ToList();
        if (turns.Count == 0) throw new ArgumentException("The conversation has no messages; give at least one.", nameof(messages));
        return new GenerationRequest(_formatter.Format(turns), ToSampling(options));
    }

    private static ChatFinishReason Map(FinishReason? reason) => reason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = await _engine.GenerateAsync(Request(messages, options), cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var choice = result.Choices[0];
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, choice.Text))
        {
            ModelId = _metadata.DefaultModelId,
            FinishReason = Map(choice.FinishReason),
            Usage = new UsageDetails { InputTokenCount = result.Usage.PromptTokens, OutputTokenCount = result.Usage.CompletionTokens, TotalTokenCount = result.Usage.TotalTokens },
        };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string id = Guid.NewGuid().ToString("N");
        await foreach (var chunk in _engine.GenerateStreamingAsync(Request(messages, options), cancellationToken).ConfigureAwait(false))
        {
            if (chunk.FinishReason == FinishReason.Cancelled) cancellationToken.ThrowIfCancellationRequested();
            var update = new ChatResponseUpdate(ChatRole.Assistant, chunk.Text) { ResponseId = id, ModelId = _metadata.DefaultModelId };
            if (chunk.FinishReason is { } f) update.FinishReason = Map(f);
            if (chunk.Usage is { } u)
                update.Contents.Add(new UsageContent(new UsageDetails { InputTokenCount = u.PromptTokens, OutputTokenCount = u.CompletionTokens, TotalTokenCount = u.TotalTokens }));
            yield return update;
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey != null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType == typeof(InferenceEngine) ? _engine
        : serviceType == typeof(IChatFormatter) ? _formatter
        : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        if (_ownsEngine) _engine.Dispose();
    }
}
