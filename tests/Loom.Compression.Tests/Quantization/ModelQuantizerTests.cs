// loom quantize's library end: a tiny GPT-2 and a tiny Llama quantized to every format, reopened
// through CausalLanguageModels.Load (the path generate and serve take), must compute the logits of
// the reference: the same f32 model with each quantized weight replaced by its dequantized value
// (BlockQuantizer's decoding, checked against gguf-py in Core's tests). Few rows run the quantized
// dot products on 8-bit activations (bounded by that rounding), many rows the dequantized GEMM.
using Loom.Compression.Quantization;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.Projections;
using Loom.Models.Quantization;

namespace Loom.Compression.Tests.Quantization;

public class ModelQuantizerTests
{
    internal static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-quant-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    internal static string SaveGpt2(int seed = 3)
    {
        string dir = Path.Combine(TempDir(), "f32");
        var config = new Gpt2Config { VocabSize = 300, MaxPositions = 32, Embedding = 256, Layers = 2, Heads = 4 };
        using var m = new Gpt2Model(config);
        m.InitializeWeights(seed);
        m.Save(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{}");   // copied along, not read here
        return dir;
    }

    internal static string SaveLlama()
    {
        string dir = Path.Combine(TempDir(), "f32");
        var config = new LlamaConfig { VocabSize = 300, HiddenSize = 256, IntermediateSize = 512, Layers = 1, Heads = 4, KeyValueHeads = 2, MaxPositions = 32 };
        using var m = new LlamaModel(config);
        m.InitializeWeights(5);
        m.Save(dir);
        return dir;
    }

    // The f32 model with every quantized weight replaced by its dequantization, in the model's own layout.
    internal static ICausalLanguageModel DequantizedReference(string f32Dir, string quantDir)
    {
        var model = CausalLanguageModels.Load(f32Dir, ModelOptions.Inference);
        using var file = SafetensorsFile.Open(Path.Combine(quantDir, "model.safetensors"));
        var tensors = QuantizedWeights.Read(file);
        var specs = LoraAdapters.Projections(model.Configuration).GroupBy(s => s.WeightIndex).ToDictionary(g => g.Key, g => g.First());
        foreach (var (name, t) in tensors)
        {
            int i = model.Parameters.IndexOf(name);
            var blocks = new byte[t.ByteLength];
            file.ReadBytes(name, blocks);
            var w = BlockQuantizer.Dequantize(t.Format, blocks, t.Rows * t.Columns);
            var v = model.Parameters.Value(i);
            if (specs[i].Layout == ProjectionLayout.OutIn) w.CopyTo(v);
            else
                for (int o = 0; o < t.Rows; o++)
                    for (int k = 0; k < t.Columns; k++) v[k * t.Rows + o] = w[o * t.Columns + k];
        }
        return model;
    }

    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var f in new[] { "q8_0", "q4_0", "q4_k", "q6_k", "nf4" }) d.Add("gpt2", f);
        d.Add("llama", "q4_k");
        d.Add("llama", "q8_0");
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void QuantizedModelComputesTheDequantizedModelsLogits(string family, string type)
    {
        var format = QuantFormatInfo.Parse(type);
        string f32 = family == "gpt2" ? SaveGpt2() : SaveLlama();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        var report = ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = format });
        Assert.Equal(family == "gpt2" ? 8 : 7, report.QuantizedTensors);   // 4 per GPT-2 block × 2; Llama q,k,v,o,gate,up,down
        Assert.True(File.Exists(Path.Combine(q, "config.json")));
        Assert.True(QuantizedWeights.IsQuantizedDirectory(q));
        Assert.True(report.FileBytes < new FileInfo(Path.Combine(f32, "model.safetensors")).Length);

        using var quantized = CausalLanguageModels.Load(q, ModelOptions.Inference);
        using var reference = DequantizedReference(f32, q);
        bool q8Activations = format != QuantFormat.NF4;
        foreach (int time in new[] { 5, 16 })   // 5 rows: quantized dot products; 16: dequantized panels + GEMM
        {
            var ids = Enumerable.Range(0, time).Select(i => (i * 37 + 11) % 300).ToArray();
            quantized.Forward(ids, default, 1, time);
            reference.Forward(ids, default, 1, time);
            var a = quantized.Logits.ToArray();
            var b = reference.Logits.ToArray();
            double maxRef = b.Max(Math.Abs), maxErr = 0;
            for (int i = 0; i < a.Length; i++) maxErr = Math.Max(maxErr, Math.Abs(a[i] - b[i]));
            // 8-bit activations round each input to 1/254 of its block's range; measured ≤ 1% of the
            // largest logit on these models. The float paths differ only by summation order.
            double allowed = q8Activations && time <= QuantizedMatrix.DotRowLimit ? 0.02 * maxRef : 1e-4 * maxRef + 1e-5;
            Assert.True(maxErr <= allowed, $"{family} {type} T={time}: max |Δlogit| {maxErr:G4}, allowed {allowed:G4} (max |logit| {maxRef:G4})");
        }
    }

    [Fact]
    public void IncrementalDecodingOfAQuantizedModelEqualsItsForward()
    {
        // The KV-cache path (one row per step) runs the same quantized products as a 1-row forward.
        string f32 = SaveGpt2();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = QuantFormat.Q4_0 });
        using var model = CausalLanguageModels.Load(q, ModelOptions.Inference);
        var decoder = Assert.IsAssignableFrom<IIncrementalDecoder>(model);
        using var cache = decoder.CreateDecoderCache();
        int[] ids = [3, 40, 7];
        float[] last = [];
        foreach (int id in ids) last = decoder.DecodeNext(cache, id).ToArray();
        // A forward of the same 3 tokens runs 3 rows through the dot products; its last row must match.
        model.Forward(ids, default, 1, 3);
        var full = model.Logits.Slice(2 * 300, 300).ToArray();
        for (int i = 0; i < 300; i++) Assert.True(Math.Abs(full[i] - last[i]) <= 1e-4 + 1e-4 * Math.Abs(full[i]), $"logit {i}: forward {full[i]}, decode {last[i]}");
    }

    [Fact]
    public void EmbeddingsNormsAndBiasesStayFloatAndTheFileSaysWhatItHolds()
    {
        string f32 = SaveGpt2();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = QuantFormat.Q8_0 });
        using var file = SafetensorsFile.Open(Path.Combine(q, "model.safetensors"));
        Assert.Equal("F32", file.Get("wte.weight").DType);
        Assert.Equal("F32", file.Get("h.0.ln_1.weight").DType);
        Assert.Equal("F32", file.Get("h.0.attn.c_attn.bias").DType);
        var e = file.Get("h.0.attn.c_attn.weight");
        Assert.Equal("U8", e.DType);
        Assert.Equal(new long[] { 768, 256 / 32 * 34 }, e.Shape);   // (out, row bytes): Conv1D's (in, out) transposed
        Assert.True(File.Exists(Path.Combine(q, "tokenizer.json")));
        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(q, "config.json")))!;
        Assert.Equal("q8_0", (string?)cfg["quantization_config"]!["format"]);
    }

    [Fact]
    public void RefusesAQuantizedInputAndANonEmptyOutput()
    {
        string f32 = SaveGpt2();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = QuantFormat.Q8_0 });
        var e = Assert.Throws<ArgumentException>(() => ModelQuantizer.Quantize(q, q + "2", new QuantizeOptions()));
        Assert.Contains("already quantized", e.Message);
        var io = Assert.Throws<IOException>(() => ModelQuantizer.Quantize(f32, q, new QuantizeOptions()));
        Assert.Contains("not empty", io.Message);
    }

    [Fact]
    public void ADamagedQuantizedTensorIsNamedWithItsSize()
    {
        string f32 = SaveGpt2();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = QuantFormat.Q4_0 });
        // Rewrite the file with one block tensor cut short but the metadata unchanged.
        string path = Path.Combine(q, "model.safetensors");
        List<SafetensorsWriter.Item> items;
        Dictionary<string, string> meta;
        using (var file = SafetensorsFile.Open(path))
        {
            meta = file.Metadata.ToDictionary();
            items = file.Tensors.Values.Select(t =>
            {
                if (t.DType == "F32") return new SafetensorsWriter.Item(t.Name, t.Shape, file.ReadSingle(t.Name));
                var b = new byte[t.End - t.Begin];
                file.ReadBytes(t.Name, b);
                if (t.Name == "h.1.mlp.c_fc.weight") return new SafetensorsWriter.Item(t.Name, [t.Shape[0] - 1, t.Shape[1]], default, default, b.AsMemory(0, (int)((t.Shape[0] - 1) * t.Shape[1])));
                return new SafetensorsWriter.Item(t.Name, t.Shape, default, default, b);
            }).ToList();
        }
        SafetensorsWriter.Write(path, items, meta);
        var e = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load(q, ModelOptions.Inference));
        Assert.Contains("h.1.mlp.c_fc.weight", e.Message);
        Assert.Contains("needs U8 with", e.Message);
    }
}
