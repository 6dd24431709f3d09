// Hugging Face's WordPiece decoder (tokenizers/src/decoders/wordpiece.rs): tokens after the first get
// a leading space unless they start with the "##" prefix (which is removed); with cleanup, each
// token then has BERT's detokenization fixes applied (" ." → ".", " n't" → "n't", " do not" → " don't", …),
// token by token as HF does — so a fix never spans two tokens.
using System.Text;

namespace Loom.Tokenizers.Decoder;

/// <summary>Hugging Face's WordPiece decoder.</summary>
public sealed class WordPieceDecoder(string prefix = "##", bool cleanup = true)
{
    /// <summary>Continuation prefix to strip ("##").</summary>
    public string Prefix { get; } = prefix;

    /// <summary>Apply BERT's detokenization cleanup. Default true.</summary>
    public bool Cleanup { get; } = cleanup;

    /// <summary>Joins <paramref name="tokens"/> into text.</summary>
    public string Decode(IEnumerable<string> tokens)
    {
        var sb = new StringBuilder();
        bool first = true;
        foreach (var token in tokens)
        {
            string t;
            if (first) t = token;
            else if (Prefix.Length > 0 && token.StartsWith(Prefix, StringComparison.Ordinal)) t = token[Prefix.Length..];
            else t = " " + token;
            first = false;
            sb.Append(Cleanup ? CleanUp(t) : t);
        }
        return sb.ToString();
    }

    /// <summary>BERT's cleanup of one decoded token (HF's wordpiece::cleanup), in HF's order.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
