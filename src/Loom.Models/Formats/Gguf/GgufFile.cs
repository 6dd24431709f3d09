// Reads a GGUF v2/v3 file (ggml docs/gguf.md; gguf-py gguf_reader.py; ggml/src/gguf.cpp):
//
//   uint32 magic "GGUF" · uint32 version · uint64 tensor_count · uint64 metadata_kv_count
//   metadata_kv_count × { gguf_string key · uint32 value_type · value }     (arrays: uint32 type, uint64 n, items)
//   tensor_count × { gguf_string name · uint32 n_dims · uint64 ne[n_dims] · uint32 ggml_type · uint64 offset }
//   padding to general.alignment (default 32) · tensor data (each offset relative to here, aligned)
//
// gguf_string is a uint64 byte length then UTF-8 bytes, not NUL-terminated. Everything is little-endian.
// The header is parsed on open; tensor bytes are read on demand. Every count and length is checked
// against the bytes that remain before anything is allocated, so a truncated or hostile file gives an
// InvalidDataException naming the file, the byte offset and the field (e.g. "offset 1234: metadata
// key 7 (tokenizer.ggml.tokens) item 50 (string length)"), never an OutOfMemoryException.
using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Loom.Models.Formats.Gguf;

/// <summary>An open GGUF file: metadata and tensor infos parsed, tensor bytes read on demand.</summary>
public sealed class GgufFile : IDisposable
{
    /// <summary>"GGUF" as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The default data alignment when general.alignment is absent.</summary>
    public const int DefaultAlignment = 32;

    // ggml's GGML_MAX_DIMS and GGML_MAX_NAME (tensor names are at most 63 bytes plus the NUL).
    internal const int MaxDimensions = 4;
    internal const int MaxNameBytes = 63;

    private readonly SafeFileHandle _handle;

    /// <summary>Path of the file.</summary>
    public string Path { get; }

    /// <summary>Format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Byte offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>The data alignment (general.alignment or 32).</summary>
    public int Alignment { get; }

    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path);
        try
        {
            long length = RandomAccess.GetLength(_handle);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);   // its own handle: disposing it must not close _handle
            var r = new Reader(stream, length, path);
            uint magic = r.UInt32("magic");
            if (magic != Magic)
                throw new InvalidDataException($"{path}: offset 0: magic is 0x{magic:X8} (\"{Printable(BitConverter.GetBytes(magic))}\"), not \"GGUF\"; this is not a GGUF file.");
            Version = r.UInt32("version");
            if (Version is not (2 or 3))
                throw new InvalidDataException($"{path}: offset 4: version is {Version}; Loom reads GGUF versions 2 and 3 (version 1 used 32-bit counts; re-convert the model with a current llama.cpp).");
            long tensorCount = r.Count("tensor_count", minBytesEach: 8 + 4 + 4 + 8);
            long kvCount = r.Count("metadata_kv_count", minBytesEach: 8 + 4);
            var meta = new Dictionary<string, GgufValue>((int)Math.Min(kvCount, 1 << 16), StringComparer.Ordinal);
            for (long i = 0; i < kvCount; i++)
            {
                long at = r.Position;
                string key = r.String($"metadata key {i} (name)");
                var type = (GgufValueType)r.UInt32($"metadata key {i} ({key}) value type");
                var value = r.Value(type, $"metadata key {i} ({key})", depth: 0);
                if (!meta.TryAdd(key, value))
                    throw new InvalidDataException($"{path}: offset {at}: metadata key {i} (\"{key}\") appears twice; GGUF keys are unique.");
            }
            Metadata = meta;
            Alignment = DefaultAlignment;
            if (meta.TryGetValue("general.alignment", out var align))
            {
                if (align.Type != GgufValueType.UInt32 || align.AsInteger is not long a || a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
                    throw new InvalidDataException($"{path}: metadata general.alignment is {align} ({align.Type}); it must be a uint32 power of two.");
                Alignment = (int)a;
            }
            var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 1 << 16));
            var pending = new List<(string Name, long[] Ne, GgmlType Type, long Offset, long At)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (long i = 0; i < tensorCount; i++)
            {
                long at = r.Position;
                string name = r.String($"tensor {i} (name)");
                string field = $"tensor {i} ({name})";
                if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
                    throw new InvalidDataException($"{path}: offset {at}: {field} name is {Encoding.UTF8.GetByteCount(name)} bytes; ggml allows at most {MaxNameBytes}.");
                if (!names.Add(name))
                    throw new InvalidDataException($"{path}: offset {at}: {field} appears twice; tensor names are unique.");
                long dimsAt = r.Position;
                uint nDims = r.UInt32(field + " n_dims");
                if (nDims == 0 || nDims > MaxDimensions)
                    throw new InvalidDataException($"{path}: offset {dimsAt}: {field} n_dims is {nDims}; it must be 1 to {MaxDimensions}.");
                var ne = new long[nDims];
                for (int d = 0; d < nDims; d++)
                {
                    long neAt = r.Position;
                    ulong v = r.UInt64($"{field} ne[{d}]");
                    if (v == 0 || v > long.MaxValue / 8)
                        throw new InvalidDataException($"{path}: offset {neAt}: {field} ne[{d}] is {v}; dimensions must be ≥ 1.");
                    ne[d] = (long)v;
                }
                long typeAt = r.Position;
                var type = (GgmlType)r.UInt32(field + " type");
                if (GgmlTypes.Size(type) is not { } size)
                    throw new InvalidDataException($"{path}: offset {typeAt}: {field} type is {(uint)type}, which no ggml version defines.");
                if (ne[0] % size.BlockSize != 0)
                    throw new InvalidDataException($"{path}: offset {dimsAt}: {field} ne[0] is {ne[0]}, not a multiple of the {type} block size {size.BlockSize}.");
                long offAt = r.Position;
                ulong off = r.UInt64(field + " offset");
                if (off > long.MaxValue) throw new InvalidDataException($"{path}: offset {offAt}: {field} data offset {off} is beyond any file.");
                if ((long)off % Alignment != 0)
                    throw new InvalidDataException($"{path}: offset {offAt}: {field} data offset {off} is not a multiple of the alignment {Alignment}.");
                pending.Add((name, ne, type, (long)off, offAt));
            }
            long headerEnd = r.Position;
            DataOffset = (headerEnd + Alignment - 1) / Alignment * Alignment;
            foreach (var (name, ne, type, off, at) in pending)
            {
                long bytes;
                try { bytes = GgmlTypes.ByteCount(type, ne); }
                catch (OverflowException) { throw new InvalidDataException($"{path}: offset {at}: tensor {name} of {type}[{string.Join(", ", ne)}] is larger than any file."); }
                if (DataOffset + off + bytes > length || DataOffset + off < DataOffset)
                    throw new InvalidDataException($"{path}: offset {at}: tensor {name} ({type}[{string.Join(", ", ne)}], {bytes} bytes) spans file bytes [{DataOffset + off}, {DataOffset + off + bytes}) but the file has {length} bytes; the file is truncated.");
                tensors.Add(new GgufTensorInfo(name, ne, type, off, DataOffset + off, bytes));
            }
            Tensors = tensors;
            _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            // Overlapping tensors mean a damaged table: two weights would read the same bytes.
            var sorted = tensors.OrderBy(t => t.RelativeOffset).ToList();
            for (int i = 1; i < sorted.Count; i++)
                if (sorted[i].RelativeOffset < sorted[i - 1].RelativeOffset + sorted[i - 1].ByteCount)
                    throw new InvalidDataException($"{path}: tensors {sorted[i - 1].Name} and {sorted[i].Name} overlap in the data section (offsets {sorted[i - 1].RelativeOffset} + {sorted[i - 1].ByteCount} > {sorted[i].RelativeOffset}).");
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public static GgufFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"GGUF file {path} does not exist.", path);
        return new GgufFile(path);
    }

    /// <summary>True when <paramref name="path"/> is a file starting with the GGUF magic.</summary>
    public static bool IsGguf(string path)
    {
        // Only a regular file is probed: opening a FIFO would block until a writer appears.
        if (Loom.Core.IO.InputFiles.KindOf(path) != Loom.Core.IO.InputFileKind.Regular) return false;
        using var s = File.OpenRead(path);
        Span<byte> b = stackalloc byte[4];
        return s.ReadAtLeast(b, 4, throwOnEndOfStream: false) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(b) == Magic;
    }

    /// <summary>The tensor <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? Find(string name) => _byName.TryGetValue(name, out var t) ? t : null;

    /// <summary>The tensor <paramref name="name"/>; throws naming the file when it is missing.</summary>
    public GgufTensorInfo Get(string name) => Find(name)
        ?? throw new InvalidDataException($"{Path}: no tensor \"{name}\". It holds {Tensors.Count} tensors, e.g. {string.Join(", ", Tensors.Take(5).Select(t => t.Name))}.");

    /// <summary>Reads the raw bytes of <paramref name="tensor"/> into <paramref name="destination"/> (exactly <see cref="GgufTensorInfo.ByteCount"/> long).</summary>
    public void ReadBytes(GgufTensorInfo tensor, Span<byte> destination)
    {
        if (destination.Length != tensor.ByteCount) throw new ArgumentException($"Destination holds {destination.Length} bytes; {tensor.Name} has {tensor.ByteCount}.");
        int read = RandomAccess.Read(_handle, destination, tensor.FileOffset);
        if (read != destination.Length) throw new InvalidDataException($"{Path}: tensor {tensor.Name} at offset {tensor.FileOffset}: read {read} of {destination.Length} bytes; the file was truncated while open.");
    }

    /// <summary>A required string; throws naming the key.</summary>
    public string GetString(string key) => Metadata.TryGetValue(key, out var v)
        ? v.Value as string ?? throw new InvalidDataException($"{Path}: metadata {key} is {v} ({v.Type}); it must be a string.")
        : throw new InvalidDataException($"{Path}: metadata {key} is missing.");

    /// <summary>A whole number, from any integer type; <paramref name="fallback"/> when absent, else throws naming the key.</summary>
    public long GetInteger(string key, long? fallback = null) => Metadata.TryGetValue(key, out var v)
        ? v.AsInteger ?? throw new InvalidDataException($"{Path}: metadata {key} is {v} ({v.Type}); it must be a whole number.")
        : fallback ?? throw new InvalidDataException($"{Path}: metadata {key} is missing.");

    /// <summary>A number; <paramref name="fallback"/> when absent, else throws naming the key.</summary>
    public double GetNumber(string key, double? fallback = null) => Metadata.TryGetValue(key, out var v)
        ? v.AsNumber ?? throw new InvalidDataException($"{Path}: metadata {key} is {v} ({v.Type}); it must be a number.")
        : fallback ?? throw new InvalidDataException($"{Path}: metadata {key} is missing.");

    /// <summary>An array of <typeparamref name="T"/>, or null when absent; throws naming the key when it holds another type.</summary>
    public T[]? GetArray<T>(string key) => Metadata.TryGetValue(key, out var v)
        ? v.Value as T[] ?? throw new InvalidDataException($"{Path}: metadata {key} is {v} ({v.Type}); it must be an array of {typeof(T).Name}.")
        : null;

    public void Dispose() => _handle.Dispose();

    private static string Printable(byte[] b) => new(b.Select(c => c is >= 32 and < 127 ? (char)c : '.').ToArray());

    // A forward-only reader that knows its offset and the bytes left, and names the field on every failure.
    private sealed class Reader(Stream stream, long length, string path)
    {
        private const int MaxDepth = 4;
        private readonly byte[] _scratch = new byte[8];
        public long Position { get; private set; }

        private void Fill(Span<byte> buffer, string field)
        {
            if (length - Position < buffer.Length)
                throw new InvalidDataException($"{path}: offset {Position}: {field} needs {buffer.Length} bytes but the file ends at {length}; the file is truncated.");
            stream.ReadExactly(buffer);
            Position += buffer.Length;
        }

        public uint UInt32(string field) { Fill(_scratch.AsSpan(0, 4), field); return BinaryPrimitives.ReadUInt32LittleEndian(_scratch); }
        public ulong UInt64(string field) { Fill(_scratch.AsSpan(0, 8), field); return BinaryPrimitives.ReadUInt64LittleEndian(_scratch); }

        // A count whose items take at least minBytesEach: more than the remaining bytes could hold is damage.
        public long Count(string field, int minBytesEach)
        {
            long at = Position;
            ulong n = UInt64(field);
            if (n > (ulong)Math.Max(0, length - Position) / (ulong)minBytesEach)
                throw new InvalidDataException($"{path}: offset {at}: {field} is {n}, more than the {length - Position} remaining bytes can hold; the file is truncated or damaged.");
            return (long)n;
        }

        public string String(string field)
        {
            long at = Position;
            ulong n = UInt64(field + " string length");
            if (n > (ulong)(length - Position))
                throw new InvalidDataException($"{path}: offset {at}: {field} string length is {n} bytes but {length - Position} remain; the file is truncated or damaged.");
            if (n > int.MaxValue) throw new InvalidDataException($"{path}: offset {at}: {field} string length {n} is too large.");
            var bytes = new byte[n];
            Fill(bytes, field);
            try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
            catch (DecoderFallbackException) { throw new InvalidDataException($"{path}: offset {at + 8}: {field} is not valid UTF-8."); }
        }

        public GgufValue Value(GgufValueType type, string field, int depth)
        {
            long at = Position;
            switch (type)
            {
                case GgufValueType.UInt8: Fill(_scratch.AsSpan(0, 1), field); return new(type, _scratch[0]);
                case GgufValueType.Int8: Fill(_scratch.AsSpan(0, 1), field); return new(type, (sbyte)_scratch[0]);
                case GgufValueType.UInt16: Fill(_scratch.AsSpan(0, 2), field); return new(type, BinaryPrimitives.ReadUInt16LittleEndian(_scratch));
                case GgufValueType.Int16: Fill(_scratch.AsSpan(0, 2), field); return new(type, BinaryPrimitives.ReadInt16LittleEndian(_scratch));
                case GgufValueType.UInt32: return new(type, UInt32(field));
                case GgufValueType.Int32: return new(type, (int)UInt32(field));
                case GgufValueType.Float32: return new(type, BitConverter.UInt32BitsToSingle(UInt32(field)));
                case GgufValueType.UInt64: return new(type, UInt64(field));
                case GgufValueType.Int64: return new(type, (long)UInt64(field));
                case GgufValueType.Float64: return new(type, BitConverter.UInt64BitsToDouble(UInt64(field)));
                case GgufValueType.Bool:
                    Fill(_scratch.AsSpan(0, 1), field);
                    if (_scratch[0] > 1) throw new InvalidDataException($"{path}: offset {at}: {field} is a bool of value {_scratch[0]}; it must be 0 or 1.");
                    return new(type, _scratch[0] == 1);
                case GgufValueType.String: return new(type, String(field));
                case GgufValueType.Array:
                {
                    if (depth >= MaxDepth) throw new InvalidDataException($"{path}: offset {at}: {field} nests arrays deeper than {MaxDepth}.");
                    var element = (GgufValueType)UInt32(field + " array type");
                    int min = element switch
                    {
                        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
                        GgufValueType.Array => 12,
                        _ => throw new InvalidDataException($"{path}: offset {at}: {field} array type is {(uint)element}, not a GGUF value type (0..12)."),
                    };
                    long n = Count(field + " array length", min);
                    Array items = element switch
                    {
                        GgufValueType.UInt8 => new byte[n], GgufValueType.Int8 => new sbyte[n], GgufValueType.UInt16 => new ushort[n],
                        GgufValueType.Int16 => new short[n], GgufValueType.UInt32 => new uint[n], GgufValueType.Int32 => new int[n],
                        GgufValueType.Float32 => new float[n], GgufValueType.Bool => new bool[n], GgufValueType.String => new string[n],
                        GgufValueType.UInt64 => new ulong[n], GgufValueType.Int64 => new long[n], GgufValueType.Float64 => new double[n],
                        _ => new GgufValue[n],
                    };
                    for (long i = 0; i < n; i++)
                    {
                        var item = element == GgufValueType.Array
                            ? Value(GgufValueType.Array, $"{field} item {i}", depth + 1)
                            : Value(element, $"{field} item {i}", depth + 1);
                        items.SetValue(element == GgufValueType.Array ? item : item.Value, i);
                    }
                    return new(type, items, element);
                }
                default:
                    throw new InvalidDataException($"{path}: offset {at - 4}: {field} value type is {(uint)type}, not a GGUF value type (0..12).");
            }
        }
    }
}
