// Loom's T5 against PyTorch (Fixtures/make_t5_fixture.py, a plain-torch T5ForConditionalGeneration
// following transformers' modeling_t5.py): v1.0 (ReLU, tied head with the d_model^-0.5 rescale,
// 3 decoder blocks over 2 encoder blocks) and v1.1 (gated GELU, untied lm_head), n_heads·d_kv ≠
// d_model, a padded source row and −100 label padding. Logits, loss, every gradient within 1e-4
// of the tensor's scale; relative-position buckets and the shifted decoder inputs exactly.
using Loom.Models.Formats;
using Loom.Models.T5;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.T5;

public class T5ReferenceTests
{
    internal sealed record Fixture(T5Model Model, SafetensorsFile File, int B, int S, int T) : IDisposable
    {
        public int[] InputIds => File.ReadInt32("input_ids");
        public int[] Mask => File.ReadInt32("attention_mask");
        public int[] Labels => File.ReadInt32("labels");
        public float Forward() => Model.Forward(InputIds, Mask, Labels, B, S, T);
        public void Dispose() { Model.Dispose(); File.Dispose(); }
    }

    internal static string FixturePath(string variant) => Path.Combine(AppContext.BaseDirectory, "Fixtures", $"t5_tiny_{variant}.safetensors");

    internal static Fixture Load(string variant, ModelOptions? options = null)
    {
        var file = SafetensorsFile.Open(FixturePath(variant));
        var model = new T5Model(T5Config.Parse(file.Metadata["config"]), options ?? ModelOptions.Default);
        model.LoadWeights(file, "w.");
        return new Fixture(model, file, int.Parse(file.Metadata["batch"]), int.Parse(file.Metadata["source"]), int.Parse(file.Metadata["target"]));
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void LogitsAndLossMatchPyTorch(string variant)
    {
        using var f = Load(variant);
        float loss = f.Forward();
        Gpt2ReferenceTests.AssertClose(f.File.ReadSingle("logits"), f.Model.Logits, "logits");
        Assert.Equal(f.File.ReadSingle("loss")[0], loss, 1e-5);
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void EveryGradientMatchesPyTorch(string variant)
    {
        using var f = Load(variant);
        f.Forward();
        f.Model.Parameters.ZeroGradients();
        f.Model.Backward();
        var specs = f.Model.Parameters.Specs;
        Assert.Equal(f.File.Tensors.Keys.Count(k => k.StartsWith("g.", StringComparison.Ordinal)), specs.Count);
        for (int i = 0; i < specs.Count; i++)
            Gpt2ReferenceTests.AssertClose(f.File.ReadSingle("g." + specs[i].Name), f.Model.Parameters.Gradient(i), "grad " + specs[i].Name);
    }

    [Fact]
    public void ConfigsAreTheTwoT5Generations()
    {
        using var v10 = Load("v10");
        using var v11 = Load("v11");
        Assert.True(v10.Model.Config.TieWordEmbeddings);
        Assert.False(v10.Model.Config.IsGated);
        Assert.Equal(3, v10.Model.Config.NumDecoderLayers);
        Assert.NotEqual(v10.Model.Config.DModel, v10.Model.Config.InnerDim);
        Assert.False(v11.Model.Config.TieWordEmbeddings);
        Assert.True(v11.Model.Config.IsGated);
        Assert.DoesNotContain(v10.Model.Parameters.Specs, s => s.Name == "lm_head.weight");
        Assert.Contains(v11.Model.Parameters.Specs, s => s.Name == "lm_head.weight");
        // the bias table lives in block 0 of each stack only
        Assert.Equal(2, v10.Model.Parameters.Specs.Count(s => s.Name.Contains("relative_attention_bias", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void RelativePositionBucketsMatchPyTorch(string variant)
    {
        using var f = Load(variant);
        var c = f.Model.Config;
        int[] rel = f.File.ReadInt32("relative_positions"), bi = f.File.ReadInt32("buckets_bidirectional"), causal = f.File.ReadInt32("buckets_causal");
        for (int i = 0; i < rel.Length; i++)
        {
            Assert.True(bi[i] == T5RelativePosition.Bucket(rel[i], true, c.RelativeAttentionNumBuckets, c.RelativeAttentionMaxDistance), $"bidirectional bucket of {rel[i]}");
            Assert.True(causal[i] == T5RelativePosition.Bucket(rel[i], false, c.RelativeAttentionNumBuckets, c.RelativeAttentionMaxDistance), $"causal bucket of {rel[i]}");
        }
        // t5-small's own table shape (32 buckets, 128) has log-spaced buckets too: spot values from transformers' formula.
        Assert.Equal(15, T5RelativePosition.Bucket(-128, true, 32, 128));
        Assert.Equal(31, T5RelativePosition.Bucket(500, true, 32, 128));
    }

    [Fact]
    public void DecoderInputsAreTheLabelsShiftedRight()
    {
        using var f = Load("v10");
        var got = new int[f.B * f.T];
        T5Model.ShiftRight(f.Labels, got, f.B, f.T, f.Model.Config.DecoderStartTokenId, f.Model.Config.PadTokenId);
        Assert.Equal(f.File.ReadInt32("decoder_input_ids"), got);
    }

    [Fact]
    public void SavedDirectoryLoadsBackIdentically()
    {
        using var f = Load("v11");
        string dir = Path.Combine(Path.GetTempPath(), "loom-t5-" + Guid.NewGuid().ToString("N"));
        try
        {
            f.Model.Save(dir);
            using var reloaded = T5Model.Load(dir);
            Assert.Equal(f.Model.Config with { Architectures = null }, reloaded.Config with { Architectures = null });
            Assert.Equal(f.Model.Parameters.AllValues.ToArray(), reloaded.Parameters.AllValues.ToArray());
            using var file = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
            Assert.Contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", file.Tensors.Keys);
            Assert.Contains("decoder.block.1.layer.1.EncDecAttention.o.weight", file.Tensors.Keys);
            Assert.Contains("decoder.block.0.layer.2.DenseReluDense.wi_1.weight", file.Tensors.Keys);
            Assert.DoesNotContain("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", file.Tensors.Keys);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadConfigAndIdsAreNamed()
    {
        var ex = Assert.Throws<ArgumentException>(() => new T5Model(new T5Config { VocabSize = 10, DModel = 8, DKv = 2, DFf = 8, NumLayers = 1, NumHeads = 2, FeedForwardProj = "gated-swish" }));
        Assert.Contains("feed_forward_proj", ex.Message);
        using var f = Load("v10");
        var ids = f.InputIds;
        ids[3] = 1000;
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => f.Model.Forward(ids, f.Mask, f.Labels, f.B, f.S, f.T));
        Assert.Contains("input_ids[3] is 1000", bad.Message);
    }
}
