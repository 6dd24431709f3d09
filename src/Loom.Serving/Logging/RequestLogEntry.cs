namespace Loom.Serving.Logging;

/// <summary>One row of the request log.</summary>
public sealed record RequestLogEntry
{
    public DateTimeOffset Time { get; init; }
    /// <summary>A hash prefix of the API key (never the key), or null without keys.</summary>
    public string? KeyId { get; init; }
    public string Endpoint { get; init; } = "";
    public string? Model { get; init; }
    public int Status { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    /// <summary>Time to first token in milliseconds, null when none was generated.</summary>
    public double? TimeToFirstTokenMs { get; init; }
    public double LatencyMs { get; init; }
    public string? FinishReason { get; init; }
    /// <summary>Prompt text, only with --log-content.</summary>
    public string? Prompt { get; init; }
    /// <summary>Output text, only with --log-content.</summary>
    public string? Output { get; init; }
}
