// UTF-8 character lengths as sentencepiece's string_util computes them: OneCharLen from the lead byte
// (table "1 1 1 1 1 1 1 1 1 1 1 1 2 2 3 4" over byte >> 4) and IsValidDecodeUTF8 (well-formed sequence).
namespace Loom.Tokenizers.SentencePiece;

internal static class Utf8Chars
{
    /// <summary>sentencepiece's OneCharLen: the length the lead byte announces (continuation bytes count as 1).</summary>
    public static int OneCharLen(byte lead) => (lead >> 4) switch { < 12 => 1, 12 or 13 => 2, 14 => 3, _ => 4 };

    /// <summary>True and the length when <paramref name="s"/> starts with a well-formed UTF-8 character.</summary>
    public static bool TryDecodeLength(ReadOnlySpan<byte> s, out int length)
    {
        length = 1;
        if (s.IsEmpty) return false;
        var status = System.Text.Rune.DecodeFromUtf8(s, out _, out int consumed);
        length = Math.Max(1, consumed);
        return status == System.Buffers.OperationStatus.Done;
    }
}
