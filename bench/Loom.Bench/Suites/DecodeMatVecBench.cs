// `quant --filter decode-matvec`: the matrix-vector products of one GPT-2 124M decode step, and nothing else —
// 12 layers of c_attn (2304 × 768), attn.c_proj (768 × 768), c_fc (3072 × 768) and mlp.c_proj (768 × 3072), then
// the head (50,257 × 768), each layer its own matrices, so the weights stream from memory as in a decode step
// (one matrix repeated would sit in the cache). Per format (f32 rows as the head's RowsDot, f32 Conv1D columns as a
// GGUF f32 model's projections, f16, q8_0, q4_0) and thread count it prints GB/s of weights read per projection kind
// (the suite's clock around each call — wall, or with --cpu-time process CPU time ÷ threads: hand-off and join included) and for the whole step, which tells a slow shape from
// a slow step (docs/PERFORMANCE.md, "Where a decode step's time goes"). Random weights; the q8_0/q4_0 products are
// checked against the scalar path on the head before timing.
using Loom.Core.Kernels;
using Loom.Core.Kernels.Quantized;
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Bench.Suites;

internal static class DecodeMatVecBench
{
    private static readonly (string Name, int Rows, int Columns)[] Shapes =
        [("c_attn", 2304, 768), ("attn.c_proj", 768, 768), ("c_fc", 3072, 768), ("mlp.c_proj", 768, 3072)];

    private const int Layers = 12, Vocab = 50257, Embedding = 768;

    public static void Run(BenchContext ctx)
    {
        var rng = new Random(11);
        var source = new float[(long)Vocab * Embedding];   // one random source, sliced for every matrix
        for (long i = 0; i < source.Length; i++) source[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
        var x = new float[4 * Embedding];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        var y = new float[Vocab];
        int steps = ctx.Steps ?? 32;
        // `decode-matvec-hot`: every layer reuses layer 0's matrices, which then stay in the caches (the kernels'
        // compute-bound rate, against the streaming rate of the default).
        bool hot = ctx.Filter!.StartsWith("decode-matvec-hot", StringComparison.OrdinalIgnoreCase);
        foreach (string format in new[] { "f32-rows", "f32-columns", "f16", "q8_0", "q4_0" })
        {
            if (ctx.Filter!.Contains(':') && !ctx.Filter.Split(':')[1].Split(',').Contains(format)) continue;
            foreach (int threads in ctx.Threads)
            {
                var pool = ctx.Pool(threads);
                var ops = new List<(int Kind, long Bytes, Action Call, IDisposable Owner)>();
                for (int l = 0; l < Layers; l++)
                    for (int s = 0; s < Shapes.Length; s++)
                        ops.Add(hot && l > 0 ? ops[s] with { Owner = Nothing.Instance } : Make(format, s, Shapes[s].Rows, Shapes[s].Columns, source, x, y, pool));
                ops.Add(Make(format, Shapes.Length, Vocab, Embedding, source, x, y, pool));
                try
                {
                    for (int warm = 0; warm < 4; warm++) foreach (var op in ops) op.Call();
                    // Fixed shares and balanced (work-stealing) ones alternately, twice, under the same load.
                    bool[] modes = threads == 1 ? [true] : [false, true, false, true];
                    foreach (bool balanced in modes)
                    {
                        pool.Balanced = balanced;
                        Measure(ctx, ops, steps, threads, $"decode-matvec{(hot ? "-hot" : "")} {format} threads={threads}" + (threads == 1 ? "" : balanced ? " balanced" : " fixed"));
                    }
                    pool.Balanced = true;
                }
                finally
                {
                    foreach (var op in ops) op.Owner.Dispose();
                }
            }
        }
    }

    private static void Measure(BenchContext ctx, List<(int Kind, long Bytes, Action Call, IDisposable Owner)> ops, int steps, int threads, string label)
    {
        var seconds = new double[Shapes.Length + 1];
        double start = ctx.Now(threads);
        for (int step = 0; step < steps; step++)
            foreach (var op in ops)
            {
                double t0 = ctx.Now(threads);
                op.Call();
                seconds[op.Kind] += ctx.Now(threads) - t0;
            }
        double perStep = (ctx.Now(threads) - start) / steps;
        long total = ops.Sum(o => o.Bytes);
        Console.WriteLine($"{label,-48} step {perStep * 1e3,7:F3} ms  {total / perStep / 1e9,6:F2} GB/s ({total / 1e6:F1} MB)");
        ctx.Rows.Add(new BenchRow(label + " step", "weights_gb_per_s", Math.Round(total / perStep / 1e9, 2), "GB/s"));
        var parts = new System.Text.StringBuilder("   ");
        for (int k = 0; k <= Shapes.Length; k++)
        {
            string kind = k < Shapes.Length ? Shapes[k].Name : "lm_head";
            long bytes = ops.Where(o => o.Kind == k).Sum(o => o.Bytes);
            double per = seconds[k] / steps;
            parts.Append($" {kind} {per * 1e3:F3} ms {bytes / per / 1e9:F1} GB/s;");
            ctx.Rows.Add(new BenchRow($"{label} {kind}", "weights_gb_per_s", Math.Round(bytes / per / 1e9, 2), "GB/s"));
        }
        Console.WriteLine(parts.ToString());
    }

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();
        public void Dispose() { }
    }

    // f32 weights in a NativeBuffer, as a model's parameters are (so LOOM_HUGE_PAGES=1 applies to them too).
    private sealed unsafe class Floats(int count) : IDisposable
    {
        private readonly NativeBuffer _buffer = new(4L * count, zero: false);
        public Span<float> Values => new((void*)_buffer.Pointer, count);
        public void Dispose() => _buffer.Dispose();
    }

    private static (int, long, Action, IDisposable) Make(string format, int kind, int rows, int columns, float[] source, float[] x, float[] y, WorkerPool pool)
    {
        var w = new ReadOnlySpan<float>(source, 0, rows * columns);
        if (format.StartsWith("f32", StringComparison.Ordinal))
        {
            var f = new Floats(rows * columns);
            w.CopyTo(f.Values);
            if (format == "f32-rows") return (kind, 4L * rows * columns, () => MatVec.RowsDot(f.Values, x.AsSpan(0, columns), y.AsSpan(0, rows), pool), f);
            // Conv1D (in, out): the same bytes read as columns.
            return (kind, 4L * rows * columns, () => MatVec.ColumnsAxpy(x.AsSpan(0, columns), f.Values, default, y.AsSpan(0, rows), pool), f);
        }
        var q = format switch { "f16" => QuantFormat.F16, "q8_0" => QuantFormat.Q8_0, _ => QuantFormat.Q4_0 };
        var m = QuantizedMatrix.Quantize(q, w, rows, columns, pool);
        if (kind == Shapes.Length && q != QuantFormat.F16) Check(m, x, pool);
        return (kind, m.ByteLength, () => m.Multiply(x.AsSpan(0, columns), y.AsSpan(0, rows), 1, pool: pool), m);
    }

    // The default path against the scalar one on the same matrix (a wrong kernel is not timed).
    private static void Check(QuantizedMatrix m, float[] x, WorkerPool pool)
    {
        var a = new float[m.Rows];
        var b = new float[m.Rows];
        var path = m.Path;
        m.Multiply(x.AsSpan(0, m.Columns), a, 1, pool: pool);
        m.Path = QuantKernelPath.Scalar;
        m.Multiply(x.AsSpan(0, m.Columns), b, 1, pool: pool);
        m.Path = path;
        double err = 0;
        for (int i = 0; i < a.Length; i++) err = Math.Max(err, Math.Abs(a[i] - b[i]));
        if (err > 1e-3) throw new InvalidOperationException($"{QuantFormatInfo.Name(m.Format)} {path}: max |Δ| {err} against the scalar path; not timing a wrong kernel.");
    }
}
