// Turns a stream of token ids into text without ever emitting half a character: a token can
// end in the middle of a UTF-8 sequence (an emoji is often 3 tokens), so the bytes of an
// incomplete trailing sequence are held back until the next token completes them. Invalid
// sequences become U+FFFD, as tiktoken's decode(errors="replace") does.
using System.Text;

namespace Loom.Tokenizers.Decoder;

/// <summary>Incremental token → text decoding for one stream.</summary>
public sealed class StreamingDecoder
{
    private readonly BpeTokenizer _tokenizer;
    private readonly System.Text.Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];
    private byte[] _bytes = new byte[64];

    internal StreamingDecoder(BpeTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Adds one token; returns the text it completes (possibly empty).</summary>
    public string Push(int id)
    {
        int n = Push(id, ref _chars);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }

    /// <summary>Adds one token; writes the completed text to <paramref name="chars"/> (grown if needed) and returns its length.</summary>
    public int Push(int id, ref char[] chars)
    {
        int len = _tokenizer.TokenBytes(id, ref _bytes);
        int need = _utf8.GetCharCount(_bytes, 0, len, flush: false);
        if (chars.Length < need) Array.Resize(ref chars, Math.Max(need, chars.Length * 2));
        return _utf8.GetChars(_bytes, 0, len, chars, 0, flush: false);
    }

    /// <summary>Ends the stream: any held-back incomplete bytes become U+FFFD.</summary>
    public string Flush()
    {
        int n = _utf8.GetChars(Array.Empty<byte>(), 0, 0, _chars, 0, flush: true);
        return new string(_chars, 0, n);
    }
}
