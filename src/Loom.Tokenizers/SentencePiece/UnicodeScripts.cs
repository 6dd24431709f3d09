// The Unicode script of a code point, coarsely, for the trainer's split_by_unicode_script rule
// (trainer_interface.cc IsValidSentencePiece: a piece may not mix scripts; Hiragana/Katakana count as Han,
// combining marks inherit the previous script, digits/punctuation/symbols are Common). .NET has no Script
// property, so this is a range table of the major scripts; letters elsewhere are grouped by 128-code-point
// block. It decides which substrings may become pieces, so a difference from ICU's table can only change
// which rare cross-script pieces are candidates, never how a model encodes.
using System.Globalization;
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

internal static class UnicodeScripts
{
    public const int Common = 0, Inherited = 1, Latin = 2, Greek = 3, Cyrillic = 4, Han = 5, Hangul = 6, Arabic = 7, Hebrew = 8, Thai = 9, Devanagari = 10, Armenian = 11;

    private static readonly (int Lo, int Hi, int Script)[] Ranges =
    [
        (0x0041, 0x005A, Latin), (0x0061, 0x007A, Latin), (0x00AA, 0x00AA, Latin), (0x00BA, 0x00BA, Latin),
        (0x00C0, 0x00D6, Latin), (0x00D8, 0x00F6, Latin), (0x00F8, 0x02AF, Latin), (0x1D00, 0x1D7F, Latin),
        (0x1E00, 0x1EFF, Latin), (0x2C60, 0x2C7F, Latin), (0xA720, 0xA7FF, Latin), (0xFB00, 0xFB06, Latin),
        (0xFF21, 0xFF3A, Latin), (0xFF41, 0xFF5A, Latin),
        (0x0300, 0x036F, Inherited), (0x1AB0, 0x1AFF, Inherited), (0x1DC0, 0x1DFF, Inherited), (0x20D0, 0x20FF, Inherited),
        (0x200C, 0x200D, Inherited), (0xFE00, 0xFE0F, Inherited), (0xFE20, 0xFE2F, Inherited),
        (0x0370, 0x03FF, Greek), (0x1F00, 0x1FFF, Greek),
        (0x0400, 0x052F, Cyrillic), (0x1C80, 0x1C8F, Cyrillic), (0x2DE0, 0x2DFF, Cyrillic), (0xA640, 0xA69F, Cyrillic),
        (0x0531, 0x058F, Armenian), (0x0591, 0x05FF, Hebrew), (0xFB1D, 0xFB4F, Hebrew),
        (0x0600, 0x06FF, Arabic), (0x0750, 0x077F, Arabic), (0x08A0, 0x08FF, Arabic), (0xFB50, 0xFDFF, Arabic), (0xFE70, 0xFEFF, Arabic),
        (0x0900, 0x097F, Devanagari), (0x0E00, 0x0E7F, Thai),
        (0x1100, 0x11FF, Hangul), (0x3130, 0x318F, Hangul), (0xA960, 0xA97F, Hangul), (0xAC00, 0xD7FF, Hangul), (0xFFA0, 0xFFDC, Hangul),
        (0x2E80, 0x2FDF, Han), (0x3005, 0x3005, Han), (0x3007, 0x3007, Han), (0x3021, 0x3029, Han), (0x3038, 0x303B, Han),
        (0x3041, 0x309F, Han), (0x30A0, 0x30FF, Han), (0x31F0, 0x31FF, Han), (0x3400, 0x4DBF, Han), (0x4E00, 0x9FFF, Han),
        (0xF900, 0xFAFF, Han), (0xFF66, 0xFF9F, Han), (0x20000, 0x3FFFF, Han),
    ];

    /// <summary>The script class of <paramref name="c"/> (Hiragana/Katakana merged into Han, as the trainer does).</summary>
    public static int Of(int c)
    {
        foreach (var r in Ranges) if (c >= r.Lo && c <= r.Hi) return r.Script;
        var cat = CharUnicodeInfo.GetUnicodeCategory(c);
        return cat switch
        {
            UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark => Inherited,
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber => 1000 + (c >> 7),
            _ => Common,
        };
    }

    /// <summary>True for a decimal digit (Nd), which split_digits and split_by_number treat specially.</summary>
    public static bool IsDecimalNumber(int c) => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber;
}
