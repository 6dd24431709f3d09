// Splits a byte stream into records without decoding it, so that a shard can step over the records
// other shards own at memory speed: lines ('\n', a trailing '\r' dropped), blank-line-separated
// blocks (joined with '\n'), CSV records (RFC 4180: a quoted field may span lines, so a record
// ends at a line end outside quotes) or the whole file. A UTF-8 byte order mark at the start of the
// stream is dropped; blank lines (only whitespace) are not records.
//
// An unbalanced quote would make the rest of a CSV file one record. A quoted field may therefore
// span at most MaxQuotedLines lines and MaxQuotedBytes bytes; a record that is still inside quotes
// past either bound, or at the end of the file, is returned as its first line alone with Problem
// set (the caller quarantines it), and the lines after that first line are read again as records
// ("replayed" from a copy), so one stray quote costs one row. The bounds act on bytes and lines
// only, so every shard splits the file into the same records.
using System.Text;

namespace Loom.Data.Readers;

internal enum RecordSplit { Lines, Blocks, Csv, File }

internal sealed class RecordReader(Stream stream, RecordSplit split, int maxQuotedLines = int.MaxValue, long maxQuotedBytes = long.MaxValue, byte separator = (byte)',') : IDisposable
{
    private int _columns = -1;                      // CSV: the first record's (the header's) column count
    private byte[] _replay = [];                    // lines to read again after an unterminated quoted field, '\n'-separated
    private int _replayAt, _replayLines;
    private byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private bool _eof, _done;
    private long _line;
    private byte[] _record = new byte[1 << 16];     // blocks and CSV records gathered across lines
    private int _length;

    public void Dispose() => stream.Dispose();

    /// <summary>Why the last record is malformed (an unterminated quoted field), or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>The next record and the 1-based line it starts on; the span is valid until the next call.</summary>
    public bool Next(out ReadOnlySpan<byte> record, out long line)
    {
        record = default;
        line = 0;
        Problem = null;
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
                int lines = 0, firstLineEnd = 0;
                while (NextLine(out var l, out long n))
                {
                    if (_length == 0 && !quoted)
                    {
                        if (l.Length == 0) continue;
                        line = n;
                    }
                    else Append("\n"u8);
                    Append(l);
                    if (++lines == 1) firstLineEnd = _length;
                    quoted ^= (l.Count((byte)'"') & 1) == 1;
                    if (!quoted)
                    {
                        record = _record.AsSpan(0, _length);
                        bool wellFormed = CsvShape(record, separator, out int columns);
                        if (_columns < 0) _columns = columns;
                        // A record that spans lines must be strict RFC 4180 with the header's width, or its first
                        // quote was most likely a stray one that swallowed the lines after it.
                        if (lines > 1 && (_length > maxQuotedBytes || !wellFormed || columns != _columns))
                        {
                            Unterminated(line, firstLineEnd, lines, _length > maxQuotedBytes
                                ? $"a quoted field opened on line {line} spans {lines:N0} lines and {_length:N0} bytes, more than reader.csv_max_quoted_bytes {maxQuotedBytes:N0}; an unbalanced quote?"
                                : $"a quoted field opened on line {line} closes on line {line + lines - 1} in a record that is not well-formed CSV " +
                                  $"({(wellFormed ? $"{columns} columns where the header has {_columns}" : "a closing quote not followed by a separator or line end")}); an unbalanced quote?");
                            record = _record.AsSpan(0, firstLineEnd);
                        }
                        return true;
                    }
                    if (lines >= maxQuotedLines || _length > maxQuotedBytes)
                    {
                        Unterminated(line, firstLineEnd, lines, $"a quoted field opened on line {line} is still open after {lines:N0} lines and {_length:N0} bytes " +
                                                                $"(limits: reader.csv_max_quoted_lines {maxQuotedLines:N0}, reader.csv_max_quoted_bytes {maxQuotedBytes:N0}); an unbalanced quote?");
                        record = _record.AsSpan(0, firstLineEnd);
                        return true;
                    }
                }
                if (_length > 0)
                {
                    if (quoted)
                    {
                        Unterminated(line, firstLineEnd, lines, $"a quoted field opened on line {line} is not closed before the end of the file; an unbalanced quote?");
                        record = _record.AsSpan(0, firstLineEnd);
                        return true;
                    }
                    _done = true;
                    record = _record.AsSpan(0, _length);
                    return true;
                }
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

    // Strict RFC 4180 check of one record (lines joined by '\n') and its number of fields: a quoted field
    // starts at the field's start and its closing quote is followed by the separator or the end; an
    // unquoted field holds no quote.
    private static bool CsvShape(ReadOnlySpan<byte> record, byte separator, out int columns)
    {
        columns = 1;
        bool wellFormed = true;
        int i = 0;
        while (i <= record.Length)
        {
            if (i < record.Length && record[i] == '"')
            {
                i++;
                while (true)
                {
                    int q = record[i..].IndexOf((byte)'"');
                    if (q < 0) return false;                                  // never closed
                    i += q + 1;
                    if (i < record.Length && record[i] == '"') { i++; continue; }   // "" inside quotes
                    break;
                }
                if (i < record.Length && record[i] != separator) wellFormed = false;
            }
            int next = record[i..].IndexOf(separator);
            if (record[i..(next < 0 ? record.Length : i + next)].Contains((byte)'"')) wellFormed = false;
            if (next < 0) break;
            i += next + 1;
            columns++;
        }
        return wellFormed;
    }

    // Keeps the first line of the current record as the (malformed) record and queues its other lines to be read again.
    private void Unterminated(long line, int firstLineEnd, int lines, string problem)
    {
        Problem = problem;
        var rest = _record.AsSpan(firstLineEnd, _length - firstLineEnd);      // "\n" line2 "\n" ... line_k
        var pending = _replay.AsSpan(_replayAt);
        var replay = new byte[Math.Max(0, rest.Length - 1) + (_replayLines > 0 && lines > 1 ? 1 : 0) + pending.Length];
        int at = 0;
        if (lines > 1) { rest[1..].CopyTo(replay); at = rest.Length - 1; }
        if (_replayLines > 0)
        {
            if (lines > 1) replay[at++] = (byte)'\n';
            pending.CopyTo(replay.AsSpan(at));
        }
        _replay = replay;
        _replayAt = 0;
        _replayLines += lines - 1;
        _line = line;                                   // the replayed lines keep their numbers
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _record.Length) Array.Resize(ref _record, Math.Max(2 * _record.Length, _length + bytes.Length));
        bytes.CopyTo(_record.AsSpan(_length));
        _length += bytes.Length;
    }

    private bool NextLine(out ReadOnlySpan<byte> line, out long number)
    {
        if (_replayLines > 0)
        {
            var rest = _replay.AsSpan(_replayAt);
            int nl = --_replayLines > 0 ? rest.IndexOf((byte)'\n') : rest.Length;
            line = rest[..nl];
            _replayAt += nl + (_replayLines > 0 ? 1 : 0);
            number = ++_line;
            return true;
        }
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
