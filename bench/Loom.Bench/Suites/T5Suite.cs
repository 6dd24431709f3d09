// T5 at t5-small's shape (d_model 512, 8 heads × 64, d_ff 2048, 6 + 6 blocks, vocab 32128, ReLU,
// tied head; random weights from T5PreTrainedModel's initialisation): encoder tokens/s (one source
// of 64 ids, cross-attention keys/values included), cached decoding tokens/s greedy (1 row) and
// with 4 beams (4 rows per step, cache reorder included), and a teacher-forced training step
// (forward + backward, B 8 × S 64 → T 32) in target tokens/s. Each case is checked first: the cached
// step's logits equal the full forward's (1e-4).
using Loom.Models;
using Loom.Models.T5;

namespace Loom.Bench.Suites;

internal static class T5Suite
{
    public static void Run(BenchContext ctx)
    {
        var config = new T5Config { VocabSize = 32128, DModel = 512, DKv = 64, DFf = 2048, NumLayers = 6, NumHeads = 8 };
        const int S = 64, T = 32, B = 8, Steps = 32;
        var rng = new Random(1);
        int[] source = Enumerable.Range(0, S).Select(_ => rng.Next(2, config.VocabSize)).ToArray();
        int[] labels = Enumerable.Range(0, B * T).Select(_ => rng.Next(2, config.VocabSize)).ToArray();
        int[] sources = Enumerable.Range(0, B * S).Select(_ => rng.Next(2, config.VocabSize)).ToArray();
        foreach (int threads in ctx.Threads)
        {
            var pool = ctx.Pool(threads);
            using (var model = new T5Model(config, ModelOptions.Inference, pool))
            {
                model.InitializeWeights(7);
                Check(model, source);
                if (ctx.Selected("encode"))
                {
                    double s = ctx.Time(() => model.Encode(source, 1, 1).Dispose(), threads);
                    Add(ctx, $"encode S={S} t={threads}", "tokens/s", S / s);
                }
                foreach (int rows in new[] { 1, 4 })
                {
                    string name = rows == 1 ? $"greedy decode t={threads}" : $"beam 4 decode t={threads}";
                    if (!ctx.Selected(name)) continue;
                    int[] tokens = new int[rows], order = Enumerable.Range(0, rows).Reverse().ToArray();
                    double s = ctx.Time(() =>
                    {
                        using var cache = model.Encode(source, rows, Steps);
                        for (int i = 0; i < Steps; i++)
                        {
                            model.DecodeNext(cache, tokens);
                            if (rows > 1) cache.Reorder(order);
                        }
                    }, threads);
                    double encode = ctx.Time(() => model.Encode(source, rows, Steps).Dispose(), threads);
                    Add(ctx, name, "tokens/s", rows * Steps / Math.Max(s - encode, 1e-9));
                }
            }
            if (!ctx.Selected("train")) continue;
            using var trained = new T5Model(config, ModelOptions.Default, pool);
            trained.InitializeWeights(7);
            double step = ctx.Time(() =>
            {
                trained.Forward(sources, [], labels, B, S, T);
                trained.Parameters.ZeroGradients();
                trained.Backward();
            }, threads);
            Add(ctx, $"train step B={B} S={S} T={T} t={threads}", "target tokens/s", B * T / step);
        }
    }

    private static void Check(T5Model model, int[] source)
    {
        int[] dec = [0, 5, 9, 13];
        model.Forward(source, [], dec, [], 1, source.Length, dec.Length);
        float[] full = model.Logits.ToArray();
        int V = model.VocabularySize;
        using var cache = model.Encode(source, 1, dec.Length);
        for (int t = 0; t < dec.Length; t++)
        {
            var step = model.DecodeNext(cache, [dec[t]]);
            for (int i = 0; i < V; i++)
                if (Math.Abs(step[i] - full[t * V + i]) > 1e-4 * (1 + Math.Abs(full[t * V + i])))
                    throw new InvalidOperationException($"cached decoding differs from the full forward at position {t}, token {i}: {step[i]} vs {full[t * V + i]}");
        }
    }

    private static void Add(BenchContext ctx, string name, string unit, double value)
    {
        ctx.Rows.Add(new BenchRow(name, "throughput", value, unit));
        Console.WriteLine($"{name,-40} {value,12:N1} {unit}");
    }
}
