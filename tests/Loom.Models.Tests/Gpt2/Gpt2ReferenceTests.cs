// Loom's GPT-2 against PyTorch (Fixtures/make_gpt2_fixture.py): logits, loss and every parameter
// gradient of a tiny model with fixed weights, within 1e-4 relative error.
using Loom.Models.Formats;
using Loom.Models.Gpt2;

namespace Loom.Models.Tests.Gpt2;

public class Gpt2ReferenceTests
{
    internal static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_tiny.safetensors");

    internal static (Gpt2Model Model, SafetensorsFile File, int B, int T) Load()
    {
        var file = SafetensorsFile.Open(FixturePath);
        var config = Gpt2Config.Parse(file.Metadata["config"]);
        var model = new Gpt2Model(config);
        model.LoadWeights(file, "w.");
        return (model, file, int.Parse(file.Metadata["batch"]), int.Parse(file.Metadata["time"]));
    }

    // |got − want| ≤ 1e-4 · max|want| + 1e-6 per element: relative to the tensor's scale, so
    // elements that are near zero by cancellation do not demand impossible relative accuracy.
    internal static void AssertClose(ReadOnlySpan<float> want, ReadOnlySpan<float> got, string what, double rtol = 1e-4)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = 0;
        foreach (var w in want) scale = Math.Max(scale, Math.Abs(w));
        double tol = rtol * scale + 1e-6;
        for (int i = 0; i < want.Length; i++)
            if (!(Math.Abs(got[i] - want[i]) <= tol))
                Assert.Fail($"{what}[{i}]: PyTorch {want[i]:R}, Loom {got[i]:R} (tolerance {tol:E2}, tensor scale {scale:E2}).");
    }

    [Fact]
    public void LogitsAndLossMatchPyTorch()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        float loss = model.Forward(file.ReadInt32("ids"), file.ReadInt32("targets"), B, T);
        AssertClose(file.ReadSingle("logits"), model.Logits, "logits");
        Assert.Equal(file.ReadSingle("loss")[0], loss, 1e-5);
    }

    /// <summary>Runs forward and backward on the fixture's batch and compares every gradient with PyTorch's.</summary>
    internal static void AssertGradientsMatch(Loom.Models.ICausalLanguageModel model, SafetensorsFile file, int B, int T)
    {
        model.Forward(file.ReadInt32("ids"), file.ReadInt32("targets"), B, T);
        model.Parameters.ZeroGradients();
        model.Backward();
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
        {
            var spec = model.Parameters.Specs[i];
            AssertClose(file.ReadSingle("g." + spec.Name), model.Parameters.Gradient(i), "grad " + spec.Name);
        }
    }

    [Fact]
    public void EveryGradientMatchesPyTorch()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        AssertGradientsMatch(model, file, B, T);
    }

    [Fact]
    public void SavedCheckpointLoadsBackIdentically()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        string dir = Path.Combine(Path.GetTempPath(), "loom-gpt2-" + Guid.NewGuid().ToString("N"));
        model.Save(dir);
        using var reloaded = new Gpt2Model(Gpt2Config.Load(Path.Combine(dir, "config.json")));
        using (var f = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"))) reloaded.LoadWeights(f);
        Assert.Equal(model.Parameters.AllValues.ToArray(), reloaded.Parameters.AllValues.ToArray());
    }

    [Fact]
    public void WrongShapesAndTruncatedFilesNameTheTensor()
    {
        using var file = SafetensorsFile.Open(FixturePath);
        var config = Gpt2Config.Parse(file.Metadata["config"]) with { Embedding = 48, Heads = 4 };
        using var model = new Gpt2Model(config);
        var ex = Assert.Throws<InvalidDataException>(() => model.LoadWeights(file, "w."));
        Assert.Contains("w.wte.weight", ex.Message);
        Assert.Contains("[97, 32]", ex.Message);

        string cut = Path.Combine(Path.GetTempPath(), $"loom-cut-{Guid.NewGuid():N}.safetensors");
        var bytes = File.ReadAllBytes(FixturePath);
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 100)]);
        var tex = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(cut));
        Assert.Contains("truncated", tex.Message);
        Assert.Contains(cut, tex.Message);
    }
}

public class Gpt2DecodeTests
{
    [Fact]
    public void CachedDecodingMatchesTheFullForwardAtEveryPosition()
    {
        var (model, file, _, _) = Gpt2ReferenceTests.Load();
        using var _m = model; using var _f = file;
        int T = model.Config.MaxPositions, V = model.Config.VocabSize;
        var rng = new Random(5);
        int[] ids = Enumerable.Range(0, T).Select(_ => rng.Next(V)).ToArray();
        model.Forward(ids, default, 1, T);
        float[] full = model.Logits.ToArray();
        using var cache = model.CreateCache();
        for (int pos = 0; pos < T; pos++)
        {
            var step = model.DecodeNext(cache, ids[pos]);
            Gpt2ReferenceTests.AssertClose(full.AsSpan(pos * V, V), step, $"logits at position {pos}", 1e-5);
        }
        Assert.Equal(T, cache.Length);
        Assert.Throws<InvalidOperationException>(() => model.DecodeNext(cache, 0));
        cache.Clear();
        Gpt2ReferenceTests.AssertClose(full.AsSpan(0, V), model.DecodeNext(cache, ids[0]), "after Clear", 1e-5);
    }
}

public class Gpt2CheckpointingTests
{
    [Fact]
    public void CheckpointedGradientsAreIdenticalWithLessMemory()
    {
        var (model, file, B, T) = Gpt2ReferenceTests.Load();
        using var _ = model; using var __ = file;
        int[] ids = file.ReadInt32("ids"), targets = file.ReadInt32("targets");
        float plainLoss = model.Forward(ids, targets, B, T);
        model.Parameters.ZeroGradients();
        model.Backward();
        float[] plain = model.Parameters.AllGradients.ToArray();
        long plainBytes = model.ActivationBytes;

        model.ActivationCheckpointing = true;
        float loss = model.Forward(ids, targets, B, T);
        model.Parameters.ZeroGradients();
        model.Backward();
        Assert.Equal(plainLoss, loss);
        Assert.Equal(plain, model.Parameters.AllGradients.ToArray());
        Assert.True(model.ActivationBytes < plainBytes, $"{model.ActivationBytes} ≥ {plainBytes}");
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
            Gpt2ReferenceTests.AssertClose(file.ReadSingle("g." + model.Parameters.Specs[i].Name), model.Parameters.Gradient(i), "grad " + model.Parameters.Specs[i].Name);
    }
}
