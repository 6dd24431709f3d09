// The output of WordPieceTokenizer.Encode: parallel arrays as Hugging Face's Encoding.
namespace Loom.Tokenizers;

/// <summary>An encoded text or pair: ids, token type ids, tokens, offsets, attention and special-token masks.</summary>
public sealed class WordPieceEncoding
{
    internal WordPieceEncoding(int[] ids, int[] typeIds, string[] tokens, (int Start, int End)[] offsets, int[] attentionMask, int[] specialTokensMask)
    {
        Ids = ids;
        TypeIds = typeIds;
        Tokens = tokens;
        Offsets = offsets;
        AttentionMask = attentionMask;
        SpecialTokensMask = specialTokensMask;
    }

    /// <summary>Token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Token type (segment) ids: 0 for the first sequence, 1 for the second (BERT).</summary>
    public int[] TypeIds { get; }

    /// <summary>Token texts ("##" continuation pieces keep their prefix).</summary>
    public string[] Tokens { get; }

    /// <summary>Range [Start, End) of the input string (UTF-16 units) each token came from; (0, 0) for added specials and padding.</summary>
    public (int Start, int End)[] Offsets { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>1 for tokens added by the template and for padding, 0 otherwise (HF's special_tokens_mask).</summary>
    public int[] SpecialTokensMask { get; }

    /// <summary>Number of tokens, padding included.</summary>
    public int Length => Ids.Length;
}
