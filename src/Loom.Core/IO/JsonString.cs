// Reads JSON string values the way every Loom reader must: a \u escape of a lone UTF-16 surrogate
// ("\ud800" — valid JSON that Python's json.dumps writes for such strings) becomes U+FFFD and is
// counted, as docs/FORMATS.md says, instead of System.Text.Json's InvalidOperationException, which
// used to abort whole runs. Strings without escapes, and escaped ones that decode, take the normal
// fast path; only a string that fails to decode is unescaped here.
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Loom.Core.IO;

/// <summary>Lenient JSON string reading.</summary>
public static class JsonString
{
    /// <summary>
    /// The string at <paramref name="reader"/> (a String or PropertyName token); lone surrogates become U+FFFD
    /// and are added to <paramref name="loneSurrogates"/>.
    /// </summary>
    public static string Get(ref Utf8JsonReader reader, ref long loneSurrogates)
    {
        if (!reader.ValueIsEscaped) return reader.GetString()!;
        try { return reader.GetString()!; }
        catch (InvalidOperationException)
        {
            var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
            return Unescape(raw, ref loneSurrogates);
        }
    }

    /// <summary>Decodes the escaped UTF-8 body of a JSON string (already validated by the reader), lone surrogates as U+FFFD.</summary>
    public static string Unescape(ReadOnlySpan<byte> raw, ref long loneSurrogates)
    {
        var sb = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            int slash = raw.IndexOf((byte)'\\');
            if (slash < 0) { sb.Append(Encoding.UTF8.GetString(raw)); break; }
            sb.Append(Encoding.UTF8.GetString(raw[..slash]));
            byte e = raw[slash + 1];
            raw = raw[(slash + 2)..];
            switch (e)
            {
                case (byte)'b': sb.Append('\b'); break;
                case (byte)'f': sb.Append('\f'); break;
                case (byte)'n': sb.Append('\n'); break;
                case (byte)'r': sb.Append('\r'); break;
                case (byte)'t': sb.Append('\t'); break;
                case (byte)'u':
                    char c = Hex(raw);
                    raw = raw[4..];
                    if (char.IsHighSurrogate(c) && raw.Length >= 6 && raw[0] == '\\' && raw[1] == 'u' && char.IsLowSurrogate(Hex(raw[2..])))
                    {
                        sb.Append(c).Append(Hex(raw[2..]));
                        raw = raw[6..];
                    }
                    else if (char.IsSurrogate(c)) { sb.Append('\uFFFD'); loneSurrogates++; }
                    else sb.Append(c);
                    break;
                default: sb.Append((char)e); break;        // \" \\ \/
            }
        }
        return sb.ToString();
    }

    private static char Hex(ReadOnlySpan<byte> four) =>
        (char)int.Parse(Encoding.ASCII.GetString(four[..4]), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
