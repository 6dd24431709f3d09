// Binary token shards: what `loom tokenize` writes and training memory-maps. Layout (all
// little-endian), documented in docs/FORMATS.md:
//   0   8  magic "LOOMTOK\0"
//   8   4  version (1)
//  12   4  bytes per token: 2 (uint16, when the vocabulary fits) or 4 (uint32)
//  16   8  token count
//  24   8  document count
//  32   4  vocabulary size of the tokenizer
//  36   4  document separator id (−1 when none)
//  40  32  tokenizer fingerprint: SHA-256 of its ids, bytes and specials
//  72  56  tokenizer name, UTF-8, zero-padded
// 128      tokens
using Loom.Core.IO;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;

namespace Loom.Tokenizers.Shards;

/// <summary>The fixed 128-byte header of a token shard.</summary>
public sealed record TokenShardHeader(int BytesPerToken, long TokenCount, long DocumentCount, int VocabularySize, int SeparatorId, byte[] Fingerprint, string TokenizerName)
{
    public const int Size = 128;
    public const int Version = 1;
    public static ReadOnlySpan<byte> Magic => "LOOMTOK\0"u8;

    internal void Write(Span<byte> b)
    {
        b[..Size].Clear();
        Magic.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], BytesPerToken);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], TokenCount);
        BinaryPrimitives.WriteInt64LittleEndian(b[24..], DocumentCount);
        BinaryPrimitives.WriteInt32LittleEndian(b[32..], VocabularySize);
        BinaryPrimitives.WriteInt32LittleEndian(b[36..], SeparatorId);
        Fingerprint.AsSpan(0, 32).CopyTo(b[40..]);
        var name = Encoding.UTF8.GetBytes(TokenizerName);
        name.AsSpan(0, Math.Min(name.Length, 56)).CopyTo(b[72..]);
    }

    internal static TokenShardHeader Read(ReadOnlySpan<byte> b, string path, long fileLength)
    {
        if (b.Length < Size || !b[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a Loom token shard (magic at offset 0 is not \"LOOMTOK\"). Create shards with `loom tokenize`.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        if (version != Version)
            throw new InvalidDataException($"{path}: shard version {version} at offset 8; this Loom reads version {Version}. Re-tokenize with this version.");
        int width = BinaryPrimitives.ReadInt32LittleEndian(b[12..]);
        if (width is not (2 or 4)) throw new InvalidDataException($"{path}: bytes per token at offset 12 is {width}; expected 2 or 4.");
        long count = BinaryPrimitives.ReadInt64LittleEndian(b[16..]);
        long expected = Size + count * width;
        if (count < 0 || expected != fileLength)
            throw new InvalidDataException($"{path}: the header at offset 16 says {count} tokens ({expected} bytes) but the file has {fileLength} bytes; it is truncated or was not closed. Re-run `loom tokenize`.");
        int nameLen = b.Slice(72, 56).IndexOf((byte)0);
        return new TokenShardHeader(width, count, BinaryPrimitives.ReadInt64LittleEndian(b[24..]), BinaryPrimitives.ReadInt32LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[36..]), b.Slice(40, 32).ToArray(), Encoding.UTF8.GetString(b.Slice(72, nameLen < 0 ? 56 : nameLen)));
    }

    /// <summary>A tokenizer's identity: SHA-256 over its vocabulary and specials.</summary>
    public static byte[] FingerprintOf(BpeTokenizer tokenizer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> id = stackalloc byte[4];
        foreach (var (bytes, tokenId, _) in tokenizer.Tokens.Entries().OrderBy(e => e.Id))
        {
            BinaryPrimitives.WriteInt32LittleEndian(id, tokenId);
            sha.AppendData(id);
            sha.AppendData(bytes);
        }
        foreach (var (text, tokenId) in tokenizer.SpecialTokens.OrderBy(s => s.Value))
        {
            BinaryPrimitives.WriteInt32LittleEndian(id, tokenId);
            sha.AppendData(id);
            sha.AppendData(Encoding.UTF8.GetBytes(text));
        }
        return sha.GetHashAndReset();
    }
}

/// <summary>Writes one shard; the file appears under its final name only when complete.</summary>
public sealed class TokenShardWriter : IDisposable
{
    private readonly DurableFileWriter _file;
    private readonly FileStream _stream;
    private readonly TokenShardHeader _template;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _buffered;
    private bool _closed;

    /// <summary>Number of tokens written so far.</summary>
    public long TokenCount { get; private set; }

    /// <summary>Number of documents ended so far.</summary>
    public long DocumentCount { get; private set; }

    /// <summary>Starts a shard at <paramref name="path"/> for <paramref name="tokenizer"/>.</summary>
    public TokenShardWriter(string path, BpeTokenizer tokenizer, int separatorId)
    {
        _file = DurableFile.Create(path);
        int width = tokenizer.VocabularySize <= 65536 ? 2 : 4;
        _template = new TokenShardHeader(width, 0, 0, tokenizer.VocabularySize, separatorId, TokenShardHeader.FingerprintOf(tokenizer), tokenizer.Name);
        _stream = _file.Stream;
        _stream.Write(new byte[TokenShardHeader.Size]);
    }

    /// <summary>Appends one document's tokens and, if set, the separator.</summary>
    public void WriteDocument(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids) Put(id);
        if (_template.SeparatorId >= 0) Put(_template.SeparatorId);
        DocumentCount++;
    }

    private void Put(int id)
    {
        if (_buffered + 4 > _buffer.Length) Flush();
        if (_template.BytesPerToken == 2) { BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_buffered), (ushort)id); _buffered += 2; }
        else { BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_buffered), (uint)id); _buffered += 4; }
        TokenCount++;
    }

    private void Flush()
    {
        _stream.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }

    /// <summary>Writes the header, fsyncs and renames the shard into place.</summary>
    public void Complete()
    {
        if (_closed) return;
        Flush();
        var header = new byte[TokenShardHeader.Size];
        (_template with { TokenCount = TokenCount, DocumentCount = DocumentCount }).Write(header);
        _stream.Position = 0;
        _stream.Write(header);
        _file.Commit();
        _closed = true;
    }

    /// <summary>Abandons an incomplete shard (its temporary file is removed).</summary>
    public void Dispose()
    {
        if (_closed) return;
        _file.Dispose();
        _closed = true;
    }
}

/// <summary>A memory-mapped, read-only shard.</summary>
public sealed unsafe class TokenShard : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;

    /// <summary>The header.</summary>
    public TokenShardHeader Header { get; }

    /// <summary>Path of the shard.</summary>
    public string Path { get; }

    /// <summary>Number of tokens.</summary>
    public long Count => Header.TokenCount;

    private TokenShard(string path)
    {
        Path = path;
        long length = new FileInfo(path).Length;
        if (length < TokenShardHeader.Size)
            throw new InvalidDataException($"{path}: {length} bytes is shorter than the {TokenShardHeader.Size}-byte shard header; the file is truncated.");
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        try { Header = TokenShardHeader.Read(new ReadOnlySpan<byte>(_base, TokenShardHeader.Size), path, length); }
        catch { Dispose(); throw; }
    }

    /// <summary>Opens and validates a shard.</summary>
    public static TokenShard Open(string path) => new(path);

    /// <summary>Token <paramref name="index"/>.</summary>
    public int this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Path} holds {Count} tokens.");
            byte* t = _base + TokenShardHeader.Size;
            return Header.BytesPerToken == 2 ? ((ushort*)t)[index] : (int)((uint*)t)[index];
        }
    }

    /// <summary>Copies tokens [start, start + destination.Length) into <paramref name="destination"/>.</summary>
    public void CopyTo(long start, Span<int> destination)
    {
        if (start < 0 || start + destination.Length > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Tokens [{start}, {start + destination.Length}) are outside {Path} ({Count} tokens).");
        byte* t = _base + TokenShardHeader.Size;
        if (Header.BytesPerToken == 2)
        {
            ushort* s = (ushort*)t + start;
            for (int i = 0; i < destination.Length; i++) destination[i] = s[i];
        }
        else new ReadOnlySpan<int>((int*)t + start, destination.Length).CopyTo(destination);
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
