// The `inference` suite (issue 13 §4): GPT-2 124M shapes with random weights through the paged KV
// cache (IBatchedDecoder.ForwardPaged), the engine's model call.
// Rows, per thread count:
//   `<model> decode n=1 threads=T`     single-stream decode tokens/s (one token per call, growing context), f32
//   `<model> f16 decode n=1 threads=T` the same with the projections and head held as F16 (the model's F16 GGUF)
//   `<model> prefill pp512 threads=T`  prompt tokens/s of one 512-token prefill call (llama-bench's pp512)
//   `<model> decode n=16 threads=T`    aggregate tokens/s of 16 sequences decoded together, and its ratio to n=1
// Anchors, when the environment names them (nothing is installed by the bench; see Anchors/LlamaAnchors.cs):
//   LOOM_LLAMA_BENCH  path of llama.cpp's llama-bench (../shared/anchors/build-llamacpp.sh builds it)
//   LOOM_LLAMA_MODELS folder holding ggml-vocab-gpt-2.gguf (default ${TMPDIR:-/tmp}/anchors/llama.cpp/models)
//   LOOM_PEERS        ../shared/anchors/peers/run.sh, for LLamaSharp 0.30.0's decode
// The random model is written as F32 and F16 GGUF files (Anchors/BenchGguf.cs) that llama-bench (`-p 512` and
// `-n <tokens>`, `-t T`) and LLamaSharp read, so all three run the same weights; rows carry Loom ÷ anchor, and
// with --cpu-time every rate is CPU time.
// `--filter phases` instead times the parts of one 16-sequence decode step separately (where its time goes):
//   the four projections of all layers and the LM head as the GEMM the engine used to run (M = 16,
//   packing the weight per call) and as SkinnyMatMul (what it runs now), one row's matrix-vector
//   product for scale, paged attention of 16 rows, and per-row sampling over the vocabulary
//   (softmax sampling, log-softmax + entropy, top-p 0.9 with the partial selection vs a full sort).
// `--filter dispatch` instead times the worker pool's hand-off: one parallel call of an empty job (start and
//   join) back to back, and with 5 µs of serial work on the caller between calls (a decode step's layer norm or
//   residual add between two matrix-vector products), for the pool's default spin bound, for 0 (every hand-off
//   blocks and wakes through the kernel), and for the hand-off before 2026-12-02 (Anchors/EventWorkerPool.cs);
//   rows `pool dispatch ... threads=T` in µs per call.
// LOOM_DECODE_PROFILE=1 adds, after each decode case, a per-op profile of the same tokens (DecodeProfile.cs).
// `--filter tiny` runs a 2-layer 64-wide model instead, to check the suite end to end in seconds;
// `--steps N` sets the decoded tokens per case (default 128, as tg128).
using Loom.Bench.Anchors;
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models;
using Loom.Models.Formats.Gguf;
using Loom.Models.Gpt2;
using Loom.Models.Paged;

namespace Loom.Bench.Suites;

internal static class InferenceSuite
{
    public static void Run(BenchContext ctx)
    {
        bool tiny = ctx.Filter?.Contains("tiny", StringComparison.OrdinalIgnoreCase) == true;
        var config = tiny ? new Gpt2Config { Layers = 2, Embedding = 64, Heads = 4, VocabSize = 1000, MaxPositions = 1024 } : new Gpt2Config();
        string name = tiny ? "gpt2-tiny" : "gpt2-124M";
        int tokens = ctx.Steps ?? 128;
        if (ctx.Filter?.Contains("dispatch", StringComparison.OrdinalIgnoreCase) == true)
        {
            Dispatch(ctx);
            return;
        }
        if (ctx.Filter?.Contains("phases", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach (int threads in ctx.Threads) Phases(ctx, config, name, threads);
            return;
        }
        foreach (int threads in ctx.Threads)
        {
            using var model = new Gpt2Model(config, ModelOptions.Inference, ctx.Pool(threads));
            model.InitializeWeights(1);
            var decoder = (IBatchedDecoder)model;
            string? f32 = tiny ? null : BenchGguf.Export(model, name, GgufFileType.F32);
            var anchors = Anchors(ctx, f32, threads, tokens, prefill: true);
            double n1 = Decode(ctx, decoder, name, "", threads, 1, tokens, anchors.Tg, anchors.Sharp, "F32");
            Prefill(ctx, decoder, name, threads, 512, anchors.Pp);
            double n16 = Decode(ctx, decoder, name, "", threads, 16, Math.Max(8, tokens / 4), null, null, "");
            ctx.Rows.Add(new BenchRow($"{name} decode n=16 vs n=1 threads={threads}", "ratio", Math.Round(n16 / n1, 2), "x"));
            Console.WriteLine($"{name} threads={threads}: aggregate decode at 16 streams is {n16 / n1:F2}x one stream");
            if (tiny || BenchGguf.Export(model, name, GgufFileType.F16) is not { } f16) continue;
            // F16: the model's F16 GGUF as Loom opens it, projections and head held in half precision.
            using (var file = GgufFile.Open(f16))
            using (var half = GgufModels.Load(file, ModelOptions.Inference, ctx.Pool(threads)))
            {
                var a16 = Anchors(ctx, f16, threads, tokens, prefill: false);
                Decode(ctx, (IBatchedDecoder)half, name, " f16", threads, 1, tokens, a16.Tg, a16.Sharp, "F16");
            }
        }
    }

    private static (double? Tg, double? Pp, double? Sharp) Anchors(BenchContext ctx, string? gguf, int threads, int tokens, bool prefill)
    {
        if (gguf is null) return (null, null, null);
        var tg = LlamaAnchors.LlamaBench(gguf, threads, 0, tokens)?.On(ctx);
        var pp = prefill ? LlamaAnchors.LlamaBench(gguf, threads, 512, 0)?.On(ctx) : null;
        var sharp = LlamaAnchors.LlamaSharp(gguf, threads, 16, tokens)?.Decode.On(ctx);
        return (tg, pp, sharp);
    }

    private static double? Ratio(double tps, double? anchor) => anchor is double a && double.IsFinite(a) && a > 0 ? Math.Round(tps / a, 3) : null;

    // Room for `streams` sequences of `positions` each, in whole blocks of 16.
    private static KvBlockPool Pool(IBatchedDecoder model, int streams, int positions) =>
        new(model.KvShape, 16, (long)streams * ((positions + 15) / 16) * 16 * model.KvShape.FloatsPerPosition * sizeof(float));

    // Tokens/s of `streams` sequences decoding `tokens` tokens each after a 16-token prompt, one call per step.
    private static double Decode(BenchContext ctx, IBatchedDecoder model, string name, string type, int threads, int streams, int tokens, double? anchor, double? sharp, string anchorType)
    {
        string label = $"{name}{type} decode n={streams} threads={threads}";
        using var pool = Pool(model, streams, 16 + 8 + tokens);
        var seqs = Enumerable.Range(0, streams).Select(_ => new KvSequence(pool)).ToArray();
        var rng = new Random(3);
        var logits = new float[streams * model.VocabularySize];
        var prompt = Enumerable.Range(0, streams).Select(_ => Enumerable.Range(0, 16).Select(_ => rng.Next(model.VocabularySize)).ToArray()).ToArray();
        foreach (var s in seqs) s.TryReserve(16);
        model.Prefill(seqs, prompt, logits);
        var next = new int[streams];
        // Warm-up of 8 steps (JIT, caches), inside the pool's room: 16 + tokens positions plus these.
        for (int t = 0; t < 8; t++)
        {
            for (int i = 0; i < streams; i++) { next[i] = rng.Next(model.VocabularySize); seqs[i].TryReserve(seqs[i].Length + 1); }
            model.DecodeStep(seqs, next, logits);
        }
        double start = ctx.Now(threads);   // wall clock, or process CPU time ÷ threads with --cpu-time
        for (int t = 0; t < tokens; t++)
        {
            for (int i = 0; i < streams; i++) { next[i] = rng.Next(model.VocabularySize); seqs[i].TryReserve(seqs[i].Length + 1); }
            model.DecodeStep(seqs, next, logits);
        }
        double tps = streams * tokens / (ctx.Now(threads) - start);
        if (DecodeProfile.Requested)
        {
            // The same positions again: release, prefill, warm up, then profile as many steps as were timed.
            foreach (var s in seqs) s.Release();
            foreach (var s in seqs) s.TryReserve(16);
            model.Prefill(seqs, prompt, logits);
            void Step()
            {
                for (int i = 0; i < streams; i++) { next[i] = rng.Next(model.VocabularySize); seqs[i].TryReserve(seqs[i].Length + 1); }
                model.DecodeStep(seqs, next, logits);
            }
            for (int t = 0; t < 8; t++) Step();
            DecodeProfile.Run(ctx, label, threads, tokens, Step);
        }
        foreach (var s in seqs) s.Release();
        ctx.Rows.Add(new BenchRow(label, "tokens_per_s", Math.Round(tps, 1), "tokens/s") { Anchor = anchor is double x ? Math.Round(x, 1) : null, AnchorName = anchor is null ? null : $"llama.cpp tg{tokens} {anchorType} (same GGUF)", Ratio = Ratio(tps, anchor) });
        if (sharp is double sh)
            ctx.Rows.Add(new BenchRow(label + " vs LLamaSharp", "tokens_per_s", Math.Round(tps, 1), "tokens/s") { Anchor = Math.Round(sh, 1), AnchorName = $"LLamaSharp 0.30.0 decode {anchorType} (same GGUF)", Ratio = Ratio(tps, sh) });
        Console.WriteLine($"{label,-44} {tps,9:F1} tokens/s" + (anchor is double b ? $"  llama.cpp {b:F1} → {tps / b:F2}x" : "") + (sharp is double c ? $"  LLamaSharp {c:F1} → {tps / c:F2}x" : ""));
        return tps;
    }

    private struct EmptyJob : IParallelJob
    {
        public readonly void Execute(int threadIndex, int threadCount) { }
    }

    // µs per parallel call of an empty job on each hand-off (see the header), timed as batches of 200 calls.
    private static void Dispatch(BenchContext ctx)
    {
        const int calls = 200;
        long gapTicks = (long)(5e-6 * System.Diagnostics.Stopwatch.Frequency);
        static void Busy(long ticks)
        {
            long end = System.Diagnostics.Stopwatch.GetTimestamp() + ticks;
            while (System.Diagnostics.Stopwatch.GetTimestamp() < end) { }
        }
        foreach (int threads in ctx.Threads.Where(t => t >= 2))
        {
            foreach (long gap in new[] { 0L, gapTicks })
            {
                string how = gap == 0 ? "back-to-back" : "5us gap";
                double gapUs = gap * 1e6 / System.Diagnostics.Stopwatch.Frequency;
                using var before = new EventWorkerPool(threads);
                double anchor = ctx.Time(() => { for (int i = 0; i < calls; i++) { before.Run(new EmptyJob()); Busy(gap); } }, threads) / calls * 1e6 - gapUs;
                foreach (int spin in new[] { WorkerPool.DefaultSpinMicroseconds, 0 })
                {
                    using var pool = new WorkerPool(threads, spin);
                    double us = ctx.Time(() => { for (int i = 0; i < calls; i++) { pool.Run(new EmptyJob()); Busy(gap); } }, threads) / calls * 1e6 - gapUs;
                    string label = $"pool dispatch {how} spin={spin}us threads={threads}";
                    // Lower is better here, so the ratio is anchor ÷ Loom (how many times cheaper the new hand-off is).
                    ctx.Rows.Add(new BenchRow(label, "us_per_call", Math.Round(us, 3), "us")
                    {
                        Anchor = Math.Round(anchor, 3), AnchorName = "ManualResetEventSlim hand-off before 2026-12-02", Ratio = us > 0 ? Math.Round(anchor / us, 2) : null,
                    });
                    Console.WriteLine($"{label,-52} {us,8:F2} µs/call  (event hand-off before: {anchor:F2} µs)");
                }
            }
        }
    }

    private static void Prefill(BenchContext ctx, IBatchedDecoder model, string name, int threads, int length, double? anchor)
    {
        string label = $"{name} prefill pp{length} threads={threads}";
        length = Math.Min(length, model.ContextLength);
        using var pool = Pool(model, 1, length);
        var seq = new KvSequence(pool);
        var rng = new Random(4);
        var ids = Enumerable.Range(0, length).Select(_ => rng.Next(model.VocabularySize)).ToArray();
        var logits = new float[model.VocabularySize];
        double seconds = ctx.Time(() =>
        {
            seq.Release();
            seq.TryReserve(length);
            model.Prefill([seq], [ids], logits);
        }, threads);
        seq.Release();
        double tps = length / seconds;
        ctx.Rows.Add(new BenchRow(label, "tokens_per_s", Math.Round(tps, 1), "tokens/s") { Anchor = anchor is double x ? Math.Round(x, 1) : null, AnchorName = anchor is null ? null : $"llama.cpp pp{length} F32 (same GGUF)", Ratio = Ratio(tps, anchor) });
        Console.WriteLine($"{label,-40} {tps,9:F1} tokens/s" + (anchor is double b ? $"  llama.cpp {b:F1} → {tps / b:F2}x" : ""));
    }

    // Milliseconds per 16-row decode step spent in each part, measured part by part (see the header).
    private static void Phases(BenchContext ctx, Gpt2Config config, string name, int threads)
    {
        const int M = 16;
        var pool = ctx.Pool(threads);
        int C = config.Embedding, V = config.VocabSize, L = config.Layers;
        var rng = new Random(1);
        float[] Rand(long n) { var a = new float[n]; for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f; return a; }
        (int In, int Out)[] shapes = [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)];
        var weights = shapes.Select(s => Rand((long)s.In * s.Out)).ToArray();
        var biases = shapes.Select(s => Rand(s.Out)).ToArray();
        var x = Rand((long)M * 4 * C);
        var y = new float[M * 4 * C];
        var head = Rand((long)V * C);
        var logits = new float[(long)M * V];
        void Row(string part, string how, double seconds)
        {
            ctx.Rows.Add(new BenchRow($"{name} decode n=16 phase {part} {how} threads={threads}", "ms_per_step", Math.Round(seconds * 1000, 3), "ms"));
            Console.WriteLine($"{name} 16-row step, {part,-22} {how,-26} {seconds * 1000,9:F3} ms");
        }
        double Layers(Action<int> one) => ctx.Time(() => { for (int l = 0; l < L; l++) for (int i = 0; i < shapes.Length; i++) one(i); }, threads);
        Row("projections x layers", "GEMM (before)", Layers(i => Conv1D.Forward(x.AsSpan(0, M * shapes[i].In), weights[i], biases[i], y.AsSpan(0, M * shapes[i].Out), M, shapes[i].In, shapes[i].Out, false, pool)));
        Row("projections x layers", "SkinnyMatMul (now)", Layers(i => SkinnyMatMul.ColumnsPanel(x.AsSpan(0, M * shapes[i].In), weights[i], biases[i], y.AsSpan(0, M * shapes[i].Out), M, shapes[i].In, shapes[i].Out, false, pool)));
        Row("projections x layers", "one row (MatVec)", Layers(i => MatVec.ColumnsAxpy(x.AsSpan(0, shapes[i].In), weights[i], biases[i], y.AsSpan(0, shapes[i].Out), pool)));
        Row("LM head", "GEMM (before)", ctx.Time(() => Linear.Forward(x.AsSpan(0, M * C), head, default, logits, M, C, V, pool), threads));
        Row("LM head", "SkinnyMatMul (now)", ctx.Time(() => SkinnyMatMul.RowsDot(x.AsSpan(0, M * C), head, default, logits, M, C, V, false, pool), threads));
        Row("LM head", "one row (MatVec)", ctx.Time(() => MatVec.RowsDot(head, x.AsSpan(0, C), logits.AsSpan(0, V), pool), threads));
        // Paged attention: 16 sequences at 80 cached positions, every layer.
        var shape = new KvCacheShape(L, config.Heads, C / config.Heads);
        using var kv = new KvBlockPool(shape, 16, (long)M * 96 * shape.FloatsPerPosition * sizeof(float));
        var seqs = Enumerable.Range(0, M).Select(_ => { var q = new KvSequence(kv); q.TryReserve(81); return q; }).ToList();
        foreach (var q in seqs) q.Length = 80;
        var rows = new PagedRows();
        rows.Build(seqs, new int[M], Enumerable.Repeat(1, M).ToArray(), 1024, V, kv);
        var qkv = Rand((long)M * 3 * C);
        var att = new float[M * C];
        Row("attention x layers", "paged, span 81", ctx.Time(() => { for (int l = 0; l < L; l++) PagedAttention.Attend(kv, rows, l, qkv, 3 * C, config.Heads, att, 0.125f, pool); }, threads));
        // Sampling, per step = 16 rows, on the engine's one thread.
        var peaked = Rand(V);
        for (int i = 0; i < V; i++) peaked[i] *= 200;   // a trained model's spread of logits, not random weights' near-flat one
        var plain = new Loom.Inference.Generation.Sampler(new Loom.Inference.Generation.SamplingOptions { Temperature = 1f, Seed = 1 });
        var nucleus = new Loom.Inference.Generation.Sampler(new Loom.Inference.Generation.SamplingOptions { Temperature = 1f, TopP = 0.9f, Seed = 1 });
        var logprobs = new float[V];
        Row("sampling", "temperature 1", ctx.Time(() => { for (int r = 0; r < M; r++) plain.Next(peaked, default, default); }));
        Row("sampling", "log-softmax (scores)", ctx.Time(() => { for (int r = 0; r < M; r++) Loom.Inference.Generation.Sampler.LogSoftmax(peaked, logprobs); }));
        Row("sampling", "top-p 0.9 (selection)", ctx.Time(() => { for (int r = 0; r < M; r++) nucleus.Next(peaked, default, default); }));
        var keys = new float[V];
        var order = new int[V];
        Row("sampling", "top-p sort (before)", ctx.Time(() =>
        {
            for (int r = 0; r < M; r++)
            {
                for (int i = 0; i < V; i++) { keys[i] = -peaked[i]; order[i] = i; }
                Array.Sort(keys, order, 0, V);
            }
        }));
        foreach (var q in seqs) q.Release();
    }
}
