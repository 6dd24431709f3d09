// The GGUF container against llama.cpp's own gguf-py: files it wrote are read field by field, and
// Loom's writer, given the same metadata and tensors, reproduces them byte for byte. Damaged files
// (every truncation point of the header, corrupted fields) fail with an InvalidDataException that
// names the byte offset and the field.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Loom.Models.Formats;
using Loom.Models.Formats.Gguf;

namespace Loom.Models.Tests.Formats.Gguf;

public class GgufFileTests
{
    [Fact]
    public void ReadsTheMetadataAndTensorsGgufPyWrote()
    {
        using var f = GgufFile.Open(GgufFixtures.Path("gpt2_tiny.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal(32, f.Alignment);
        Assert.Equal("gpt2", f.GetString("general.architecture"));
        Assert.Equal(GgufValueType.UInt32, f.Metadata["gpt2.block_count"].Type);
        Assert.Equal(2L, f.GetInteger("gpt2.block_count"));
        Assert.Equal(1e-5, f.GetNumber("gpt2.attention.layer_norm_epsilon"), 1e-9);
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens")!;
        Assert.Equal(297, tokens.Length);
        Assert.Equal("<|endoftext|>", tokens[^1]);
        Assert.Equal("!", tokens[0]);                       // GPT-2's byte alphabet starts at '!'
        Assert.Equal(40, f.GetArray<string>("tokenizer.ggml.merges")!.Length);
        Assert.Equal(3, f.GetArray<int>("tokenizer.ggml.token_type")![^1]);   // CONTROL
        Assert.Equal(296L, f.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2 + 1 + 2 * 12 + 2, f.Tensors.Count);

        // token_embd.weight is wte.weight of the same model in the Hugging Face directory, ne = [C, V].
        var emb = f.Get("token_embd.weight");
        Assert.Equal(new long[] { 32, 297 }, emb.Dimensions);
        Assert.Equal(GgmlType.F32, emb.Type);
        var bytes = new byte[emb.ByteCount];
        f.ReadBytes(emb, bytes);
        using var st = SafetensorsFile.Open(GgufFixtures.Path("gpt2_tiny/model.safetensors"));
        var wte = new float[297 * 32];
        st.ReadSingle("wte.weight", wte, [297, 32]);
        Assert.Equal(wte, MemoryMarshal.Cast<byte, float>(bytes).ToArray());
        // the converter's transpose: attn_qkv.weight ne = [C, 3C] holds c_attn.weight (C, 3C) transposed
        Assert.Equal(new long[] { 32, 96 }, f.Get("blk.0.attn_qkv.weight").Dimensions);
    }

    [Theory]
    [InlineData("gpt2_tiny.gguf")]
    [InlineData("gpt2_tiny_f16.gguf")]
    [InlineData("gpt2_tiny_q8_0.gguf")]
    [InlineData("llama_tiny.gguf")]
    public void WriterReproducesGgufPyByteForByte(string name)
    {
        string path = GgufFixtures.Path(name);
        using var f = GgufFile.Open(path);
        using var ms = new MemoryStream();
        GgufFixtures.Copy(f).Write(ms);
        Assert.Equal(File.ReadAllBytes(path), ms.ToArray());
    }

    [Fact]
    public void EveryValueTypeAndNestedArraysRoundTrip()
    {
        var w = new GgufWriter { Alignment = 64 };
        w.Add("u8", new(GgufValueType.UInt8, (byte)200)).Add("i8", new(GgufValueType.Int8, (sbyte)-100))
         .Add("u16", new(GgufValueType.UInt16, (ushort)60000)).Add("i16", new(GgufValueType.Int16, (short)-30000))
         .Add("u32", GgufValue.Of(4000000000u)).Add("i32", GgufValue.Of(-2000000000)).Add("f32", GgufValue.Of(1.5f))
         .Add("b", GgufValue.Of(true)).Add("s", GgufValue.Of("héllo ☃")).Add("u64", new(GgufValueType.UInt64, ulong.MaxValue))
         .Add("i64", new(GgufValueType.Int64, long.MinValue)).Add("f64", new(GgufValueType.Float64, Math.PI))
         .Add("as", GgufValue.Of(new[] { "a", "", "ccc" })).Add("ai", GgufValue.Of(new[] { 1, -2, 3 }))
         .Add("ab", new(GgufValueType.Array, new[] { true, false }, GgufValueType.Bool))
         .Add("nested", new(GgufValueType.Array, new[] { GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { "x" }) }, GgufValueType.Array));
        float[] data = [1, 2, 3, 4, 5, 6];
        w.AddTensor("t", GgmlType.F32, [3, 2], s => MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(s));
        w.AddTensor("u", GgmlType.F16, [2], s => { s[0] = 0; s[1] = 0x3C; s[2] = 0; s[3] = 0xC0; });   // 1.0, -2.0
        string path = Path.Combine(Path.GetTempPath(), $"loom-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            w.Write(path);
            using var f = GgufFile.Open(path);
            Assert.Equal(64, f.Alignment);
            Assert.Equal((byte)200, f.Metadata["u8"].Value);
            Assert.Equal((sbyte)-100, f.Metadata["i8"].Value);
            Assert.Equal((ushort)60000, f.Metadata["u16"].Value);
            Assert.Equal((short)-30000, f.Metadata["i16"].Value);
            Assert.Equal(4000000000u, f.Metadata["u32"].Value);
            Assert.Equal(-2000000000, f.Metadata["i32"].Value);
            Assert.Equal(1.5f, f.Metadata["f32"].Value);
            Assert.Equal(true, f.Metadata["b"].Value);
            Assert.Equal("héllo ☃", f.Metadata["s"].Value);
            Assert.Equal(ulong.MaxValue, f.Metadata["u64"].Value);
            Assert.Equal(long.MinValue, f.Metadata["i64"].Value);
            Assert.Equal(Math.PI, f.Metadata["f64"].Value);
            Assert.Equal(new[] { "a", "", "ccc" }, f.GetArray<string>("as"));
            Assert.Equal(new[] { 1, -2, 3 }, f.GetArray<int>("ai"));
            Assert.Equal(new[] { true, false }, f.GetArray<bool>("ab"));
            var nested = f.GetArray<GgufValue>("nested")!;
            Assert.Equal(new[] { 1, 2 }, (int[])nested[0].Value);
            Assert.Equal(new[] { "x" }, (string[])nested[1].Value);
            var t = f.Get("t");
            Assert.Equal(0, t.FileOffset % 64);
            var bytes = new byte[t.ByteCount];
            f.ReadBytes(t, bytes);
            Assert.Equal(data, MemoryMarshal.Cast<byte, float>(bytes).ToArray());
            Assert.Equal(64, f.Get("u").RelativeOffset);   // 24 bytes padded to the alignment
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EveryTruncationOfTheHeaderNamesAnOffset()
    {
        byte[] full = File.ReadAllBytes(GgufFixtures.Path("llama_tiny.gguf"));
        using var f = GgufFile.Open(GgufFixtures.Path("llama_tiny.gguf"));
        long dataStart = f.DataOffset;
        string path = Path.Combine(Path.GetTempPath(), $"loom-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            // Every cut inside the header (step 3 keeps the test fast), then a few inside the data.
            var cuts = Enumerable.Range(0, (int)(dataStart / 3)).Select(i => (long)i * 3).Concat([dataStart + 1, full.Length / 2, full.Length - 1]);
            foreach (long cut in cuts)
            {
                File.WriteAllBytes(path, full.AsSpan(0, (int)cut).ToArray());
                var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
                Assert.Contains("offset", e.Message);
                Assert.Contains(path, e.Message);
            }
        }
        finally { File.Delete(path); }
    }

    // The fixture with bytes patched at a field's offset.
    private static string Patched(Action<byte[]> patch)
    {
        byte[] b = File.ReadAllBytes(GgufFixtures.Path("gpt2_tiny.gguf"));
        patch(b);
        string path = Path.Combine(Path.GetTempPath(), $"loom-gguf-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, b);
        return path;
    }

    [Fact]
    public void CorruptFieldsAreNamedWithTheirOffset()
    {
        void Check(Action<byte[]> patch, params string[] expected)
        {
            string path = Patched(patch);
            try
            {
                var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
                foreach (var s in expected) Assert.Contains(s, e.Message);
            }
            finally { File.Delete(path); }
        }
        Check(b => b[0] = (byte)'X', "offset 0", "not \"GGUF\"");
        Check(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 1), "offset 4", "version is 1");
        Check(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 1UL << 40), "offset 8", "tensor_count");
        Check(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 1UL << 40), "offset 16", "metadata_kv_count");
        Check(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 1UL << 40), "offset 24", "metadata key 0 (name) string length");
        // the first key is general.architecture (8 + 20 bytes), then its value type
        Check(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24 + 8 + 20), 99), "general.architecture", "value type is 99");

        using var f = GgufFile.Open(GgufFixtures.Path("gpt2_tiny.gguf"));
        // the last tensor info ends just before the padding: ... uint32 type, uint64 offset
        long infoEnd = FindTensorInfoEnd(f);
        Check(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)infoEnd - 8), 3), $"offset {infoEnd - 8}", "output_norm.bias", "not a multiple of the alignment");
        Check(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)infoEnd - 12), 5), $"offset {infoEnd - 12}", "type is 5");
        Check(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)infoEnd - 8), 1UL << 30), "output_norm.bias", "truncated");
    }

    // Offset just past the last tensor info: its name, n_dims = 1, ne[0], type, offset.
    private static long FindTensorInfoEnd(GgufFile f)
    {
        var last = f.Tensors[^1];
        byte[] b = File.ReadAllBytes(f.Path);
        var name = System.Text.Encoding.UTF8.GetBytes(last.Name);
        int at = b.AsSpan(0, (int)f.DataOffset).LastIndexOf(name);
        return at + name.Length + 4 + 8 * last.Dimensions.Length + 4 + 8;
    }
}
