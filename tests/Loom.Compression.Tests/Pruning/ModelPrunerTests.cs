using Loom.Compression.Calibration;
using Loom.Compression.Pruning;
using Loom.Models;
using Loom.Models.Projections;

namespace Loom.Compression.Tests.Pruning;

public sealed class ModelPrunerTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var d = new TheoryData<string, string, string>();
        foreach (var family in new[] { "gpt2", "llama" })
            foreach (var method in new[] { "magnitude", "wanda", "sparsegpt" })
                foreach (var pattern in new[] { "50", "2_4" })
                    d.Add(family, method, pattern);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrunesEveryLayerProjectionAndNothingElse(string family, string method, string setting)
    {
        var config = family == "gpt2" ? TinyModels.Gpt2Config() : TinyModels.LlamaConfig();
        var recorder = new CalibrationRecorder(gram: method == "sparsegpt");
        using var model = TinyModels.Create(config, recorder.WrapOptions(ModelOptions.Inference));
        using var reference = TinyModels.Create(config, ModelOptions.Inference);
        var ids = TinyModels.Ids(400, 64, 5);
        var windows = CalibrationSamples.Windows(ids, 6, model.ContextLength, "test");
        var pattern = Patterns.Of(setting);
        var options = new PruneOptions
        {
            Method = method switch { "magnitude" => PruningMethod.Magnitude, "wanda" => PruningMethod.Wanda, _ => PruningMethod.SparseGpt },
            Pattern = pattern,
            BatchSize = 4,
            BlockSize = 16,
        };
        var report = ModelPruner.Prune(model, recorder, windows, options);
        var layerWeights = recorder.Projections.Where(s => ModelPruner.LayerOf(s.Path) >= 0).Select(s => s.WeightIndex).ToHashSet();
        Assert.Equal(layerWeights.Count, report.Projections.Count);
        Assert.Equal(method == "magnitude" ? "none" : "sequential", report.Calibration);
        var p = model.Parameters;
        foreach (var s in recorder.Projections.Where(s => layerWeights.Contains(s.WeightIndex)))
        {
            // Groups run along the input dimension in the (out, in) view, whatever the stored layout (GPT-2's Conv1D is (in, out)).
            var w = WeightMatrix.ToOutIn(p.Value(s.WeightIndex), s);
            int zeros = w.Count(v => v == 0);
            Assert.Equal((int)(w.Length * pattern.Sparsity), zeros);
            if (pattern.IsSemiStructured)
                for (int r = 0; r < s.OutFeatures; r++)
                    for (int g = 0; g < s.InFeatures; g += pattern.M)
                        Assert.Equal(pattern.N, Enumerable.Range(g, pattern.M).Count(j => w[r * s.InFeatures + j] == 0));
        }
        // Embeddings, norms, biases and the head are untouched; SparseGPT changes the kept weights, the others do not.
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var a = p.Value(i);
            var b = reference.Parameters.Value(i);
            if (!layerWeights.Contains(i)) { Assert.True(a.SequenceEqual(b), p.Specs[i].Name + " changed"); continue; }
            int changedKept = 0;
            for (int k = 0; k < a.Length; k++) if (a[k] != 0 && a[k] != b[k]) changedKept++;
            if (method == "sparsegpt") Assert.True(changedKept > 0, p.Specs[i].Name);
            else Assert.Equal(0, changedKept);
        }
    }

    [Fact]
    public void LayerIsReadFromTheModulePath()
    {
        Assert.Equal(3, ModelPruner.LayerOf("h.3.mlp.c_fc"));
        Assert.Equal(12, ModelPruner.LayerOf("model.layers.12.self_attn.q_proj"));
        Assert.Equal(-1, ModelPruner.LayerOf("lm_head"));
    }

    // Sequential calibration: layer 1 is calibrated on the outputs of the *pruned* layer 0. A whole
    // run must equal pruning layer 0, then layer 1, in two calls, and differ in layer 1 from the
    // opposite order (layer 1 calibrated on the dense layer 0).
    [Fact]
    public void LaterLayersAreCalibratedOnThePrunedEarlierLayers()
    {
        var config = TinyModels.Gpt2Config();
        var windows = CalibrationSamples.Windows(TinyModels.Ids(300, 64, 9), 4, 16, "test");
        float[] Layer1(Action<ICausalLanguageModel, CalibrationRecorder> prune)
        {
            var r = new CalibrationRecorder(false);
            using var m = TinyModels.Create(config, r.WrapOptions(ModelOptions.Inference));
            prune(m, r);
            var spec = r.Projections.First(s => s.Path == "h.1.mlp.c_fc");
            return m.Parameters.Value(spec.WeightIndex).ToArray();
        }
        PruneOptions Only(int layer) => new() { Method = PruningMethod.Wanda, Include = s => ModelPruner.LayerOf(s.Path) == layer };
        var whole = Layer1((m, r) => ModelPruner.Prune(m, r, windows, new PruneOptions { Method = PruningMethod.Wanda }));
        var forward = Layer1((m, r) => { ModelPruner.Prune(m, r, windows, Only(0)); ModelPruner.Prune(m, r, windows, Only(1)); });
        var backward = Layer1((m, r) => { ModelPruner.Prune(m, r, windows, Only(1)); ModelPruner.Prune(m, r, windows, Only(0)); });
        Assert.Equal(forward, whole);
        Assert.NotEqual(backward, whole);
    }
}
