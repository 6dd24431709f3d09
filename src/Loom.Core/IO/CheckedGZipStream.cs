// Reads a gzip file (RFC 1952) and checks what .NET's GZipStream does not: that every member is
// complete. GZipStream returns a clean end of stream when the file is cut short (dotnet/runtime
// #47563), so a truncated corpus used to read as a shorter, complete one. Here each member is
// parsed by hand — header, raw deflate data, then the 8-byte trailer (CRC-32 and length of the
// member's output, mod 2^32) — and the trailer is checked against the CRC-32 and length of what
// was actually inflated. Concatenated members (`cat a.gz b.gz`, bgzip, pigz -i) are read in turn.
//
// Finding the trailer: DeflateStream reads its input ahead in chunks and does not say how much
// of the last chunk the deflate data used. It asks for a new chunk only once the previous one is
// used up, so the deflate data ends inside the last chunk it was given; the trailer is searched
// there (8 bytes that must equal CRC and length: a false match has odds of 2^-64), and the next
// member starts right after it. The file must be seekable (a regular file: see InputFiles).
//
// Errors are InvalidDataException naming the file, the byte offset and what to do.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Loom.Core.IO;

/// <summary>Decompresses a gzip file, every member checked against its CRC-32 and length; truncation is an error.</summary>
public sealed class CheckedGZipStream : Stream
{
    private readonly FileStream _file;
    private readonly string _path;
    private readonly long _length;
    private ChunkTracker? _source;
    private DeflateStream? _deflate;
    private long _memberStart;
    private uint _crc;
    private long _memberBytes;
    private int _members;
    private long _decompressed;
    private bool _done;

    /// <summary>Reads <paramref name="file"/> (opened on <paramref name="path"/>, which messages name) from its current position.</summary>
    public CheckedGZipStream(FileStream file, string path)
    {
        _file = file;
        _path = path;
        _length = file.Length;
    }

    /// <summary>Members read so far.</summary>
    public int Members => _members;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _done) return 0;
        while (true)
        {
            if (_deflate is null && !StartMember()) { _done = true; return 0; }
            int n;
            try { n = _deflate!.Read(buffer); }
            catch (InvalidDataException e)
            {
                if (_source!.Exhausted) throw TruncatedData(e);
                throw new InvalidDataException($"{_path} is corrupt: bad deflate data in the gzip member that starts at byte {_memberStart}, detected near byte {_source!.Position} " +
                                               $"(after {_decompressed:N0} decompressed bytes): {e.Message} Re-create or re-download the file.", e);
            }
            if (n > 0)
            {
                _crc = Crc32.Append(_crc, buffer[..n]);
                _memberBytes += n;
                _decompressed += n;
                return n;
            }
            EndMember();
        }
    }

    // Parses a member header at the file's position; false at a clean end (after at least one member).
    private bool StartMember()
    {
        long at = _file.Position;
        if (at == _length)
        {
            if (_members > 0) return false;
            throw new InvalidDataException($"{_path} is empty: the data ends at byte 0, before any gzip member. Remove it or give it a name without .gz.");
        }
        Span<byte> h = stackalloc byte[10];
        int got = _file.ReadAtLeast(h, h.Length, throwOnEndOfStream: false);
        if ((got >= 1 && h[0] != 0x1F) || (got >= 2 && h[1] != 0x8B))
            throw new InvalidDataException(_members == 0
                ? $"{_path} is not a gzip file (no gzip signature at byte 0); rename it without .gz if it is plain text."
                : $"{_path} is corrupt: the {_length - at} bytes from byte {at}, after the last complete gzip member, are not another gzip member (no gzip signature).");
        if (got < h.Length) throw Truncated(at);
        if (h[2] != 8) throw new InvalidDataException($"{_path}: the gzip member at byte {at} uses compression method {h[2]}, not deflate (8); it cannot be read.");
        byte flags = h[3];
        Span<byte> two = stackalloc byte[2];
        if ((flags & 4) != 0)                                   // FEXTRA: 2-byte length, then that many bytes
        {
            ReadHeader(two, at);
            Skip(BinaryPrimitives.ReadUInt16LittleEndian(two), at);
        }
        if ((flags & 8) != 0) SkipZeroTerminated(at);          // FNAME
        if ((flags & 16) != 0) SkipZeroTerminated(at);         // FCOMMENT
        if ((flags & 2) != 0) ReadHeader(two, at);              // FHCRC
        _memberStart = at;
        _crc = 0;
        _memberBytes = 0;
        _source = new ChunkTracker(_file);
        _deflate = new DeflateStream(_source, CompressionMode.Decompress, leaveOpen: true);
        return true;
    }

    // The deflate data ended (or the file did): find and check the trailer, position the file after it.
    private void EndMember()
    {
        var source = _source!;
        long from = source.LastChunkStart, to = source.Position;
        int window = (int)(Math.Min(to + 8, _length) - from);
        var bytes = new byte[Math.Max(0, window)];
        _file.Position = from;
        _file.ReadExactly(bytes);
        Span<byte> expected = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(expected, _crc);
        BinaryPrimitives.WriteUInt32LittleEndian(expected[4..], (uint)_memberBytes);
        int found = bytes.AsSpan().IndexOf(expected);
        if (found < 0)
        {
            if (source.Exhausted) throw TruncatedData(null);
            throw new InvalidDataException($"{_path} is corrupt: the gzip member that starts at byte {_memberStart} fails its CRC-32/length check (its deflate data ends near byte {to}). " +
                                           "Re-create or re-download the file.");
        }
        _deflate!.Dispose();
        _deflate = null;
        _source = null;
        _members++;
        _file.Position = from + found + 8;
    }

    private InvalidDataException TruncatedData(Exception? inner) =>
        new($"{_path} is truncated or corrupt: the data ends at byte {_length} before the gzip member that starts at byte {_memberStart} is complete " +
             $"(no valid CRC-32 and length trailer after {_decompressed:N0} decompressed bytes). Re-create or re-download the file.", inner);

    private void ReadHeader(Span<byte> into, long memberStart)
    {
        int got = _file.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);
        if (got < into.Length) throw Truncated(memberStart);
    }

    private void Skip(int count, long memberStart)
    {
        if (_file.Position + count > _length) throw Truncated(memberStart);
        _file.Position += count;
    }

    private void SkipZeroTerminated(long memberStart)
    {
        int b;
        while ((b = _file.ReadByte()) > 0) { }
        if (b < 0) throw Truncated(memberStart);
    }

    private InvalidDataException Truncated(long memberStart) =>
        new($"{_path} is truncated: the data ends at byte {_length}, inside the header of the gzip member that starts at byte {memberStart}. Re-create or re-download the file.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _deflate?.Dispose();
            _file.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // What DeflateStream reads: passes the file through, remembering where the last chunk began and
    // whether the file ran out. Not seekable, so DeflateStream never moves the file itself.
    private sealed class ChunkTracker(FileStream file) : Stream
    {
        public long LastChunkStart { get; private set; } = file.Position;
        public bool Exhausted { get; private set; }
        public override long Position { get => file.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long at = file.Position;
            int n = file.Read(buffer);
            if (n == 0) Exhausted = true;
            else LastChunkStart = at;      // an empty read leaves the last real chunk as the place to search
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
