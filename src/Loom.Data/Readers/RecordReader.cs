// Splits a byte stream into records without decoding it, so that a shard can step over the records
// other shards own at memory speed: lines ('\n', a trailing '\r' dropped), blank-line-separated
// blocks (joined with '\n'), CSV records (RFC 4180: a quoted field may span lines, so a record
// ends at a line end outside quotes) or the whole file. A UTF-8 byte order mark at the start of the
// stream is dropped; blank lines (only whitespace) are not records.
using System.Text;

namespace Loom.Data.Readers;

internal enum RecordSplit { Lines, Blocks, Csv, File }

internal sealed class RecordReader(Stream stream, RecordSplit split) : IDisposable
{
    private byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private bool _eof, _done;
    private long _line;
    private byte[] _record = new byte[1 << 16];     // blocks and CSV records gathered across lines
    private int _length;

    public void Dispose() => stream.Dispose();

    /// <summary>The next record and the 1-based line it starts on; the span is valid until the next call.</summary>
    public bool Next(out ReadOnlySpan<byte> record, out long line)
    {
        record = default;
        line = 0;
        if (_done) return false;
        _length = 0;
        switch (split)
        {
            case RecordSplit.Lines:
                while (NextLine(out var l, out long n))
                    if (!IsBlank(l)) { record = l; line = n; return true; }
                break;
            case RecordSplit.Blocks:
                while (NextLine(out var l, out long n))
                {
                    if (IsBlank(l))
                    {
                        if (_length > 0) { record = _record.AsSpan(0, _length); return true; }
                        continue;
                    }
                    if (_length == 0) line = n;
                    else Append("\n"u8);
                    Append(l);
                }
                if (_length > 0) { _done = true; record = _record.AsSpan(0, _length); return true; }
                break;
            case RecordSplit.Csv:
                bool quoted = false;
                while (NextLine(out var l, out long n))
                {
                    if (_length == 0 && !quoted)
                    {
                        if (l.Length == 0) continue;
                        line = n;
                    }
                    else Append("\n"u8);
                    Append(l);
                    quoted ^= (l.Count((byte)'"') & 1) == 1;
                    if (!quoted) { record = _record.AsSpan(0, _length); return true; }
                }
                if (_length > 0) { _done = true; record = _record.AsSpan(0, _length); return true; }
                break;
            case RecordSplit.File:
                _done = true;
                while (NextLine(out var l, out _))
                {
                    if (_line > 1) Append("\n"u8);
                    Append(l);
                }
                if (!IsBlank(_record.AsSpan(0, _length))) { record = _record.AsSpan(0, _length); line = 1; return true; }
                break;
        }
        _done = true;
        return false;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _record.Length) Array.Resize(ref _record, Math.Max(2 * _record.Length, _length + bytes.Length));
        bytes.CopyTo(_record.AsSpan(_length));
        _length += bytes.Length;
    }

    private bool NextLine(out ReadOnlySpan<byte> line, out long number)
    {
        int searched = 0;
        while (true)
        {
            int nl = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf((byte)'\n');
            int length = nl >= 0 ? searched + nl : _end - _start;
            if (nl >= 0 || (_eof && _start < _end))
            {
                line = _buffer.AsSpan(_start, length);
                _start += nl >= 0 ? length + 1 : length;
                if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
                if (++_line == 1 && line.StartsWith("\uFEFF"u8)) line = line[3..];
                number = _line;
                return true;
            }
            if (_eof) { line = default; number = _line; return false; }
            searched = _end - _start;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, 2 * _buffer.Length);
            int read = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) _eof = true;
            else _end += read;
        }
    }

    // Only whitespace: ASCII whitespace is checked on the bytes; anything else non-ASCII is decoded to ask.
    private static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        int i = bytes.IndexOfAnyExcept(" \t\r\n\v\f"u8);
        if (i < 0) return true;
        if (bytes[i] < 0x80) return false;
        return string.IsNullOrWhiteSpace(Encoding.UTF8.GetString(bytes));
    }
}
