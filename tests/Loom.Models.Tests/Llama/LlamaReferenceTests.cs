// Loom's Llama against PyTorch (Fixtures/make_llama_fixture.py): RMSNorm, rotary embeddings with
// linear position interpolation, SwiGLU, grouped-query attention (4 query heads, 2 KV heads),
// untied head — logits, loss and every gradient within 1e-4 of the tensor's scale.
using Loom.Models.Formats;
using Loom.Models.Llama;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.Llama;

public class LlamaReferenceTests
{
    internal static (LlamaModel Model, SafetensorsFile File, int B, int T) Load()
    {
        var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_tiny.safetensors"));
        var model = new LlamaModel(LlamaConfig.Parse(file.Metadata["config"]));
        model.LoadWeights(file, "w.");
        return (model, file, int.Parse(file.Metadata["batch"]), int.Parse(file.Metadata["time"]));
    }

    [Fact]
    public void LogitsAndLossMatchPyTorch()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        Assert.Equal("linear", model.Config.RopeScaling?.Type);
        Assert.Equal(2, model.Config.KvHeads);
        float loss = model.Forward(file.ReadInt32("ids"), file.ReadInt32("targets"), B, T);
        Gpt2ReferenceTests.AssertClose(file.ReadSingle("logits"), model.Logits, "logits");
        Assert.Equal(file.ReadSingle("loss")[0], loss, 1e-5);
    }

    [Fact]
    public void EveryGradientMatchesPyTorch()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        Gpt2ReferenceTests.AssertGradientsMatch(model, file, B, T);
    }
}

public class LlamaModelTests
{
    [Fact]
    public void RunsWithoutRopeScalingAndRoundTripsThroughSafetensors()
    {
        var (model, file, B, T) = LlamaReferenceTests.Load();
        using var _ = model; using var __ = file;
        using var plain = new LlamaModel(model.Config with { RopeScaling = null });
        plain.LoadWeights(file, "w.");
        float loss = plain.Forward(file.ReadInt32("ids"), file.ReadInt32("targets"), B, T);
        Assert.True(float.IsFinite(loss));
        Assert.NotEqual(model.Forward(file.ReadInt32("ids"), file.ReadInt32("targets"), B, T), loss); // the scaling matters

        string dir = Path.Combine(Path.GetTempPath(), "loom-llama-" + Guid.NewGuid().ToString("N"));
        model.Save(dir);
        using var reloaded = new LlamaModel(LlamaConfig.Load(Path.Combine(dir, "config.json")));
        using (var f = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"))) reloaded.LoadWeights(f);
        Assert.Equal(model.Parameters.AllValues.ToArray(), reloaded.Parameters.AllValues.ToArray());
        Assert.Equal("linear", reloaded.Config.RopeScaling?.Type);
    }

    [Fact]
    public void InvalidHeadLayoutsAreNamed()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LlamaModel(new LlamaConfig { VocabSize = 10, HiddenSize = 32, IntermediateSize = 8, Layers = 1, Heads = 4, KeyValueHeads = 3, MaxPositions = 8 }));
        Assert.Contains("num_key_value_heads", ex.Message);
    }
}
