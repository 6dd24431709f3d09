// Thrown when the text to encode contains a special token's text that the policy does not allow
// (tiktoken's disallowed_special check). It carries the token and where it was found, so each
// front end can say what to do in its own terms: the library's message names SpecialTokenPolicy,
// the CLI names --allowed-special.
namespace Loom.Tokenizers;

/// <summary>The input contains special-token text that the <see cref="SpecialTokenPolicy"/> does not allow.</summary>
public sealed class DisallowedSpecialTokenException : ArgumentException
{
    /// <summary>The special token's text.</summary>
    public string Token { get; }

    /// <summary>Char index of the token in the text.</summary>
    public int Index { get; }

    /// <summary>Creates the exception for <paramref name="token"/> found at <paramref name="index"/>.</summary>
    public DisallowedSpecialTokenException(string token, int index)
        : base($"The text contains the special token '{token}' at index {index}, which the SpecialTokenPolicy does not allow. " +
               "Encode with SpecialTokenPolicy.All (or SpecialTokenPolicy.Allow(\"" + token + "\")) to make it a special token, or with SpecialTokenPolicy.PlainText to encode it as ordinary text.")
    {
        Token = token;
        Index = index;
    }
}
