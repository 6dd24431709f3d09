// Why a sequence ended, with OpenAI's names (and "cancelled" for a request whose caller left).
namespace Loom.Inference.Engine;

/// <summary>Why a completion ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token, a stop token id or a stop string ("stop").</summary>
    Stop,
    /// <summary>max_tokens or the context length was reached ("length").</summary>
    Length,
    /// <summary>The request was cancelled ("cancelled").</summary>
    Cancelled,
}

/// <summary>Wire names of <see cref="FinishReason"/>.</summary>
public static class FinishReasonNames
{
    /// <summary>"stop", "length" or "cancelled".</summary>
    public static string ToWireName(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => "cancelled",
    };
}
