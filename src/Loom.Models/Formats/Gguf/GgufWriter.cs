// Writes a GGUF v3 file (ggml docs/gguf.md; the same layout as gguf-py's GGUFWriter): header, metadata
// in the order added, tensor infos, padding to the alignment, then each tensor's bytes padded to the
// alignment. Tensor bytes are produced one tensor at a time by a callback, so exporting a model never
// holds more than its largest tensor twice. The file is written through DurableFile (a temporary file
// renamed into place), so a crash never leaves a half-written .gguf under the final name.
using System.Buffers.Binary;
using System.Text;
using Loom.Core.IO;

namespace Loom.Models.Formats.Gguf;

/// <summary>Builds and writes a GGUF v3 file.</summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = new();
    private readonly List<(string Name, long[] Ne, GgmlType Type, long Bytes, Action<Span<byte>> Fill)> _tensors = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Data alignment (general.alignment is written only when it is not the default 32).</summary>
    public int Alignment { get; init; } = GgufFile.DefaultAlignment;

    /// <summary>Adds a metadata key; keys are unique.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!_keys.Add(key)) throw new ArgumentException($"GGUF metadata key {key} was added twice.");
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Metadata added so far, in order.</summary>
    public IReadOnlyList<(string Key, GgufValue Value)> Metadata => _metadata;

    /// <summary>
    /// Adds a tensor of <paramref name="type"/> with ggml dimensions <paramref name="ne"/> (ne[0] contiguous);
    /// <paramref name="fill"/> writes its exact bytes when the file is written.
    /// </summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] ne, Action<Span<byte>> fill)
    {
        if (Encoding.UTF8.GetByteCount(name) > GgufFile.MaxNameBytes) throw new ArgumentException($"GGUF tensor name \"{name}\" is longer than ggml's {GgufFile.MaxNameBytes} bytes.");
        if (ne.Length is 0 or > GgufFile.MaxDimensions) throw new ArgumentException($"GGUF tensor {name} has {ne.Length} dimensions; ggml allows 1 to {GgufFile.MaxDimensions}.");
        if (!_names.Add(name)) throw new ArgumentException($"GGUF tensor {name} was added twice.");
        long bytes = GgmlTypes.ByteCount(type, ne);
        if (bytes > int.MaxValue) throw new ArgumentException($"GGUF tensor {name} is {bytes} bytes; Loom writes tensors up to 2 GiB each.");
        _tensors.Add((name, (long[])ne.Clone(), type, bytes, fill));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/> (atomically).</summary>
    public void Write(string path, CancellationToken cancellationToken = default) =>
        DurableFile.Write(path, s => Write(s, cancellationToken), 1 << 20);

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void Write(Stream stream, CancellationToken cancellationToken = default)
    {
        var w = new BinaryWriter(stream, new UTF8Encoding(false), leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        var metadata = _metadata.ToList();
        if (Alignment != GgufFile.DefaultAlignment && !_keys.Contains("general.alignment"))
            metadata.Insert(0, ("general.alignment", GgufValue.Of((uint)Alignment)));
        w.Write((ulong)metadata.Count);
        long position = 24;
        foreach (var (key, value) in metadata)
        {
            position += WriteString(w, key);
            w.Write((uint)value.Type);
            position += 4 + WriteValue(w, value, key);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            position += WriteString(w, t.Name);
            w.Write((uint)t.Ne.Length);
            foreach (long d in t.Ne) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            position += 4 + 8L * t.Ne.Length + 4 + 8;
            offset = Align(offset + t.Bytes);
        }
        Pad(w, Align(position) - position);
        byte[] buffer = [];
        foreach (var t in _tensors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (buffer.Length < t.Bytes) buffer = new byte[t.Bytes];
            var span = buffer.AsSpan(0, (int)t.Bytes);
            span.Clear();
            t.Fill(span);
            w.Write(span);
            Pad(w, Align(t.Bytes) - t.Bytes);
        }
        w.Flush();
    }

    private long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w, long n)
    {
        for (long i = 0; i < n; i++) w.Write((byte)0);
    }

    private static long WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
        return 8 + bytes.Length;
    }

    // Writes the value's payload (not its type id); returns the bytes written.
    private static long WriteValue(BinaryWriter w, GgufValue v, string key)
    {
        object x = v.Value;
        switch (v.Type)
        {
            case GgufValueType.UInt8: w.Write(Convert<byte>(x, v, key)); return 1;
            case GgufValueType.Int8: w.Write(Convert<sbyte>(x, v, key)); return 1;
            case GgufValueType.UInt16: w.Write(Convert<ushort>(x, v, key)); return 2;
            case GgufValueType.Int16: w.Write(Convert<short>(x, v, key)); return 2;
            case GgufValueType.UInt32: w.Write(Convert<uint>(x, v, key)); return 4;
            case GgufValueType.Int32: w.Write(Convert<int>(x, v, key)); return 4;
            case GgufValueType.Float32: w.Write(Convert<float>(x, v, key)); return 4;
            case GgufValueType.UInt64: w.Write(Convert<ulong>(x, v, key)); return 8;
            case GgufValueType.Int64: w.Write(Convert<long>(x, v, key)); return 8;
            case GgufValueType.Float64: w.Write(Convert<double>(x, v, key)); return 8;
            case GgufValueType.Bool: w.Write((byte)(Convert<bool>(x, v, key) ? 1 : 0)); return 1;
            case GgufValueType.String: return WriteString(w, Convert<string>(x, v, key));
            case GgufValueType.Array:
            {
                var items = x as Array ?? throw new ArgumentException($"GGUF metadata {key}: an array value must hold a .NET array; it holds {x.GetType().Name}.");
                w.Write((uint)v.ElementType);
                w.Write((ulong)items.Length);
                long n = 12;
                foreach (var item in items)
                    n += item is GgufValue inner ? WriteTyped(w, inner, key) : WriteValue(w, new GgufValue(v.ElementType, item!), key);
                return n;
            }
            default: throw new ArgumentException($"GGUF metadata {key}: unknown value type {v.Type}.");
        }
    }

    // An array of arrays: each item carries its own element type after the outer array's type.
    private static long WriteTyped(BinaryWriter w, GgufValue v, string key) => WriteValue(w, v, key);

    private static T Convert<T>(object x, GgufValue v, string key) =>
        x is T t ? t : throw new ArgumentException($"GGUF metadata {key}: a {v.Type} value must be a {typeof(T).Name}; it is {x.GetType().Name}.");
}
