// One GGUF metadata value with its file type. Scalars are held as the matching .NET type (byte, sbyte,
// ushort, short, uint, int, float, bool, string, ulong, long, double); an array as a .NET array of
// its element type (string[], int[], ...), or object[] of GgufValue for arrays of arrays. Keeping the
// type beside the value lets a file be rewritten with the same types (uint32 stays uint32), which
// llama.cpp checks strictly (e.g. tokenizer.ggml.bos_token_id must be an unsigned 32-bit integer).
using System.Globalization;

namespace Loom.Models.Formats.Gguf;

/// <summary>A typed GGUF metadata value.</summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue Of(string s) => new(GgufValueType.String, s);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue Of(string[] items) => new(GgufValueType.Array, items, GgufValueType.String);
    public static GgufValue Of(int[] items) => new(GgufValueType.Array, items, GgufValueType.Int32);
    public static GgufValue Of(float[] items) => new(GgufValueType.Array, items, GgufValueType.Float32);

    /// <summary>The value as a whole number, from any integer type; null for other types.</summary>
    public long? AsInteger => Value switch
    {
        byte b => b, sbyte b => b, ushort s => s, short s => s, uint u => u, int i => i, long l => l,
        ulong u => u <= long.MaxValue ? (long)u : null,
        _ => null,
    };

    /// <summary>The value as a number, from any integer or float type; null for other types.</summary>
    public double? AsNumber => Value switch { float f => f, double d => d, _ => AsInteger };

    /// <summary>Number of items of an array value; 0 for scalars.</summary>
    public int Count => Value is Array a ? a.Length : 0;

    public override string ToString() => Value switch
    {
        string s => "\"" + s + "\"",
        Array a => $"[{ElementType} × {a.Length}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}
