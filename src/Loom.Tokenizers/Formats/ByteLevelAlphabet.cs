// GPT-2's bytes_to_unicode (openai/gpt-2 src/encoder.py): every byte maps to a printable
// character so vocab files can be text. Printable Latin-1 bytes map to themselves; the other
// 68 bytes map to U+0100.. in byte order (so a space is 'Ġ', U+0120). Hugging Face's ByteLevel
// pre-tokenizer uses the same table.
namespace Loom.Tokenizers.Formats;

/// <summary>GPT-2's byte ↔ character mapping.</summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = Build();
    private static readonly Dictionary<char, byte> s_charToByte = Enumerable.Range(0, 256).ToDictionary(b => s_byteToChar[b], b => (byte)b);

    private static char[] Build()
    {
        var map = new char[256];
        var used = new bool[256];
        foreach (var (lo, hi) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
            for (int b = lo; b <= hi; b++) { map[b] = (char)b; used[b] = true; }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!used[b]) map[b] = (char)(256 + n++);
        return map;
    }

    /// <summary>The vocab-file text of a byte string.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = s_byteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The byte string of vocab-file text; throws naming the character when it is not in the alphabet.</summary>
    public static byte[] Decode(string text, string where)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!s_charToByte.TryGetValue(text[i], out bytes[i]))
                throw new FormatException($"{where}: the token \"{text}\" contains U+{(int)text[i]:X4}, which is not in GPT-2's byte-level alphabet.");
        }
        return bytes;
    }
}
