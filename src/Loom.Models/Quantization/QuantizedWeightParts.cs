// How each form of quantized weight is laid out in a quantized model directory (docs/FORMATS.md,
// "Quantized model directory"). The main file (model.safetensors) holds every quantized weight under
// its own name as a U8 tensor (out, row bytes) — ggml-style blocks, or for double-quantized NF4 only
// the 4-bit codes (out, in/2) — so CausalLanguageModels.LoadWeights' name check is unchanged. What a
// plain block format does not have goes to quantization_extra.safetensors beside it:
//   <name>.absmax_codes   U8  (out·in/64)          8-bit dynamic code of each NF4 block's absmax
//   <name>.absmax_scales  F32 (⌈out·in/64 / 256⌉)  one scale per 256 codes
//   <name>.absmax_offset  F32 (1)                  the absmaxes' mean
//   <name>.outlier_rows   I32 (out + 1)            CSR row starts of the SpQR outliers
//   <name>.outlier_cols   U8  (nnz, 2)             uint16 little-endian column of each outlier
//   <name>.outlier_values U8  (nnz, 2)             fp16 little-endian correction of each outlier
using System.Buffers.Binary;
using Loom.Core.Kernels.Quantized;
using Loom.Models.Formats;

namespace Loom.Models.Quantization;

/// <summary>Writes and reads the tensors of each quantized-weight form.</summary>
public static class QuantizedWeightParts
{
    /// <summary>The file beside model.safetensors with double-quantization scales and outliers.</summary>
    public const string ExtraFile = "quantization_extra.safetensors";

    /// <summary>The description of <paramref name="weight"/> stored as <paramref name="name"/>.</summary>
    public static QuantizedTensor Describe(string name, QuantFormat format, IQuantizedWeight weight)
    {
        var inner = weight is OutlierMatrix o ? o.Base : weight;
        return new QuantizedTensor(name, format, weight.Rows, weight.Columns, inner is Nf4DoubleQuantMatrix, (weight as OutlierMatrix)?.Count ?? 0);
    }

    /// <summary>Adds <paramref name="weight"/>'s main tensor to <paramref name="main"/> and its other parts to <paramref name="extra"/>.</summary>
    public static void AddItems(string name, IQuantizedWeight weight, List<SafetensorsWriter.Item> main, List<SafetensorsWriter.Item> extra)
    {
        var inner = weight is OutlierMatrix o ? o.Base : weight;
        switch (inner)
        {
            case QuantizedMatrix m:
                main.Add(new SafetensorsWriter.Item(name, [m.Rows, m.RowBytes], default, default, m.Blocks.ToArray()));
                break;
            case Nf4DoubleQuantMatrix d:
                main.Add(new SafetensorsWriter.Item(name, [d.Rows, d.Columns / 2], default, default, d.Nibbles.ToArray()));
                extra.Add(new SafetensorsWriter.Item(name + ".absmax_codes", [d.AbsmaxCodes.Length], default, default, d.AbsmaxCodes.ToArray()));
                extra.Add(new SafetensorsWriter.Item(name + ".absmax_scales", [d.AbsmaxScales.Length], d.AbsmaxScales.ToArray()));
                extra.Add(new SafetensorsWriter.Item(name + ".absmax_offset", [1], new[] { d.Offset }));
                break;
            default:
                throw new NotSupportedException($"{name}: a {inner.GetType().Name} cannot be written to a quantized model directory.");
        }
        if (weight is OutlierMatrix outliers)
        {
            var cols = new byte[outliers.Count * 2];
            var vals = new byte[outliers.Count * 2];
            for (int k = 0; k < outliers.Count; k++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(cols.AsSpan(2 * k), outliers.OutlierColumns[k]);
                BinaryPrimitives.WriteHalfLittleEndian(vals.AsSpan(2 * k), outliers.Values[k]);
            }
            extra.Add(new SafetensorsWriter.Item(name + ".outlier_rows", [outliers.Rows + 1], default, outliers.RowStarts.ToArray()));
            extra.Add(new SafetensorsWriter.Item(name + ".outlier_cols", [outliers.Count, 2], default, default, cols));
            extra.Add(new SafetensorsWriter.Item(name + ".outlier_values", [outliers.Count, 2], default, default, vals));
        }
    }

    /// <summary>Reads the weight <paramref name="t"/> describes from <paramref name="main"/> and, for its other parts, <paramref name="extra"/>.</summary>
    public static IQuantizedWeight Open(QuantizedTensor t, SafetensorsFile main, SafetensorsFile? extra)
    {
        var blocks = new byte[t.ByteLength];
        main.ReadBytes(t.Name, blocks);
        if ((t.DoubleQuant || t.Outliers > 0) && extra is null)
            throw new InvalidDataException($"{main.Path}: quantized tensor \"{t.Name}\" has {(t.DoubleQuant ? "double-quantized scales" : $"{t.Outliers} outliers")}, but {ExtraFile} is missing beside it; copy the whole directory loom quantize wrote.");
        IQuantizedWeight weight;
        if (t.DoubleQuant)
        {
            var codes = new byte[(long)t.Rows * (t.Columns / Nf4Blocks.Size)];
            Expect(extra!, t.Name + ".absmax_codes", "U8", codes.Length);
            extra!.ReadBytes(t.Name + ".absmax_codes", codes);
            var scales = ReadSingle(extra, t.Name + ".absmax_scales", Nf4DoubleQuant.Groups(codes.Length));
            var offset = ReadSingle(extra, t.Name + ".absmax_offset", 1);
            weight = Nf4DoubleQuantMatrix.FromParts(t.Rows, t.Columns, blocks, codes, scales, offset[0]);
        }
        else weight = QuantizedMatrix.FromBlocks(t.Format, t.Rows, t.Columns, blocks);
        if (t.Outliers == 0) return weight;
        try
        {
            Expect(extra!, t.Name + ".outlier_rows", "I32", t.Rows + 1);
            var rows = extra!.ReadInt32(t.Name + ".outlier_rows");
            Expect(extra, t.Name + ".outlier_cols", "U8", 2L * t.Outliers);
            Expect(extra, t.Name + ".outlier_values", "U8", 2L * t.Outliers);
            var cb = new byte[2 * t.Outliers];
            var vb = new byte[2 * t.Outliers];
            extra.ReadBytes(t.Name + ".outlier_cols", cb);
            extra.ReadBytes(t.Name + ".outlier_values", vb);
            var cols = new ushort[t.Outliers];
            var vals = new Half[t.Outliers];
            for (int k = 0; k < t.Outliers; k++)
            {
                cols[k] = BinaryPrimitives.ReadUInt16LittleEndian(cb.AsSpan(2 * k));
                vals[k] = BinaryPrimitives.ReadHalfLittleEndian(vb.AsSpan(2 * k));
            }
            try { return new OutlierMatrix(weight, rows, cols, vals); }
            catch (ArgumentException e) { throw new InvalidDataException($"{extra.Path}: the outliers of \"{t.Name}\" are inconsistent: {e.Message}", e); }
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    private static float[] ReadSingle(SafetensorsFile file, string name, long count)
    {
        Expect(file, name, "F32", count);
        return file.ReadSingle(name);
    }

    private static void Expect(SafetensorsFile file, string name, string dtype, long count)
    {
        if (!file.Tensors.TryGetValue(name, out var e))
            throw new InvalidDataException($"{file.Path}: no tensor \"{name}\"; the quantized model's metadata needs it (re-run loom quantize).");
        if (e.DType != dtype || e.ElementCount != count)
            throw new InvalidDataException($"{file.Path}: tensor \"{name}\" is {e.DType}{e.ShapeText}; expected {dtype} with {count} elements. The file is damaged or was cut short.");
    }
}
