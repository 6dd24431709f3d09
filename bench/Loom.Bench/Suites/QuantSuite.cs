// The `quant` suite (issue 15 §1, §6): GPT-2 124M shapes with random weights, decoded one token per
// call through the paged KV cache (the engine's model call) with the projection weights in f32 and
// quantized in memory to q8_0, q4_0, q4_k, q6_k and nf4 (embeddings, norms, biases and the tied head
// stay f32, as llama.cpp keeps them). Each quantized model is first checked against its
// dequantized-f32 twin on one forward (max |Δlogit| printed) before it is timed.
// Rows: `gpt2-124M <type> decode n=1 threads=T` tokens/s, and `gpt2-124M <type> weights` MB of
// projection weights. Anchor: LOOM_LLAMA_BENCH (llama.cpp's llama-bench) with
// LOOM_LLAMA_MODELS/gpt2-124M-random-<TYPE>.gguf (TYPE = Q8_0, Q4_0, Q4_K_M, Q6_K; made with
// llama-quantize from the F32 file); rows then carry Loom ÷ llama.cpp tg.
// `--filter tiny` runs a 2-layer 256-wide model to check the suite in seconds; `--steps N` sets the
// decoded tokens (default 128, as tg128).
using System.Diagnostics;
using System.Text.Json;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Models.Paged;
using Loom.Models.Quantization;

namespace Loom.Bench.Suites;

internal static class QuantSuite
{
    private static readonly (string Name, QuantFormat? Format, string LlamaType)[] Types =
    [
        ("f32", null, "F32"), ("q8_0", QuantFormat.Q8_0, "Q8_0"), ("q4_0", QuantFormat.Q4_0, "Q4_0"),
        ("q4_k", QuantFormat.Q4_K, "Q4_K_M"), ("q6_k", QuantFormat.Q6_K, "Q6_K"), ("nf4", QuantFormat.NF4, ""),
    ];

    public static void Run(BenchContext ctx)
    {
        bool tiny = ctx.Filter?.Contains("tiny", StringComparison.OrdinalIgnoreCase) == true;
        var config = tiny ? new Gpt2Config { Layers = 2, Embedding = 256, Heads = 4, VocabSize = 1000, MaxPositions = 1024 } : new Gpt2Config();
        string name = tiny ? "gpt2-tiny" : "gpt2-124M";
        int tokens = ctx.Steps ?? 128;
        var threadCounts = ctx.Threads;
        foreach (int threads in threadCounts)
        {
            using var f32 = new Gpt2Model(config, ModelOptions.Inference, ctx.Pool(threads));
            f32.InitializeWeights(1);
            foreach (var (type, format, llamaType) in Types)
            {
                if (ctx.Filter is { } f && !tiny && !type.Equals(f, StringComparison.OrdinalIgnoreCase) && f != "all") continue;
                using var q = format is QuantFormat fmt ? QuantizedModels.CreateFrom(f32, fmt, ModelOptions.Inference, pool: ctx.Pool(threads)) : null;
                var model = (IBatchedDecoder)(q ?? f32);
                if (q != null) Check(f32, q, (QuantFormat)format!, name, type);
                double? anchor = llamaType.Length == 0 ? null : LlamaBench(threads, tokens, llamaType);
                string label = $"{name} {type} decode n=1 threads={threads}";
                double tps = Decode(ctx, model, tokens, threads);
                ctx.Rows.Add(new BenchRow(label, "tokens_per_s", Math.Round(tps, 1), "tokens/s")
                {
                    Anchor = anchor, AnchorName = anchor is null ? null : $"llama.cpp tg {llamaType}", Ratio = anchor is double a ? Math.Round(tps / a, 3) : null,
                });
                long bytes = WeightBytes(q ?? f32, format);
                ctx.Rows.Add(new BenchRow($"{name} {type} weights", "projection_bytes", Math.Round(bytes / 1e6, 1), "MB"));
                Console.WriteLine($"{label,-44} {tps,8:F1} tokens/s  projection weights {bytes / 1e6,7:F1} MB" + (anchor is double b ? $"  llama.cpp {b:F1} → {tps / b:F2}x" : ""));
            }
        }
    }

    // Projection weight bytes: blocks for quantized ones, 4 bytes per weight for f32.
    private static long WeightBytes(ICausalLanguageModel model, QuantFormat? format)
    {
        var selected = QuantizedModels.Selectable(model.Configuration, format ?? QuantFormat.Q8_0, false);
        return selected.Values.Sum(s => format is QuantFormat f ? QuantFormatInfo.RowBytes(f, s.InFeatures) * s.OutFeatures : 4L * s.InFeatures * s.OutFeatures);
    }

    // The quantized model against the f32 model with dequantized weights: they must agree before timing.
    private static void Check(ICausalLanguageModel f32, ICausalLanguageModel q, QuantFormat format, string name, string type)
    {
        int[] ids = [1, 2, 3, 4];
        q.Forward(ids, default, 1, ids.Length);
        var a = q.Logits.ToArray();
        var p = q.Parameters;
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
        double err = 0, max = 0;
        for (int i = 0; i < a.Length; i++) { err = Math.Max(err, Math.Abs(a[i] - b[i])); max = Math.Max(max, Math.Abs(b[i])); }
        Console.WriteLine($"{name} {type}: max |Δlogit| vs dequantized f32 {err:G3} (max |logit| {max:G3})");
        if (err > 0.05 * max) throw new InvalidOperationException($"{name} {type}: quantized logits differ from the dequantized model's by {err} (max {max}); not timing a wrong kernel.");
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
    private static double Decode(BenchContext ctx, IBatchedDecoder model, int tokens, int threads)
    {
        using var pool = new KvBlockPool(model.KvShape, 16, (long)((16 + 4 + tokens + 15) / 16) * 16 * model.KvShape.FloatsPerPosition * sizeof(float));
        var seq = new KvSequence(pool);
        var rng = new Random(3);
        var logits = new float[model.VocabularySize];
        var prompt = Enumerable.Range(0, 16).Select(_ => rng.Next(model.VocabularySize)).ToArray();
        seq.TryReserve(16);
        model.Prefill([seq], [prompt], logits);
        var next = new int[1];
        // Warm-up of 4 tokens (JIT, caches), then the timed run.
        for (int t = 0; t < 4; t++) { next[0] = rng.Next(model.VocabularySize); seq.TryReserve(seq.Length + 1); model.DecodeStep([seq], next, logits); }
        double start = ctx.Now(threads);   // wall clock, or process CPU time ÷ threads with --cpu-time
        for (int t = 0; t < tokens; t++)
        {
            next[0] = rng.Next(model.VocabularySize);
            seq.TryReserve(seq.Length + 1);
            model.DecodeStep([seq], next, logits);
        }
        double tps = tokens / (ctx.Now(threads) - start);
        seq.Release();
        return tps;
    }

    // llama-bench's tg<tokens> rate on gpt2-124M-random-<type>.gguf, or null when not configured.
    private static double? LlamaBench(int threads, int tokens, string type)
    {
        string? bench = Environment.GetEnvironmentVariable("LOOM_LLAMA_BENCH");
        if (string.IsNullOrEmpty(bench) || !File.Exists(bench)) return null;
        string models = Environment.GetEnvironmentVariable("LOOM_LLAMA_MODELS") ?? Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") ?? "/tmp", "anchors", "llama.cpp", "models");
        string gguf = Path.Combine(models, $"gpt2-124M-random-{type}.gguf");
        if (!File.Exists(gguf)) { Console.WriteLine($"llama.cpp anchor: {gguf} not found; row without ratio."); return null; }
        var psi = new ProcessStartInfo(bench, ["-m", gguf, "-p", "0", "-n", tokens.ToString(), "-t", threads.ToString(), "-r", "1", "-o", "json"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        foreach (var row in JsonDocument.Parse(json).RootElement.EnumerateArray())
            if (row.GetProperty("n_gen").GetInt32() > 0) return row.GetProperty("avg_ts").GetDouble();
        return null;
    }
}
