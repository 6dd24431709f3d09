// The projection seam, on every family: a hook given at build time sees every weight matmul by its
// Hugging Face module path, and what it returns is what the model runs — forward, backward and
// (GPT-2) KV-cache decoding — without any change to the model files.
using Loom.Models.Gpt2;
using Loom.Models.Projections;

namespace Loom.Models.Tests.Projections;

public class ProjectionFactoryTests
{
    // Counts calls and otherwise defers to the dense projection.
    private sealed class Counting(IProjection inner) : IProjection
    {
        public int Forwards, Backwards;
        public ProjectionSpec Spec => inner.Spec;
        public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false) { Forwards++; inner.Forward(x, y, rows, accumulate); }
        public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false) { Backwards++; inner.Backward(dy, x, dx, rows, accumulateInput); }
        public void Dispose() => inner.Dispose();
    }

    // Every weight matmul as PyTorch's state dict names it: the 2-D weights that are not embedding
    // tables, plus the tied output projections (GPT-2's lm_head and BERT's MLM decoder share the word embeddings).
    private static HashSet<string> TorchProjectionPaths(FixtureModel f, string family)
    {
        var paths = f.TorchNames
            .Where(n => n.EndsWith(".weight", StringComparison.Ordinal) && !n.Contains("embed", StringComparison.Ordinal)
                && n is not ("wte.weight" or "wpe.weight") && !n.Contains("LayerNorm", StringComparison.Ordinal) && !n.Contains("norm", StringComparison.Ordinal) && !n.Contains("ln_", StringComparison.Ordinal))
            .Select(n => n[..^".weight".Length]).ToHashSet();
        if (family == "gpt2") paths.Add("lm_head");
        if (family == "bert") paths.Add("cls.predictions.decoder");
        return paths;
    }

    public static TheoryData<string> Families => new(FixtureModel.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryWeightMatmulGoesThroughTheHookByName(string family)
    {
        var made = new List<Counting>();
        var options = new ModelOptions { Projections = c => { var p = new Counting(c.CreateDense()); made.Add(p); return p; } };
        using var hooked = new FixtureModel(family, options);
        using var plain = new FixtureModel(family);
        Assert.Equal(TorchProjectionPaths(plain, family), made.Select(p => p.Spec.Path).ToHashSet());
        Assert.Equal(made.Count, made.Select(p => p.Spec.Path).Distinct().Count());

        float a = hooked.ForwardBackward(), b = plain.ForwardBackward();
        Assert.Equal(b, a);
        Assert.Equal(plain.Logits(), hooked.Logits());
        var ga = hooked.Gradients();
        foreach (var (name, g) in plain.Gradients()) Assert.Equal(g, ga[name]);
        // The MLM loss does not reach BERT's pooler's backward; everything else runs both ways.
        foreach (var p in made)
        {
            Assert.True(p.Forwards == 1, $"{p.Spec.Path}: {p.Forwards} forwards");
            Assert.True(p.Backwards == (p.Spec.Path == "bert.pooler.dense" ? 0 : 1), $"{p.Spec.Path}: {p.Backwards} backwards");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void ALoraWrapperWithZeroBLeavesTheModelUnchangedAndGetsTheRightGradient(string family)
    {
        var adapters = new List<LoraLikeProjection>();
        // Adapt the attention query projections, as PEFT's target_modules would.
        static bool IsQuery(string path) => path.EndsWith("attn.c_attn", StringComparison.Ordinal) || path.EndsWith("q_proj", StringComparison.Ordinal) || path.EndsWith("self.query", StringComparison.Ordinal);
        var options = new ModelOptions
        {
            Projections = c => IsQuery(c.Spec.Path) ? Add(new LoraLikeProjection(c.CreateDense(), rank: 2, seed: adapters.Count + 1)) : c.CreateDense(),
        };
        IProjection Add(LoraLikeProjection p) { adapters.Add(p); return p; }
        using var lora = new FixtureModel(family, options);
        using var plain = new FixtureModel(family);
        Assert.Equal(2, adapters.Count);   // one per layer

        float loss = lora.ForwardBackward();
        Assert.Equal(plain.ForwardBackward(), loss);
        Assert.Equal(plain.Logits(), lora.Logits());
        var gl = lora.Gradients();
        foreach (var (name, g) in plain.Gradients()) Assert.Equal(g, gl[name]);

        // dB is the adapter's gradient; check it against central differences of the whole model's loss.
        var ad = adapters[0];
        Assert.Contains(ad.DB, v => v != 0);
        int[] probe = [0, ad.DB.Length / 2, ad.DB.Length - 1];
        foreach (int j in probe)
        {
            const float h = 1e-2f;
            ad.B[j] = h;
            double up = lora.Forward();
            ad.B[j] = -h;
            double down = lora.Forward();
            ad.B[j] = 0;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - ad.DB[j]) <= 2e-2 * Math.Abs(fd) + 2e-4, $"{family} {ad.Spec.Path} dB[{j}]: finite difference {fd}, backward {ad.DB[j]}");
        }
        // A non-zero B changes the outputs: the wrapper is really in the forward path.
        ad.B[0] = 0.5f;
        lora.Forward();
        Assert.NotEqual(plain.Logits(), lora.Logits());
    }

    [Fact]
    public void KvCacheDecodingGoesThroughTheProjectionsToo()
    {
        var made = new List<Counting>();
        var config = new Gpt2Config { VocabSize = 50, MaxPositions = 16, Embedding = 16, Layers = 2, Heads = 2 };
        using var model = new Gpt2Model(config, new ModelOptions { Projections = c => { var p = new Counting(c.CreateDense()); made.Add(p); return p; } });
        model.InitializeWeights(3);
        using var cache = model.CreateCache();
        model.DecodeNext(cache, 7);
        Assert.Equal(2 * 4 + 1, made.Count);
        Assert.All(made, p => Assert.Equal(1, p.Forwards));
    }
}
