// safetensors (huggingface/safetensors, docs "Format"): an 8-byte little-endian header length N,
// N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data; offsets are relative to the start of the data. The format has no magic, so every
// field is checked: header length within the file, offsets within the data and in order, byte
// counts equal to shape × dtype size. Errors name the file, the tensor and the offending value.
using Loom.Core.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Kernels;
using Loom.Core.Tensors;

namespace Loom.Models.Formats;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>Reads a safetensors file: header parsed on open, tensors read on demand.</summary>
public sealed class SafetensorsFile : IDisposable
{
    private const long MaxHeader = 100_000_000;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private readonly long _dataStart;

    /// <summary>Path of the file.</summary>
    public string Path { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; }

    /// <summary>The __metadata__ strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path);
        try
        {
            long length = RandomAccess.GetLength(_handle);
            Span<byte> lenBytes = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(_handle, lenBytes, 0) != 8)
                throw new InvalidDataException($"{path}: {length} bytes is too short for a safetensors file (it starts with an 8-byte header length).");
            long n = BinaryPrimitives.ReadInt64LittleEndian(lenBytes);
            if (n <= 0 || n > MaxHeader || 8 + n > length)
                throw new InvalidDataException($"{path}: header length {n} at offset 0 does not fit the file of {length} bytes; the file is truncated or not safetensors.");
            var header = new byte[n];
            RandomAccess.Read(_handle, header, 8);
            _dataStart = 8 + n;
            JsonObject root;
            try { root = JsonNode.Parse(header)?.AsObject() ?? throw new InvalidDataException($"{path}: the header is empty."); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: the JSON header (bytes 8..{8 + n}) is invalid: {e.Message}", e); }
            var tensors = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var meta = new Dictionary<string, string>();
            long dataLength = length - _dataStart;
            foreach (var (name, node) in root)
            {
                if (name == "__metadata__")
                {
                    if (node is not JsonObject metaObject) throw new InvalidDataException($"{path}: \"__metadata__\" is {node?.ToJsonString() ?? "null"}; it must be an object of strings.");
                    foreach (var (k, v) in metaObject) meta[k] = v?.ToString() ?? "";
                    continue;
                }
                // Every field is read with its JSON type checked, so a damaged header is named field by field
                // rather than in .NET's words ("An element of type 'Number' cannot be converted to a 'System.String'").
                var o = node as JsonObject ?? throw new InvalidDataException($"{path}: tensor \"{name}\" has no header object.");
                string dtype = o["dtype"] is null ? throw new InvalidDataException($"{path}: tensor \"{name}\" has no dtype.")
                    : o["dtype"] is JsonValue dv && dv.TryGetValue(out string? ds) ? ds
                    : throw new InvalidDataException($"{path}: tensor \"{name}\" has dtype {o["dtype"]!.ToJsonString()}; it must be a string such as \"F32\", \"F16\" or \"BF16\".");
                long[] shape = o["shape"] is null ? throw new InvalidDataException($"{path}: tensor \"{name}\" has no shape.")
                    : Longs(o["shape"], path, name, "shape") ?? throw new InvalidDataException($"{path}: tensor \"{name}\" has shape {o["shape"]!.ToJsonString()}; it must be a list of whole numbers ≥ 0.");
                var offs = Longs(o["data_offsets"], path, name, "data_offsets");
                if (offs is not { Length: 2 })
                    throw new InvalidDataException($"{path}: tensor \"{name}\" has data_offsets {o["data_offsets"]?.ToJsonString() ?? "missing"}; it must be [begin, end], two whole numbers.");
                if (shape.Any(d => d < 0)) throw new InvalidDataException($"{path}: tensor \"{name}\" has shape {o["shape"]!.ToJsonString()}; dimensions must be ≥ 0.");
                var e = new SafetensorsEntry(name, dtype, shape, offs[0], offs[1]);
                long want = e.ElementCount * DTypeSize(dtype, path, name);
                if (e.Begin < 0 || e.End < e.Begin || e.End > dataLength)
                    throw new InvalidDataException($"{path}: tensor \"{name}\" spans data bytes [{e.Begin}, {e.End}) but the data holds {dataLength} bytes; the file is truncated.");
                if (e.End - e.Begin != want)
                    throw new InvalidDataException($"{path}: tensor \"{name}\" is {dtype}{e.ShapeText} ({want} bytes) but its data_offsets span {e.End - e.Begin} bytes.");
                tensors[name] = e;
            }
            Tensors = tensors;
            Metadata = meta;
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    // A JSON list of whole numbers, or null when the node is anything else.
    private static long[]? Longs(JsonNode? node, string path, string name, string field)
    {
        if (node is not JsonArray a) return null;
        var result = new long[a.Count];
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] is not JsonValue v || !v.TryGetValue(out long x)) return null;
            result[i] = x;
        }
        return result;
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint {path} does not exist.", path);
        return new SafetensorsFile(path);
    }

    /// <summary>The entry <paramref name="name"/>; throws naming the file and the tensor when missing.</summary>
    public SafetensorsEntry Get(string name) =>
        Tensors.TryGetValue(name, out var e) ? e
            : throw new KeyNotFoundException($"{Path}: no tensor \"{name}\". It holds {Tensors.Count} tensors, e.g. {string.Join(", ", Tensors.Keys.Take(5))}.");

    /// <summary>Reads tensor <paramref name="name"/> as f32 into <paramref name="destination"/>, converting f16/bf16; checks the shape.</summary>
    public void ReadSingle(string name, Span<float> destination, ReadOnlySpan<long> expectedShape)
    {
        var e = Get(name);
        if (!e.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new InvalidDataException($"{Path}: tensor \"{name}\" has shape {e.ShapeText} but the model expects [{string.Join(", ", expectedShape.ToArray())}]; the checkpoint is of another configuration or architecture.");
        if (destination.Length != e.ElementCount) throw new ArgumentException($"Destination holds {destination.Length} elements; \"{name}\" has {e.ElementCount}.");
        switch (e.DType)
        {
            case "F32":
                RandomAccess.Read(_handle, MemoryMarshal.AsBytes(destination), _dataStart + e.Begin);
                break;
            case "F16":
            {
                var tmp = new Half[e.ElementCount];
                RandomAccess.Read(_handle, MemoryMarshal.AsBytes(tmp.AsSpan()), _dataStart + e.Begin);
                Precision.ToSingle(tmp, destination);
                break;
            }
            case "BF16":
            {
                var tmp = new BFloat16[e.ElementCount];
                RandomAccess.Read(_handle, MemoryMarshal.AsBytes(tmp.AsSpan()), _dataStart + e.Begin);
                Precision.ToSingle(tmp, destination);
                break;
            }
            default:
                throw new NotSupportedException($"{Path}: tensor \"{name}\" is {e.DType}; Loom reads F32, F16 and BF16 weights.");
        }
    }

    /// <summary>Reads tensor <paramref name="name"/> as a new f32 array (any float dtype).</summary>
    public float[] ReadSingle(string name)
    {
        var e = Get(name);
        var a = new float[e.ElementCount];
        ReadSingle(name, a, e.Shape);
        return a;
    }

    /// <summary>Reads an I32 tensor (token ids).</summary>
    public int[] ReadInt32(string name)
    {
        var e = Get(name);
        if (e.DType != "I32") throw new InvalidDataException($"{Path}: tensor \"{name}\" is {e.DType}, expected I32.");
        var a = new int[e.ElementCount];
        RandomAccess.Read(_handle, MemoryMarshal.AsBytes(a.AsSpan()), _dataStart + e.Begin);
        return a;
    }

    /// <summary>Reads a U8 tensor's bytes (quantized blocks) into <paramref name="destination"/>, which must be exactly its size.</summary>
    public void ReadBytes(string name, Span<byte> destination)
    {
        var e = Get(name);
        if (e.DType != "U8") throw new InvalidDataException($"{Path}: tensor \"{name}\" is {e.DType}, expected U8 (quantized blocks).");
        if (destination.Length != e.End - e.Begin)
            throw new InvalidDataException($"{Path}: tensor \"{name}\" holds {e.End - e.Begin} bytes at data offset {e.Begin}; {destination.Length} were expected.");
        RandomAccess.Read(_handle, destination, _dataStart + e.Begin);
    }

    private static int DTypeSize(string dtype, string path, string name) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => throw new InvalidDataException($"{path}: tensor \"{name}\" has unknown dtype \"{dtype}\"."),
    };

    public void Dispose() => _handle.Dispose();
}

/// <summary>Writes safetensors files atomically (temporary file, fsync, rename).</summary>
public static class SafetensorsWriter
{
    /// <summary>A tensor to write: f32 data with its shape, or i32 data, or raw u8 bytes (quantized blocks).</summary>
    public readonly record struct Item(string Name, long[] Shape, ReadOnlyMemory<float> Single, ReadOnlyMemory<int> Int32 = default, ReadOnlyMemory<byte> UInt8 = default);

    /// <summary>Writes <paramref name="items"/> (sorted by name, as the reference writer does) with <paramref name="metadata"/>.</summary>
    public static void Write(string path, IEnumerable<Item> items, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = items.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            header["__metadata__"] = m;
        }
        long offset = 0;
        foreach (var it in list)
        {
            bool isInt = it.Int32.Length > 0, isByte = it.UInt8.Length > 0;
            int size = isByte ? 1 : 4;
            long bytes = isByte ? it.UInt8.Length : 4L * (isInt ? it.Int32.Length : it.Single.Length);
            long count = it.Shape.Aggregate(1L, (a, b) => a * b);
            if (count * size != bytes) throw new ArgumentException($"Tensor \"{it.Name}\" has {bytes / size} elements but shape [{string.Join(", ", it.Shape)}].");
            header[it.Name] = new JsonObject
            {
                ["dtype"] = isByte ? "U8" : isInt ? "I32" : "F32",
                ["shape"] = new JsonArray(it.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] h = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - h.Length % 8) % 8;
        using (var writer = DurableFile.Create(path, 1 << 20))
        {
            var fs = writer.Stream;
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(len, h.Length + pad);
            fs.Write(len);
            fs.Write(h);
            for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
            foreach (var it in list)
            {
                if (it.UInt8.Length > 0) fs.Write(it.UInt8.Span);
                else if (it.Int32.Length > 0) fs.Write(MemoryMarshal.AsBytes(it.Int32.Span));
                else fs.Write(MemoryMarshal.AsBytes(it.Single.Span));
            }
            writer.Commit();
        }
    }
}
