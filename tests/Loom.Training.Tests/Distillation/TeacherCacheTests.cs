// Offline distillation through a teacher cache, against on-the-fly distillation (DistillationObjective,
// itself equal to PyTorch: DistillationObjectiveTests): with top_k = V the cached objective on a batch of
// cached chunks gives the on-the-fly loss and every student gradient on the same ids; with k < V the
// cache holds the teacher's exact top-k at T. The cache round-trips through its files, and a cache made
// for other settings or text is refused naming the setting.
using System.Globalization;
using Loom.Models;
using Loom.Training.Distillation;
using Loom.Training.Tests.Preferences;

namespace Loom.Training.Tests.Distillation;

public class TeacherCacheTests
{
    [Fact]
    public void CachedObjectiveAtFullTopKEqualsOnTheFlyDistillationAndTheFilesRoundTrip()
    {
        using var file = ObjectiveFixture.Open();
        using var student = ObjectiveFixture.Build(file, "w.");
        using var teacher = ObjectiveFixture.Build(file, "t.", ModelOptions.Inference, "teacher_config");
        float alpha = float.Parse(file.Metadata["alpha"], CultureInfo.InvariantCulture), temperature = float.Parse(file.Metadata["temperature"], CultureInfo.InvariantCulture);
        int V = student.VocabularySize, T = 8;
        var rng = new Random(5);
        var tokens = Enumerable.Range(0, 5 * T + 3).Select(_ => rng.Next(V)).ToArray();

        string dir = Directory.CreateTempSubdirectory("loom-kd-cache-").FullName;
        try
        {
            TeacherCache.Build(teacher, tokens, T, V, temperature, batch: 2).Save(dir, "teacher", teacher.Configuration);
            var cache = TeacherCache.Open(dir, tokens, T, V, temperature);
            Assert.Equal(5, cache.Chunks);
            var source = new TeacherCacheBatches(cache, batch: 2, seed: 3);
            using var cached = new CachedDistillationObjective(student, source, alpha);
            var b = source.Next();
            var ids = b.Inputs.ToArray();
            var targets = b.Targets.ToArray();
            student.Parameters.ZeroGradients();
            float loss = cached.Forward(ids, targets, b.Batch, b.Time);
            cached.Backward();
            var got = student.Parameters.AllGradients.ToArray();

            using var onTheFly = new DistillationObjective(student, teacher, alpha, temperature);
            student.Parameters.ZeroGradients();
            float want = onTheFly.Forward(ids, targets, b.Batch, b.Time);
            onTheFly.Backward();
            Assert.Equal(want, loss, 1e-4f);
            ObjectiveFixture.AssertClose(student.Parameters.AllGradients.ToArray(), got, 1e-6, 1e-3, "all gradients");

            // A forward on a batch that is not the cache's (validation windows) is plain cross-entropy.
            float ce = cached.Forward(ids, targets, b.Batch, b.Time);
            Assert.Equal(student.Forward(ids, targets, b.Batch, b.Time), ce);

            // Other settings or text: refused, naming what differs.
            Assert.Contains("distill.top_k", Assert.Throws<InvalidDataException>(() => TeacherCache.Open(dir, tokens, T, 4, temperature)).Message);
            Assert.Contains("distill.temperature", Assert.Throws<InvalidDataException>(() => TeacherCache.Open(dir, tokens, T, V, 1f)).Message);
            Assert.Contains("train.max_length", Assert.Throws<InvalidDataException>(() => TeacherCache.Open(dir, tokens, 4, V, temperature)).Message);
            var other = (int[])tokens.Clone();
            other[7] = (other[7] + 1) % V;
            Assert.Contains("another training text", Assert.Throws<InvalidDataException>(() => TeacherCache.Open(dir, other, T, V, temperature)).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void TheCacheHoldsTheTeachersTopKAtTheTemperature()
    {
        using var file = ObjectiveFixture.Open();
        using var teacher = ObjectiveFixture.Build(file, "t.", ModelOptions.Inference, "teacher_config");
        int V = teacher.VocabularySize, T = 8, k = 6;
        var tokens = Enumerable.Range(0, 2 * T + 1).Select(i => (i * 7) % V).ToArray();
        var cache = TeacherCache.Build(teacher, tokens, T, k, 2f);
        teacher.Forward(tokens.AsSpan(0, 2 * T), default, 2, T);
        var logits = teacher.Logits.ToArray();
        for (int row = 0; row < 2 * T; row++)
        {
            var r = logits.AsSpan(row * V, V).ToArray();
            double max = double.NegativeInfinity; foreach (float v in r) max = Math.Max(max, v / 2.0);
            double lse = max + Math.Log(r.Sum(v => Math.Exp(v / 2.0 - max)));
            var want = Enumerable.Range(0, V).OrderByDescending(j => r[j]).Take(k).ToArray();   // naive sort
            Assert.Equal(want, cache.Ids.AsSpan(row * k, k).ToArray());
            for (int i = 0; i < k; i++) Assert.Equal(r[want[i]] / 2.0 - lse, cache.LogProbs[row * k + i], 1e-5);
        }
    }
}
