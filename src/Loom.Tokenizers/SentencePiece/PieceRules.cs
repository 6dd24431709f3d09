// Which substrings may become pieces: trainer_interface.cc IsValidSentencePiece. A piece has 1..max
// characters, no kUNKChar, no NUL or space, ▁ only as its first character (split_by_whitespace), one
// Unicode script (Hiragana/Katakana/ー counted as Han, combining marks as the previous character's), and
// with split_by_number digits count as their own script (Common), with split_digits a digit stands alone.
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

internal sealed class PieceRules
{
    private const int AnyScript = -1;
    private readonly SentencePieceTrainerOptions _options;

    public PieceRules(SentencePieceTrainerOptions options) => _options = options;

    public bool IsValid(ReadOnlySpan<int> chars)
    {
        if (chars.Length == 0 || chars.Length > _options.MaxSentencePieceLength) return false;
        int prev = AnyScript;
        for (int pos = 0; pos < chars.Length; pos++)
        {
            int c = chars[pos];
            if (c == SentencePieceTrainer.UnkChar || c == 0 || c == ' ' || c == '\t') return false;
            if (c == '\u2581')
            {
                if (pos > 0) return false;
                continue;
            }
            int s = UnicodeScripts.Of(c);
            if (c == 0x30FC) s = UnicodeScripts.Han;
            else if (s == UnicodeScripts.Inherited) s = prev;
            bool digit = UnicodeScripts.IsDecimalNumber(c);
            if (!_options.SplitByNumber && digit) s = AnyScript;
            if (_options.SplitDigits && digit && chars.Length > 1) return false;
            if (_options.SplitByUnicodeScript && s != AnyScript && prev != AnyScript && prev != s) return false;
            prev = s;
        }
        return true;
    }

    public static int[] CodePoints(string s)
    {
        var list = new List<int>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.Value);
        return list.ToArray();
    }

    public static string FromCodePoints(ReadOnlySpan<int> cps)
    {
        var sb = new StringBuilder(cps.Length);
        foreach (int c in cps) sb.Append(char.ConvertFromUtf32(c));
        return sb.ToString();
    }
}
