// GGUF ↔ Loom models against llama.cpp's converter conventions (fixtures written by gguf-py with the
// converter's own transforms, Fixtures/gguf/make_gguf_fixture.py): a file the converter wrote loads into
// exactly the weights of the Hugging Face directory it came from (GPT-2's Conv1D transpose and Llama's
// RoPE permutation undone), and Loom's export of that directory writes the converter's tensors.
using System.Runtime.InteropServices;
using Loom.Models.Formats.Gguf;

namespace Loom.Models.Tests.Formats.Gguf;

public class GgufModelsTests
{
    [Theory]
    [InlineData("gpt2_tiny")]
    [InlineData("llama_tiny")]
    public void AConvertedFileLoadsTheWeightsOfItsHuggingFaceDirectory(string name)
    {
        using var reference = CausalLanguageModels.Load(GgufFixtures.Path(name), ModelOptions.Inference);
        using var f = GgufFile.Open(GgufFixtures.Path(name + ".gguf"));
        using var model = GgufModels.Load(f, ModelOptions.Inference);
        Assert.Equal(reference.Configuration, model.Configuration);
        foreach (var spec in reference.Parameters.Specs)
            Assert.True(reference.Parameters.Value(reference.Parameters.IndexOf(spec.Name)).SequenceEqual(model.Parameters.Value(model.Parameters.IndexOf(spec.Name))), spec.Name);
    }

    [Fact]
    public void F16FileLoadsWithinHalfPrecision()
    {
        using var reference = CausalLanguageModels.Load(GgufFixtures.Path("gpt2_tiny"), ModelOptions.Inference);
        using var f = GgufFile.Open(GgufFixtures.Path("gpt2_tiny_f16.gguf"));
        using var model = GgufModels.Load(f, ModelOptions.Inference);
        using var decoded = GgufModels.Load(f, ModelOptions.Inference, keepQuantized: false);
        int held = 0;
        foreach (var spec in reference.Parameters.Specs)
        {
            var a = reference.Parameters.Value(reference.Parameters.IndexOf(spec.Name));
            var b = decoded.Parameters.Value(decoded.Parameters.IndexOf(spec.Name));
            // 1-D tensors and position_embd stay F32 in the converter's f16 file; the rest went through
            // numpy's astype(float16), which rounds to nearest even as Half does.
            bool f32 = spec.Shape.Length == 1 || spec.Name == "wpe.weight";
            for (int i = 0; i < a.Length; i++) Assert.Equal(f32 ? a[i] : (float)(Half)a[i], b[i]);
            if (model.Parameters.IsHeldByProjection(model.Parameters.IndexOf(spec.Name))) held++;
        }
        // The projections keep the file's halves (F16 QuantizedProjection, widened in registers) and compute what the
        // weights decoded to f32 by the converter-checked codec compute, to float summation order.
        Assert.True(held >= 4 * 2, $"only {held} weights held as F16");
        int[] ids = [1, 5, 9, 2, 7, 3];
        model.Forward(ids, default, 1, ids.Length);
        var heldLogits = model.Logits.ToArray();
        decoded.Forward(ids, default, 1, ids.Length);
        for (int i = 0; i < heldLogits.Length; i++)
            Assert.True(Math.Abs(heldLogits[i] - decoded.Logits[i]) <= 1e-4f * (1 + Math.Abs(decoded.Logits[i])), $"logit {i}: held F16 {heldLogits[i]} vs decoded {decoded.Logits[i]}");
    }

    [Theory]
    [InlineData("gpt2_tiny", GgufFileType.F32, "gpt2_tiny.gguf")]
    [InlineData("gpt2_tiny", GgufFileType.F16, "gpt2_tiny_f16.gguf")]
    [InlineData("gpt2_tiny", GgufFileType.Q8_0, "gpt2_tiny_q8_0.gguf")]   // gguf-py's reference Q8_0 quantizer, byte for byte
    [InlineData("llama_tiny", GgufFileType.F32, "llama_tiny.gguf")]
    public void ExportWritesTheConvertersTensorsAndHyperParameters(string dir, GgufFileType type, string converted)
    {
        using var model = CausalLanguageModels.Load(GgufFixtures.Path(dir), ModelOptions.Inference);
        var writer = new GgufWriter();
        GgufModels.AddModel(writer, model, type, dir);
        string path = Path.Combine(Path.GetTempPath(), $"loom-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            writer.Write(path);
            using var ours = GgufFile.Open(path);
            using var theirs = GgufFile.Open(GgufFixtures.Path(converted));
            Assert.Equal(theirs.Tensors.Select(t => t.Name).Order(), ours.Tensors.Select(t => t.Name).Order());
            foreach (var t in theirs.Tensors)
            {
                var o = ours.Get(t.Name);
                Assert.Equal(t.Dimensions, o.Dimensions);
                Assert.True(t.Type == o.Type, $"{t.Name}: {o.Type}, converter {t.Type}");
                byte[] a = new byte[t.ByteCount], b = new byte[o.ByteCount];
                theirs.ReadBytes(t, a);
                ours.ReadBytes(o, b);
                Assert.True(a.AsSpan().SequenceEqual(b), t.Name);
            }
            foreach (var (key, value) in theirs.Metadata.Where(kv => kv.Key.StartsWith(theirs.GetString("general.architecture") + ".", StringComparison.Ordinal) || kv.Key == "general.file_type"))
            {
                Assert.True(ours.Metadata.TryGetValue(key, out var mine), key);
                Assert.Equal(value.Type, mine!.Type);
                Assert.Equal(value.Value, mine.Value);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Q8_0FileLoadsGgufPysDequantizedWeights()
    {
        // Q8_0 decodes exactly as d·q; the converter quantized the directory's weights, so each weight is
        // within half a step (d/2 = amax/254 of its block) of the original, and 1-D tensors are exact.
        using var reference = CausalLanguageModels.Load(GgufFixtures.Path("gpt2_tiny"), ModelOptions.Inference);
        using var f = GgufFile.Open(GgufFixtures.Path("gpt2_tiny_q8_0.gguf"));
        using var model = GgufModels.Load(f, ModelOptions.Inference);
        int checkedWeights = 0;
        foreach (var spec in reference.Parameters.Specs)
        {
            var a = reference.Parameters.Value(reference.Parameters.IndexOf(spec.Name));
            var b = model.Parameters.Value(model.Parameters.IndexOf(spec.Name));
            if (spec.Shape.Length == 1 || spec.Name == "wpe.weight") { Assert.True(a.SequenceEqual(b), spec.Name); continue; }
            if (model.Parameters.Specs[model.Parameters.IndexOf(spec.Name)].IsTrainable is false && b.IndexOfAnyExcept(0f) < 0) continue;   // held quantized in a projection
            float amax = 0;
            for (int i = 0; i < a.Length; i++) amax = Math.Max(amax, Math.Abs(a[i]));
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= amax / 254 * 1.01f + 1e-6f, $"{spec.Name}[{i}]: {b[i]} vs {a[i]}");
            checkedWeights++;
        }
        Assert.True(checkedWeights > 0);
        // and the quantized model computes what the dequantized weights compute
        int[] ids = [1, 5, 9, 2, 7, 3];
        using var dense = CausalLanguageModels.Load(GgufFixtures.Path("gpt2_tiny"), ModelOptions.Inference);
        model.Forward(ids, default, 1, ids.Length);
        dense.Forward(ids, default, 1, ids.Length);
        float max = 0;
        for (int i = 0; i < model.Logits.Length; i++) max = Math.Max(max, Math.Abs(model.Logits[i] - dense.Logits[i]));
        Assert.True(max < 0.5f, $"Q8_0 logits differ from f32 by {max}");
    }

    // Files made by llama.cpp's llama-quantize (Fixtures/gguf/make_llama_quantize_fixture.sh) from the
    // converter's f32 files: every quantized tensor decodes to within its format's step of the f32 original,
    // and the model Loom opens (projections held as blocks) computes what the dequantized weights compute.
    [Theory]
    [InlineData("gpt2_tiny", "gpt2_tiny_q4_0_llama-quantize.gguf", GgmlType.Q4_0, 0.7f)]   // the held model's head reads output.weight (Q8_0), the dequantized one the Q4_0 token_embd (measured 0.46)
    [InlineData("llama_tiny", "llama_tiny_q8_0_llama-quantize.gguf", GgmlType.Q8_0, 0.1f)]
    public void LlamaQuantizeOutputOpens(string dir, string name, GgmlType type, float logitTolerance)
    {
        using var original = GgufFile.Open(GgufFixtures.Path(dir + ".gguf"));
        using var f = GgufFile.Open(GgufFixtures.Path(name));
        Assert.Equal(type, f.Get("blk.0.ffn_up.weight").Type);
        foreach (var t in f.Tensors.Where(t => GgufTensorCodec.FormatOf(t.Type) != null))
        {
            var o = original.Get(t.Name);
            byte[] qb = new byte[t.ByteCount], ob = new byte[o.ByteCount];
            f.ReadBytes(t, qb);
            original.ReadBytes(o, ob);
            var q = new float[t.ElementCount];
            GgufTensorCodec.ToSingle(t.Type, qb, q);
            var x = MemoryMarshal.Cast<byte, float>(ob.AsSpan());
            int block = GgmlTypes.Size(t.Type)!.Value.BlockSize;
            // Q8_0: |x − d·q| ≤ d/2 with d = amax/127; Q4_0: d = max/−8, so values of the other sign clamp at
            // 7d and err by up to amax/8. Both store d in fp16: add amax·2⁻¹⁰ for its rounding.
            float steps = t.Type == GgmlType.Q8_0 ? 254 : 8;
            for (int b = 0; b < q.Length / block; b++)
            {
                float amax = 0;
                for (int i = 0; i < block; i++) amax = Math.Max(amax, Math.Abs(x[b * block + i]));
                for (int i = 0; i < block; i++)
                    Assert.True(Math.Abs(q[b * block + i] - x[b * block + i]) <= amax / steps + amax / 1024 + 1e-7f, $"{t.Name} ({t.Type}) block {b}");
            }
        }
        using var model = GgufModels.Load(f, ModelOptions.Inference);
        // The reference: the same file dequantized to f32 (each decoded weight checked above); the held
        // blocks differ from it only by the 8-bit rounding of activations in the quantized dot products.
        using var reference = GgufModels.Load(f, ModelOptions.Inference, keepQuantized: false);
        Assert.DoesNotContain(reference.Parameters.Specs, s => reference.Parameters.IsHeldByProjection(reference.Parameters.IndexOf(s.Name)));
        Assert.Contains(model.Parameters.Specs, s => model.Parameters.IsHeldByProjection(model.Parameters.IndexOf(s.Name)));
        int[] ids = [1, 5, 9, 2, 7, 3, 40, 41];
        model.Forward(ids, default, 1, ids.Length);
        reference.Forward(ids, default, 1, ids.Length);
        float max = 0;
        for (int i = 0; i < model.Logits.Length; i++) max = Math.Max(max, Math.Abs(model.Logits[i] - reference.Logits[i]));
        Assert.True(max < logitTolerance, $"{name}: logits differ from the dequantized model by {max}");
    }

    [Fact]
    public void AnUntiedGpt2HeadIsRefusedByName()
    {
        using var f = GgufFile.Open(GgufFixtures.Path("gpt2_tiny.gguf"));
        // output.weight replaced by independent weights (as llama.cpp's random perf-anchor models have).
        var writer = GgufFixtures.Copy(f, (t, bytes) =>
        {
            if (t.Name != "output.weight") return bytes;
            var v = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
            for (int i = 0; i < v.Length; i++) v[i] = MathF.Sin(i);
            return bytes;
        });
        string path = Path.Combine(Path.GetTempPath(), $"loom-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            writer.Write(path);
            using var g = GgufFile.Open(path);
            var e = Assert.Throws<NotSupportedException>(() => GgufModels.Load(g, ModelOptions.Inference).Dispose());
            Assert.Contains("output.weight", e.Message);
            Assert.Contains("untied", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void QuantizedTypesFollowLlamaQuantizeRules()
    {
        var arch = Loom.Models.Families.ModelFamilies.Find("gpt2")!.Gguf!;
        Assert.Equal(GgmlType.F32, GgufModels.TensorType(arch, "blk.0.attn_norm.weight", [768], GgufFileType.Q4_0));
        Assert.Equal(GgmlType.F32, GgufModels.TensorType(arch, "position_embd.weight", [768, 1024], GgufFileType.F16));
        Assert.Equal(GgmlType.Q4_0, GgufModels.TensorType(arch, "token_embd.weight", [768, 50257], GgufFileType.Q4_0));
        Assert.Equal(GgmlType.Q6_K, GgufModels.TensorType(arch, "output.weight", [768, 50257], GgufFileType.Q4_0));
        Assert.Equal(GgmlType.Q8_0, GgufModels.TensorType(arch, "output.weight", [768, 50257], GgufFileType.Q8_0));
        Assert.Equal(GgmlType.Q8_0, GgufModels.TensorType(arch, "blk.0.ffn_up.weight", [96, 384], GgufFileType.Q4_K));   // 96 is not a multiple of 256
        Assert.Equal(GgmlType.F16, GgufModels.TensorType(arch, "blk.0.ffn_up.weight", [40, 160], GgufFileType.Q8_0));    // nor of 32
    }
}
