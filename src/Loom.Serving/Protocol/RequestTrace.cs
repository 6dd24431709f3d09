// What one request did, filled in as it runs (by the protocol layer) and closed with its status (by
// the HTTP layer or the batch runner): the request log's row and the latency metrics come from it.
using System.Diagnostics;

namespace Loom.Serving.Protocol;

/// <summary>Timing and counts of one request.</summary>
public sealed class RequestTrace
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public RequestTrace(string endpoint, string? keyId)
    {
        Endpoint = endpoint;
        KeyId = keyId;
    }

    public DateTimeOffset Time { get; } = DateTimeOffset.UtcNow;
    public string Endpoint { get; }
    public string? KeyId { get; }
    public string? Model { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public TimeSpan? TimeToFirstToken { get; set; }
    public string? FinishReason { get; set; }
    public string? Prompt { get; set; }
    public string? Output { get; set; }

    /// <summary>Time since the request arrived.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
}
