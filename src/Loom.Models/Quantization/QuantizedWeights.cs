// The on-disk description of a quantized model directory (docs/FORMATS.md, "Quantized model
// directory"): config.json carries a "quantization_config" object ({"quant_method": "loom",
// "format": "q4_0", ...}, as Hugging Face models name theirs), and model.safetensors holds each
// quantized weight under its usual name as a U8 tensor of shape [out, row bytes] — the raw blocks,
// ggml's byte layout for q8_0/q4_0/q4_k/q6_k, rows being output features — beside the f32 tensors
// (embeddings, norms, biases) that stay float. The __metadata__ key "loom.quantization" lists the
// quantized tensors as JSON: {"h.0.attn.c_attn.weight": {"format": "q4_0", "rows": 2304, "columns": 768}}.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Kernels.Quantized;
using Loom.Models.Formats;

namespace Loom.Models.Quantization;

/// <summary>
/// One quantized weight of a model file: its format and (out × in) size; NF4 with double-quantized
/// scales, and the number of SpQR outliers stored beside it (QuantizedWeightParts).
/// </summary>
public sealed record QuantizedTensor(string Name, QuantFormat Format, int Rows, int Columns, bool DoubleQuant = false, int Outliers = 0)
{
    /// <summary>Bytes of its main U8 tensor: the blocks (double-quantized NF4: the 4-bit codes only).</summary>
    public long ByteLength => DoubleQuant ? (long)Rows * (Columns / 2) : QuantFormatInfo.RowBytes(Format, Columns) * Rows;
}

/// <summary>Reads and writes the quantized-tensor list of a model file.</summary>
public static class QuantizedWeights
{
    /// <summary>The safetensors __metadata__ key holding the quantized-tensor list.</summary>
    public const string MetadataKey = "loom.quantization";

    /// <summary>config.json's field naming the quantization.</summary>
    public const string ConfigField = "quantization_config";

    /// <summary>True when <paramref name="directory"/>/config.json has a quantization_config.</summary>
    public static bool IsQuantizedDirectory(string directory)
    {
        string path = Path.Combine(directory, "config.json");
        // Only a regular file is read here: a FIFO would block the probe forever (ReadConfig then names it).
        if (Loom.Core.IO.InputFiles.KindOf(path) != Loom.Core.IO.InputFileKind.Regular) return false;
        try { return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o[ConfigField] is not null; }
        catch (JsonException) { return false; }   // ReadConfig reports the broken JSON with its line
    }

    /// <summary>The metadata value listing <paramref name="tensors"/>.</summary>
    public static string ToMetadata(IEnumerable<QuantizedTensor> tensors)
    {
        var o = new JsonObject();
        foreach (var t in tensors)
        {
            var d = new JsonObject { ["format"] = QuantFormatInfo.Name(t.Format), ["rows"] = t.Rows, ["columns"] = t.Columns };
            if (t.DoubleQuant) d["double_quant"] = true;
            if (t.Outliers > 0) d["outliers"] = t.Outliers;
            o[t.Name] = d;
        }
        return o.ToJsonString();
    }

    /// <summary>The quantized tensors <paramref name="file"/> declares, each checked against its U8 entry.</summary>
    public static IReadOnlyDictionary<string, QuantizedTensor> Read(SafetensorsFile file)
    {
        var result = new Dictionary<string, QuantizedTensor>(StringComparer.Ordinal);
        if (!file.Metadata.TryGetValue(MetadataKey, out var text))
            throw new InvalidDataException($"{file.Path}: no \"{MetadataKey}\" in __metadata__, but config.json has a {ConfigField}; the file is not a quantized Loom model (re-run loom quantize).");
        JsonObject list;
        try { list = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{file.Path}: __metadata__ \"{MetadataKey}\" is not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{file.Path}: __metadata__ \"{MetadataKey}\" is not valid JSON: {e.Message}", e); }
        foreach (var (name, node) in list)
        {
            string where = $"{file.Path}: quantized tensor \"{name}\"";
            if (node is not JsonObject o) throw new InvalidDataException($"{where} has no description object.");
            string? formatName = o["format"] is JsonValue fv && fv.TryGetValue(out string? s) ? s : null;
            if (!QuantFormatInfo.TryParse(formatName, out var format))
                throw new InvalidDataException($"{where} has format {o["format"]?.ToJsonString() ?? "missing"}; known: {string.Join(", ", QuantFormatInfo.All.Select(QuantFormatInfo.Name))}.");
            int rows = o["rows"] is JsonValue rv && rv.TryGetValue(out int r) && r > 0 ? r : throw new InvalidDataException($"{where} has rows {o["rows"]?.ToJsonString() ?? "missing"}; it must be a whole number > 0.");
            int cols = o["columns"] is JsonValue cv && cv.TryGetValue(out int c) && c > 0 && c % QuantFormatInfo.BlockSize(format) == 0 ? c
                : throw new InvalidDataException($"{where} has columns {o["columns"]?.ToJsonString() ?? "missing"}; it must be a positive multiple of {QuantFormatInfo.BlockSize(format)}.");
            bool dq = o["double_quant"] is JsonValue dv && dv.TryGetValue(out bool dqv) ? dqv
                : o["double_quant"] is null ? false : throw new InvalidDataException($"{where} has double_quant {o["double_quant"]!.ToJsonString()}; it must be true or false.");
            if (dq && format != QuantFormat.NF4) throw new InvalidDataException($"{where} is {formatName} with double_quant; double quantization applies to nf4 only.");
            int outliers = o["outliers"] is null ? 0 : o["outliers"] is JsonValue ov && ov.TryGetValue(out int on) && on >= 0 ? on
                : throw new InvalidDataException($"{where} has outliers {o["outliers"]!.ToJsonString()}; it must be a whole number ≥ 0.");
            var t = new QuantizedTensor(name, format, rows, cols, dq, outliers);
            var e = file.Get(name);
            if (e.DType != "U8" || e.End - e.Begin != t.ByteLength)
                throw new InvalidDataException($"{where} is {e.DType}{e.ShapeText} ({e.End - e.Begin} bytes at data offset {e.Begin}); ({rows} × {cols}) {formatName} needs U8 with {t.ByteLength} bytes. The file is damaged or was cut short.");
            result[name] = t;
        }
        return result;
    }
}
