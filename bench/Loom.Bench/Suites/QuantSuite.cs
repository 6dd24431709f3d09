// The `quant` suite (issue 15 §1, §6): GPT-2 124M shapes with random weights, decoded one token per call through
// the paged KV cache (the engine's model call), with the weights in f32, f16, q8_0, q4_0, q4_k, q6_k and nf4.
//
// Same file, same work as the anchors: when llama.cpp's GPT-2 vocabulary is at LOOM_LLAMA_MODELS (the anchors'
// models folder), the random model is written as a GGUF of each type (BenchGguf: llama-quantize's tensor types,
// so e.g. q4_0's output.weight is Q6_K) and Loom decodes that file — projections and the head held in the file's
// type, as llama.cpp holds them — while llama-bench (LOOM_LLAMA_BENCH, tg<steps>) and LLamaSharp (LOOM_PEERS)
// decode the very same file at the same thread count. Without the vocabulary (or for nf4, which GGUF has no type
// for, and for `--filter tiny`) the projections are quantized in memory and the tied head stays f32.
// Each Loom model is first checked against the same weights dequantized to f32 (max |Δlogit| printed) before
// it is timed. With --cpu-time every rate — Loom's and both anchors' — is CPU time (see LlamaAnchors).
// Rows: `gpt2-124M <type> decode n=1 threads=T` tokens/s (anchor llama.cpp tg), the same value against LLamaSharp
// (`... vs LLamaSharp`), and `gpt2-124M <type> weights` MB of weights the decode reads per token.
// `--filter` picks types (comma-separated, e.g. `q8_0,q4_0`); `--filter tiny` runs a 2-layer 256-wide model to
// check the suite in seconds; `--steps N` sets the decoded tokens (default 128, as tg128). LOOM_DECODE_PROFILE=1
// adds a per-op profile of each type's decode (DecodeProfile.cs). `--filter decode-matvec[:f32-rows,q8_0,...]` times a
// decode step's matrix-vector products alone, per shape (DecodeMatVecBench.cs).
using System.Diagnostics;
using Loom.Bench.Anchors;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Formats.Gguf;
using Loom.Models.Gpt2;
using Loom.Models.Paged;
using Loom.Models.Quantization;

namespace Loom.Bench.Suites;

internal static class QuantSuite
{
    private static readonly (string Name, QuantFormat? Format, GgufFileType? Gguf)[] Types =
    [
        ("f32", null, GgufFileType.F32), ("f16", QuantFormat.F16, GgufFileType.F16), ("q8_0", QuantFormat.Q8_0, GgufFileType.Q8_0),
        ("q4_0", QuantFormat.Q4_0, GgufFileType.Q4_0), ("q4_k", QuantFormat.Q4_K, GgufFileType.Q4_K), ("q6_k", QuantFormat.Q6_K, GgufFileType.Q6_K),
        ("nf4", QuantFormat.NF4, null),
    ];

    public static void Run(BenchContext ctx)
    {
        bool tiny = ctx.Filter?.Contains("tiny", StringComparison.OrdinalIgnoreCase) == true;
        var config = tiny ? new Gpt2Config { Layers = 2, Embedding = 256, Heads = 4, VocabSize = 1000, MaxPositions = 1024 } : new Gpt2Config();
        string name = tiny ? "gpt2-tiny" : "gpt2-124M";
        int tokens = ctx.Steps ?? 128;
        var wanted = tiny || ctx.Filter is null or "all" ? null : ctx.Filter.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ctx.Filter?.StartsWith("decode-matvec", StringComparison.OrdinalIgnoreCase) == true) { DecodeMatVecBench.Run(ctx); return; }
        if (ctx.Filter?.StartsWith("matvec", StringComparison.OrdinalIgnoreCase) == true) { MatVec(ctx); return; }
        Console.WriteLine($"quantized kernel path {QuantKernelPaths.Best}; llama-bench {LlamaAnchors.LlamaBenchPath ?? "(LOOM_LLAMA_BENCH not set)"}; LLamaSharp {LlamaAnchors.PeersPath ?? "(LOOM_PEERS not set)"}");
        foreach (int threads in ctx.Threads)
        {
            using var f32 = new Gpt2Model(config, ModelOptions.Inference, ctx.Pool(threads));
            f32.InitializeWeights(1);
            foreach (var (type, format, ggufType) in Types)
            {
                if (wanted != null && !wanted.Contains(type, StringComparer.OrdinalIgnoreCase)) continue;
                string? gguf = !tiny && ggufType is GgufFileType t ? BenchGguf.Export(f32, name, t) : null;
                ICausalLanguageModel? owned = null;
                if (gguf != null)
                {
                    using var file = GgufFile.Open(gguf);
                    owned = GgufModels.Load(file, ModelOptions.Inference, ctx.Pool(threads));
                    using var reference = GgufModels.Load(file, ModelOptions.Inference, ctx.Pool(threads), keepQuantized: false);
                    Check(owned, reference, name, type, TiedHeadDiffers(file));
                }
                else if (format is QuantFormat fmt)
                {
                    owned = QuantizedModels.CreateFrom(f32, fmt, ModelOptions.Inference, pool: ctx.Pool(threads));
                    CheckInMemory(f32, owned, fmt, name, type);
                }
                using var _ = owned;
                var model = (IBatchedDecoder)(owned ?? f32);
                string label = $"{name} {type} decode n=1 threads={threads}";
                var llama = gguf is null ? null : LlamaAnchors.LlamaBench(gguf, threads, 0, tokens)?.On(ctx);
                var sharp = gguf is null ? null : LlamaAnchors.LlamaSharp(gguf, threads, 16, tokens)?.Decode.On(ctx);
                double tps = Decode(ctx, model, tokens, threads, label);
                string kernel = format is QuantFormat kf ? QuantKernelPaths.BestFor(kf).ToString() : "f32";
                ctx.Rows.Add(new BenchRow(label, "tokens_per_s", Math.Round(tps, 1), "tokens/s")
                {
                    Anchor = Round(llama), AnchorName = llama is null ? null : $"llama.cpp llama-bench tg{tokens} (same GGUF)", Ratio = Ratio(tps, llama), Kernel = kernel,
                });
                if (sharp is double s)
                    ctx.Rows.Add(new BenchRow(label + " vs LLamaSharp", "tokens_per_s", Math.Round(tps, 1), "tokens/s")
                    {
                        Anchor = Round(s), AnchorName = "LLamaSharp 0.30.0 decode (same GGUF)", Ratio = Ratio(tps, s), Kernel = kernel,
                    });
                long bytes = WeightBytes(owned ?? f32, format, gguf);
                ctx.Rows.Add(new BenchRow($"{name} {type} weights", "decode_weight_bytes", Math.Round(bytes / 1e6, 1), "MB"));
                Console.WriteLine($"{label,-44} {tps,8:F1} tokens/s  weights read {bytes / 1e6,7:F1} MB"
                    + (llama is double b ? $"  llama.cpp {b:F1} → {tps / b:F2}x" : "")
                    + (sharp is double c ? $"  LLamaSharp {c:F1} → {tps / c:F2}x" : "")
                    + (gguf is null ? "  (in-memory quantization, f32 head)" : ""));
            }
        }
    }

    // `--filter matvec`: one (out × 768) matrix-vector product per call — GPT-2's head (50,257 rows) — in each format
    // and kernel path, as GB/s of weights read (1 thread); each path is first checked against the scalar one.
    private static void MatVec(BenchContext ctx)
    {
        const int rows = 50257, k = 768;
        var rng = new Random(5);
        var w = new float[(long)rows * k];
        for (long i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
        var x = new float[k];
        for (int i = 0; i < k; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        var y = new float[rows];
        var reference = new float[rows];
        var pool = ctx.Pool(1);
        foreach (var format in new[] { QuantFormat.Q8_0, QuantFormat.Q4_0, QuantFormat.Q4_K, QuantFormat.Q6_K, QuantFormat.F16 })
        {
            using var m = QuantizedMatrix.Quantize(format, w, rows, k, pool);
            m.Path = QuantKernelPath.Scalar;
            m.Multiply(x, reference, 1, pool: pool);
            foreach (var path in Enum.GetValues<QuantKernelPath>())
            {
                if (!QuantKernelPaths.IsSupported(path)) continue;
                m.Path = path;
                m.Multiply(x, y, 1, pool: pool);
                double err = 0;
                for (int i = 0; i < rows; i++) err = Math.Max(err, Math.Abs(y[i] - reference[i]));
                double seconds = ctx.Time(() => m.Multiply(x, y, 1, pool: pool));
                double gbs = m.ByteLength / seconds / 1e9;
                string label = $"head {rows}x{k} {QuantFormatInfo.Name(format)} matvec threads=1";
                ctx.Rows.Add(new BenchRow(label, "weights_gb_per_s", Math.Round(gbs, 2), "GB/s") { Kernel = path.ToString() });
                Console.WriteLine($"{label,-44} {path,-7} {gbs,7:F2} GB/s  {seconds * 1e3,7:F2} ms  max |Δ| vs scalar {err:G2}");
                if (InterleavedBlocks.Applies(format) && path is QuantKernelPath.Vnni or QuantKernelPath.Avx512)
                {
                    // The same product with the per-row kernels on ggml's layout (what these formats ran before the
                    // 16-row interleaved groups), timed right after in the same run: the before/after under one load.
                    var ggml = m.Blocks.ToArray();
                    PerRow(format, ggml, rows, k, x, y, path);
                    double perRowErr = 0;
                    for (int i = 0; i < rows; i++) perRowErr = Math.Max(perRowErr, Math.Abs(y[i] - reference[i]));
                    double perRow = ctx.Time(() => PerRow(format, ggml, rows, k, x, y, path));
                    double perRowGbs = m.ByteLength / perRow / 1e9;
                    ctx.Rows.Add(new BenchRow(label + " per-row ggml layout", "weights_gb_per_s", Math.Round(perRowGbs, 2), "GB/s") { Kernel = path.ToString() });
                    Console.WriteLine($"{label + " per-row ggml",-44} {path,-7} {perRowGbs,7:F2} GB/s  {perRow * 1e3,7:F2} ms  max |Δ| vs scalar {perRowErr:G2}");
                }
            }
        }
    }

    // One matrix-vector product of ggml-layout Q8_0/Q4_0 rows with QuantizedDot's per-row kernels (activations
    // quantized once, as QuantizedMatrix.Multiply does).
    private static unsafe void PerRow(QuantFormat format, byte[] ggml, int rows, int k, float[] x, float[] y, QuantKernelPath path)
    {
        long rowBytes = QuantFormatInfo.RowBytes(format, k);
        byte* s = stackalloc byte[(int)Q8Row.ScratchBytes(k) + 64];
        var row = Q8Row.At((byte*)(((nint)s + 63) & ~(nint)63), k);
        fixed (byte* w = ggml)
        fixed (float* px = x, py = y)
        {
            Q8Row.Quantize32(px, k, row);
            for (int o = 0; o < rows; o++)
                py[o] = format == QuantFormat.Q8_0 ? QuantizedDot.Q8_0(w + o * rowBytes, row, k / 32, path) : QuantizedDot.Q4_0(w + o * rowBytes, row, k / 32, path);
        }
    }

    private static double? Round(double? v) => v is double d && double.IsFinite(d) ? Math.Round(d, 1) : null;

    private static double? Ratio(double tps, double? anchor) => anchor is double a && double.IsFinite(a) && a > 0 ? Math.Round(tps / a, 3) : null;

    // Bytes of the matrices a decode step reads: the projections and the head (the tied head is the f32 embedding
    // unless a GGUF file's output.weight is held), in their held format; embedding rows read per token are not counted.
    private static long WeightBytes(ICausalLanguageModel model, QuantFormat? format, string? gguf)
    {
        if (gguf != null)
        {
            using var file = GgufFile.Open(gguf);
            return file.Tensors.Where(t => t.Dimensions.Length == 2 && (t.Name.StartsWith("blk.", StringComparison.Ordinal) || t.Name == "output.weight")).Sum(t => t.ByteCount);
        }
        var config = (Gpt2Config)model.Configuration;
        var selected = QuantizedModels.Selectable(config, format ?? QuantFormat.Q8_0, false);
        return 4L * config.VocabSize * config.Embedding
            + selected.Values.Sum(s => format is QuantFormat f ? QuantFormatInfo.RowBytes(f, s.InFeatures) * s.OutFeatures : 4L * s.InFeatures * s.OutFeatures);
    }

    // A GGUF file whose output.weight has another type than token_embd (llama-quantize's Q6_K head for 4-bit files):
    // the dequantized reference's tied head reads token_embd, the held model's reads output.weight.
    private static bool TiedHeadDiffers(GgufFile file) => file.Find("output.weight") is { } o && file.Find("token_embd.weight") is { } e && o.Type != e.Type;

    // The model holding the file's types against the same file decoded to f32.
    private static void Check(ICausalLanguageModel held, ICausalLanguageModel reference, string name, string type, bool headDiffers)
    {
        int[] ids = [1, 2, 3, 4];
        held.Forward(ids, default, 1, ids.Length);
        var a = held.Logits.ToArray();
        reference.Forward(ids, default, 1, ids.Length);
        var b = reference.Logits.ToArray();
        Compare(a, b, name, type, headDiffers ? 0.25 : 0.05, headDiffers ? " (output.weight's type differs from token_embd's)" : "");
    }

    private static void Compare(float[] a, float[] b, string name, string type, double tolerance, string note)
    {
        double err = 0, max = 0;
        for (int i = 0; i < a.Length; i++) { err = Math.Max(err, Math.Abs(a[i] - b[i])); max = Math.Max(max, Math.Abs(b[i])); }
        Console.WriteLine($"{name} {type}: max |Δlogit| vs dequantized f32 {err:G3} (max |logit| {max:G3}){note}");
        if (err > tolerance * max) throw new InvalidOperationException($"{name} {type}: logits differ from the dequantized model's by {err} (max {max}); not timing a wrong kernel.");
    }

    // The in-memory quantized model against the f32 model with dequantized weights.
    private static void CheckInMemory(ICausalLanguageModel f32, ICausalLanguageModel q, QuantFormat format, string name, string type)
    {
        int[] ids = [1, 2, 3, 4];
        q.Forward(ids, default, 1, ids.Length);
        var a = q.Logits.ToArray();
        var saved = new Dictionary<int, float[]>();
        foreach (var (wname, spec) in QuantizedModels.Selectable(f32.Configuration, format, false))
        {
            int i = f32.Parameters.IndexOf(wname);
            var v = f32.Parameters.Value(i);
            saved[i] = v.ToArray();
            var w = BlockQuantizer.Dequantize(format, BlockQuantizer.Quantize(format, Transposed(spec, v)), v.Length);
            for (int o = 0; o < spec.OutFeatures; o++)
                for (int k = 0; k < spec.InFeatures; k++) v[k * spec.OutFeatures + o] = w[o * spec.InFeatures + k];
        }
        f32.Forward(ids, default, 1, ids.Length);
        var b = f32.Logits.ToArray();
        foreach (var (i, v) in saved) v.CopyTo(f32.Parameters.Value(i));
        Compare(a, b, name, type, 0.05, "");
    }

    // GPT-2's Conv1D weight (in, out) as (out, in) rows.
    private static float[] Transposed(Loom.Models.Projections.ProjectionSpec spec, ReadOnlySpan<float> v)
    {
        var t = new float[v.Length];
        for (int k = 0; k < spec.InFeatures; k++)
            for (int o = 0; o < spec.OutFeatures; o++) t[o * spec.InFeatures + k] = v[k * spec.OutFeatures + o];
        return t;
    }

    // Tokens/s of one sequence decoding `tokens` tokens after a 16-token prompt, one call per token.
    private static double Decode(BenchContext ctx, IBatchedDecoder model, int tokens, int threads, string label)
    {
        using var pool = new KvBlockPool(model.KvShape, 16, (long)((16 + 16 + tokens + 15) / 16) * 16 * model.KvShape.FloatsPerPosition * sizeof(float));
        var seq = new KvSequence(pool);
        var rng = new Random(3);
        var logits = new float[model.VocabularySize];
        var prompt = Enumerable.Range(0, 16).Select(_ => rng.Next(model.VocabularySize)).ToArray();
        seq.TryReserve(16);
        model.Prefill([seq], [prompt], logits);
        var next = new int[1];
        // Warm-up of 16 tokens (tiered JIT's background recompiles would otherwise count in the CPU time), then the timed run.
        for (int t = 0; t < 16; t++) { next[0] = rng.Next(model.VocabularySize); seq.TryReserve(seq.Length + 1); model.DecodeStep([seq], next, logits); }
        double start = ctx.Now(threads);   // wall clock, or process CPU time ÷ threads with --cpu-time
        for (int t = 0; t < tokens; t++)
        {
            next[0] = rng.Next(model.VocabularySize);
            seq.TryReserve(seq.Length + 1);
            model.DecodeStep([seq], next, logits);
        }
        double tps = tokens / (ctx.Now(threads) - start);
        if (DecodeProfile.Requested)
        {
            // The same positions again (DecodeProfile.cs): release, prefill, warm up, then profile the timed number of tokens.
            seq.Release();
            seq.TryReserve(16);
            model.Prefill([seq], [prompt], logits);
            void Step()
            {
                next[0] = rng.Next(model.VocabularySize);
                seq.TryReserve(seq.Length + 1);
                model.DecodeStep([seq], next, logits);
            }
            for (int t = 0; t < 16; t++) Step();
            DecodeProfile.Run(ctx, label, threads, tokens, Step);
        }
        seq.Release();
        return tps;
    }
}
