// The `distill` suite (issue 14 §4): what a distillation training step costs against the plain step of the same
// student, at the shapes of the docs/FINETUNING.md experiment — a 2-layer × 64 GPT-2 student, vocab 512, batches of
// 8 × 64 tokens, one full TrainingStep each (forward, loss, backward, clipping, AdamW):
//   plain       α = 0 on cached chunks: the student's own cross-entropy (what "the student alone" runs)
//   cached      α 0.5, T 2, the teacher's top-16 log-probabilities from a TeacherCache (SparseDistillationLoss);
//               and α 0.9, T 1, top-64 (the examples/finetune/distill-student-cached.yaml settings)
//   on the fly  α 0.5, T 2, a frozen 6-layer × 64 teacher's forward on every batch (DistillationLoss)
// The three run in alternating rounds (plain, cached, on the fly, plain, ...) so a loaded machine slows them alike;
// rows: ms_per_step (median of the rounds) and, for the two distillation cases, ratio = plain ÷ case (1 = free).
// The teacher cache is built once up front from a randomly initialised teacher (the loss's cost does not depend
// on the values) and its pass is reported as teacher_pass_s. Run with LOOM_THREADS=1 and --cpu-time on a shared
// machine: every case is then timed on one thread's CPU clock.
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Distillation;
using Loom.Training.Loop;

namespace Loom.Bench.Suites;

internal static class DistillSuite
{
    public static void Run(BenchContext ctx)
    {
        const int V = 512, B = 8, T = 64, k = 16, rounds = 7;
        int steps = ctx.Steps ?? 20;
        var student = new Gpt2Config { VocabSize = V, MaxPositions = T, Embedding = 64, Layers = 2, Heads = 4 };
        var teacherConfig = student with { Layers = 6 };
        var pool = ctx.Pool(1);
        // Tokens: tiny Shakespeare's bytes (ids < 256 < V), enough for a few hundred chunks.
        string text = File.ReadAllText(Path.Combine(BenchPaths.RepoRoot, "data", "tinyshakespeare", "input.txt"));
        int[] tokens = text.Take(400 * T + 1).Select(c => Math.Min((int)c, 255)).ToArray();
        using var teacher = new Gpt2Model(teacherConfig, ModelOptions.Inference, pool);
        teacher.InitializeWeights(2);
        double passStart = ctx.Now();
        var cache = TeacherCache.Build(teacher, tokens, T, k, 2f, batch: 16);
        double pass = ctx.Now() - passStart;
        var cache64 = TeacherCache.Build(teacher, tokens, T, 64, 1f, batch: 16);

        var names = new[] { "plain (alpha 0)", "cached top-16 (alpha 0.5, T 2)", "cached top-64 (alpha 0.9, T 1)", "on the fly 6x64 teacher (alpha 0.5, T 2)" };
        int cases = names.Length;
        var models = new List<Gpt2Model>();
        var stepsFor = new List<TrainingStep>();
        var options = new TrainOptions { BatchSize = B, SequenceLength = T, MaxSteps = 1_000_000, LearningRate = 1e-3f };
        for (int c = 0; c < cases; c++)
        {
            var model = new Gpt2Model(student, ModelOptions.Default, pool);
            model.InitializeWeights(1);
            models.Add(model);
            var source = new TeacherCacheBatches(c == 2 ? cache64 : cache, B, seed: 3);
            ILanguageModel trained = c switch
            {
                0 => new CachedDistillationObjective(model, source, alpha: 0f),
                1 => new CachedDistillationObjective(model, source, alpha: 0.5f),
                2 => new CachedDistillationObjective(model, source, alpha: 0.9f),
                _ => new DistillationObjective(model, teacher, alpha: 0.5f, temperature: 2f),
            };
            stepsFor.Add(new TrainingStep(trained, source, options));
        }
        var times = names.Select(_ => new List<double>()).ToArray();
        int step = 0;
        for (int c = 0; c < cases; c++) for (int i = 0; i < 3; i++) stepsFor[c].Run(step + i);   // warm-up: JIT, plans
        step = 3;
        for (int r = 0; r < rounds; r++)
        {
            for (int c = 0; c < cases; c++)
            {
                double start = ctx.Now();
                for (int i = 0; i < steps; i++) stepsFor[c].Run(step + i);
                times[c].Add((ctx.Now() - start) / steps);
            }
            step += steps;
        }
        double Median(List<double> x) { var s = x.Order().ToArray(); return s[s.Length / 2]; }
        double plain = Median(times[0]);
        ctx.Rows.Add(new BenchRow("teacher cache pass 6x64, 400 chunks of 64, top-16", "teacher_pass_s", Math.Round(pass, 3), "s"));
        for (int c = 0; c < cases; c++)
        {
            string name = $"distill student 2x64 V={V} B={B} T={T} {names[c]}";
            double ms = Median(times[c]) * 1000;
            ctx.Rows.Add(new BenchRow(name, "ms_per_step", Math.Round(ms, 3), "ms") { Anchor = c == 0 ? null : Math.Round(plain * 1000, 3), AnchorName = c == 0 ? null : "plain step", Ratio = c == 0 ? null : Math.Round(plain / Median(times[c]), 3) });
            Console.WriteLine($"{name,-80} {ms,8:F2} ms/step{(c == 0 ? "" : $"  plain ÷ this {plain / Median(times[c]):F3}")}");
        }
        foreach (var s in stepsFor) s.Dispose();
        foreach (var m in models) m.Dispose();
    }
}
