// Data output for commands that print a lot of small values (one JSON array of ids per line):
// UTF-8 bytes go into one pooled buffer (numbers through Utf8Formatter, no string per value) and
// leave in 64 KB blocks. When the command's output is the process's stdout, the blocks go straight
// to the stdout stream, bypassing Console.Out's synchronized TextWriter (one locked call per id made
// `tokenizer encode` 3× slower than npm tiktoken); any other TextWriter (a test's StringWriter)
// receives each block decoded, so InvocationConfiguration.Output keeps working.
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Loom.Cli.Output;

/// <summary>A buffered UTF-8 writer over stdout's byte stream or any <see cref="TextWriter"/>.</summary>
internal sealed class Utf8DataWriter : IDisposable
{
    private const int BlockSize = 1 << 16;
    private readonly Stream? _stream;
    private readonly TextWriter? _text;
    private readonly bool _ownsStream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
    private int _used;

    private Utf8DataWriter(Stream? stream, TextWriter? text, bool ownsStream)
    {
        _stream = stream;
        _text = text;
        _ownsStream = ownsStream;
    }

    /// <summary>A writer to <paramref name="output"/>: the raw stdout stream when it is the process's Console.Out.</summary>
    public static Utf8DataWriter For(TextWriter output)
    {
        if (ReferenceEquals(output, Console.Out))
        {
            output.Flush(); // anything already written through the TextWriter goes first
            return new Utf8DataWriter(Console.OpenStandardOutput(), null, ownsStream: true);
        }
        return new Utf8DataWriter(null, output, ownsStream: false);
    }

    /// <summary>Writes "[a,b,c]\n".</summary>
    public void WriteIdArrayLine(ReadOnlySpan<int> ids)
    {
        // 11 bytes hold any int with its sign; one more for the comma.
        Reserve(2 + ids.Length * 12);
        var b = _buffer;
        int at = _used;
        b[at++] = (byte)'[';
        for (int i = 0; i < ids.Length; i++)
        {
            if (i > 0) b[at++] = (byte)',';
            Utf8Formatter.TryFormat(ids[i], b.AsSpan(at), out int written);
            at += written;
        }
        b[at++] = (byte)']';
        b[at++] = (byte)'\n';
        _used = at;
    }

    /// <summary>Writes UTF-8 bytes as they are.</summary>
    public void Write(ReadOnlySpan<byte> utf8)
    {
        Reserve(utf8.Length);
        utf8.CopyTo(_buffer.AsSpan(_used));
        _used += utf8.Length;
    }

    // Makes room for `bytes` more: flushes a full block first, grows the buffer for one huge line.
    private void Reserve(int bytes)
    {
        if (_used + bytes <= _buffer.Length) return;
        Flush();
        if (bytes <= _buffer.Length) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = ArrayPool<byte>.Shared.Rent(bytes);
    }

    /// <summary>Sends the buffered bytes on.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            if (_stream != null) _stream.Write(_buffer, 0, _used);
            else _text!.Write(Encoding.UTF8.GetString(_buffer, 0, _used));
            _used = 0;
        }
        if (_stream != null) _stream.Flush();
        else _text!.Flush();
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        try { Flush(); }
        finally
        {
            if (_ownsStream) _stream!.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
