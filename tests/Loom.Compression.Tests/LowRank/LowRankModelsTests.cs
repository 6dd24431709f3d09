using Loom.Compression.LowRank;
using Loom.Compression.Pruning;
using Loom.Models;
using Loom.Models.Projections;

namespace Loom.Compression.Tests.LowRank;

public sealed class LowRankModelsTests
{
    // The saved low-rank model must compute what the dense model computes with each factored weight
    // replaced by its rank-r SVD truncation W_r (built here independently, in double, from the SVD).
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void ReloadedModelEqualsTheDenseModelWithTruncatedWeights(string family)
    {
        var config = family == "gpt2" ? TinyModels.Gpt2Config() : TinyModels.LlamaConfig();
        string src = TinyModels.SaveTemp(config), dst = src + "-lr";
        try
        {
            var report = LowRankModels.Factorize(src, dst, new LowRankOptions { Rank = 6 });
            Assert.True(LowRankModels.IsLowRank(dst));
            Assert.All(report.Projections, p => Assert.Equal(6, p.Rank));
            Assert.Equal(report.ModelParametersBefore - report.Projections.Sum(p => p.DenseParameters - p.Parameters), report.ModelParametersAfter);
            Assert.True(new FileInfo(Path.Combine(dst, "model.safetensors")).Length < new FileInfo(Path.Combine(src, "model.safetensors")).Length);

            var specs = new List<ProjectionSpec>();
            using var truncated = CausalLanguageModels.Load(src, ModelOptions.Inference with { Projections = c => { specs.Add(c.Spec); return c.CreateDense(); } });
            foreach (var s in specs.Where(s => ModelPruner.LayerOf(s.Path) >= 0))
            {
                var w = WeightMatrix.ToOutIn(truncated.Parameters.Value(s.WeightIndex), s);
                var svd = TruncatedSvd.Compute(w, s.OutFeatures, s.InFeatures);
                var (a, b) = svd.Factors(6);
                var wr = new double[w.Length];
                for (int o = 0; o < s.OutFeatures; o++)
                    for (int i = 0; i < s.InFeatures; i++)
                        for (int k = 0; k < 6; k++) wr[o * s.InFeatures + i] += (double)b[o * 6 + k] * a[k * s.InFeatures + i];
                WeightMatrix.FromOutIn(wr, s, truncated.Parameters.Value(s.WeightIndex));
            }
            using var lowRank = LowRankModels.Load(dst);
            var ids = TinyModels.Ids(2 * 16, 64, 3);
            var targets = TinyModels.Ids(2 * 16, 64, 4);
            float l1 = truncated.Forward(ids, targets, 2, 16);
            var logits1 = truncated.Logits.ToArray();
            float l2 = lowRank.Forward(ids, targets, 2, 16);
            Assert.Equal(l1, l2, 1e-4);
            var logits2 = lowRank.Logits;
            for (int i = 0; i < logits1.Length; i++) Assert.Equal(logits1[i], logits2[i], 1e-3);
        }
        finally
        {
            foreach (var d in new[] { src, dst }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void ARankThatSavesNothingKeepsTheProjectionDense()
    {
        string src = TinyModels.SaveTemp(TinyModels.Gpt2Config()), dst = src + "-lr";
        try
        {
            // c_attn is 96×32: rank 24 costs 24·128 = 3072 = 96·32 weights, no saving; c_fc 128×32 saves at 24 (3840 < 4096).
            var report = LowRankModels.Factorize(src, dst, new LowRankOptions { Rank = 24 });
            Assert.Equal(0, report.Projections.Single(p => p.Path == "h.0.attn.c_attn").Rank);
            Assert.Equal(24, report.Projections.Single(p => p.Path == "h.0.mlp.c_fc").Rank);
            Assert.DoesNotContain("h.0.attn.c_attn", LowRankModels.ReadRanks(dst).Keys);
            using var m = LowRankModels.Load(dst);
        }
        finally
        {
            foreach (var d in new[] { src, dst }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void AMismatchedFileIsRefusedByName()
    {
        string src = TinyModels.SaveTemp(TinyModels.Gpt2Config()), dst = src + "-lr";
        try
        {
            LowRankModels.Factorize(src, dst, new LowRankOptions { Energy = 0.5 });
            File.WriteAllText(Path.Combine(dst, LowRankModels.FileName), """{"format":"loom-low-rank","version":1,"projections":{"h.9.mlp.c_fc":4}}""");
            var e = Assert.Throws<InvalidDataException>(() => LowRankModels.Load(dst));
            Assert.Contains("h.9.mlp.c_fc", e.Message);
            Assert.Throws<ArgumentException>(() => LowRankModels.Factorize(src, dst + "2", new LowRankOptions { Rank = 2, Energy = 0.5 }));
            Assert.Throws<IOException>(() => LowRankModels.Factorize(src, dst, new LowRankOptions { Rank = 2 }));
        }
        finally
        {
            foreach (var d in new[] { src, dst }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
