// The character classes of BERT's normalizer and pre-tokenizer, as Hugging Face tokenizers defines
// them (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs):
//   whitespace:  \t \n \r or Unicode White_Space (Rust char::is_whitespace);
//   control:     Unicode category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r — removed by clean_text,
//                together with NUL and U+FFFD;
//   punctuation: ASCII 33–47, 58–64, 91–96, 123–126, or Unicode category P*;
//   Chinese:     HF's CJK ideograph blocks (the same ranges as Google's original BERT).
// The classes are HF's own tables (BertUnicodeTables, generated from the npm tokenizers package), not
// .NET's: HF's Unicode data differs from .NET's in ~1,000 code points (unassigned code points are not
// "other" in HF; its punctuation and Mn tables are an older Unicode, its lowercase a newer one).
// BertCharactersTests checks every code point against HF (Fixtures/wordpiece/unicode_sweep.txt).
using System.Text;

namespace Loom.Tokenizers.Normalizer;

/// <summary>Character classes of the BERT normalizer and pre-tokenizer.</summary>
public static class BertCharacters
{
    /// <summary>\t, \n, \r or a Unicode White_Space code point: mapped to a space by clean_text.</summary>
    public static bool IsWhitespace(int codePoint) =>
        codePoint is '\t' or '\n' or '\r' or ' ' || (codePoint > 0x7F && Rune.IsWhiteSpace(new Rune(codePoint)));

    /// <summary>Splits words in the pre-tokenizer (Rust's char::is_whitespace: Unicode White_Space).</summary>
    public static bool IsSplitWhitespace(int codePoint) =>
        codePoint < 0x80 ? codePoint is ' ' or (>= 9 and <= 13) : Rune.IsWhiteSpace(new Rune(codePoint));

    /// <summary>Category C* other than \t \n \r: removed by clean_text.</summary>
    public static bool IsControl(int codePoint)
    {
        if (codePoint is '\t' or '\n' or '\r') return false;
        if (codePoint < 0x80) return codePoint < 0x20 || codePoint == 0x7F;
        return IsOther(codePoint);
    }

    /// <summary>Removed by clean_text: NUL, U+FFFD and controls.</summary>
    public static bool IsRemovedByCleanText(int codePoint) => codePoint == 0 || codePoint == 0xFFFD || IsControl(codePoint);

    /// <summary>ASCII punctuation or Unicode category P*: isolated as its own word by the pre-tokenizer.</summary>
    public static bool IsPunctuation(int codePoint)
    {
        if (codePoint < 0x80)
            return codePoint is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126);
        return InRanges(BertUnicodeTables.Punctuation, codePoint);
    }

    /// <summary>HF's lowercase of one code point (Rust's char::to_lowercase), except U+0130 which maps to two.</summary>
    public static int ToLower(int codePoint)
    {
        if (codePoint < 0x80) return codePoint is >= 'A' and <= 'Z' ? codePoint + 32 : codePoint;
        var pairs = BertUnicodeTables.Lowercase;
        int lo = 0, hi = pairs.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int from = pairs[2 * mid];
            if (from == codePoint) return pairs[2 * mid + 1];
            if (from < codePoint) lo = mid + 1; else hi = mid - 1;
        }
        return codePoint;
    }

    /// <summary>HF's CJK ideograph ranges: each such character becomes its own word.</summary>
    public static bool IsChinese(int codePoint) =>
        codePoint is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static bool IsOther(int codePoint) => InRanges(BertUnicodeTables.Other, codePoint);

    // Binary search in sorted inclusive ranges [s0, e0, s1, e1, ...].
    private static bool InRanges(ReadOnlySpan<int> ranges, int codePoint)
    {
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (codePoint < ranges[2 * mid]) hi = mid - 1;
            else if (codePoint > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
