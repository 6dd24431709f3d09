// Which special-token strings in the input become special tokens, after tiktoken's encode():
// `allowed_special` is the set recognised as specials; any other special-token text in the
// input is an error (`disallowed_special="all"`, the default), or, when asked, ordinary text.
namespace Loom.Tokenizers;

/// <summary>How special-token text in the input is treated.</summary>
public sealed record SpecialTokenPolicy
{
    /// <summary>Specials recognised in the input; null means every special token of the tokenizer.</summary>
    public IReadOnlySet<string>? Allowed { get; init; } = new HashSet<string>();

    /// <summary>When false (default) special text that is not allowed throws; when true it is encoded as plain text.</summary>
    public bool DisallowedAsText { get; init; }

    /// <summary>The default: no special is recognised, and special-token text in the input is an error.</summary>
    public static SpecialTokenPolicy None { get; } = new();

    /// <summary>Every special token of the tokenizer is recognised.</summary>
    public static SpecialTokenPolicy All { get; } = new() { Allowed = null };

    /// <summary>No special is recognised; special-token text is encoded as ordinary text (tiktoken's encode_ordinary).</summary>
    public static SpecialTokenPolicy PlainText { get; } = new() { DisallowedAsText = true };

    /// <summary>Only the named specials are recognised; any other special text is an error.</summary>
    public static SpecialTokenPolicy Allow(params string[] specials) => new() { Allowed = new HashSet<string>(specials, StringComparer.Ordinal) };

    internal bool IsAllowed(string special) => Allowed is null || Allowed.Contains(special);
}
