// The `lora` suite (issue 14 §1): GPT-2 124M training steps at B=4, T=256, full fine-tuning against
// LoRA r=8 on the attention input projection (c_attn, PEFT's GPT-2 default) and on all linear layers
// (PEFT's all-linear: everything but lm_head). Rows per case: s_per_step, tokens_per_s, native_bytes
// (parameters, gradients, AdamW moments, activations: everything planned), trainable_params, and for
// the LoRA cases adapter_bytes (adapter_model.safetensors as written in PEFT's layout).
using Loom.Core.Tensors;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;

namespace Loom.Bench.Suites;

internal static class LoraSuite
{
    public static void Run(BenchContext ctx)
    {
        const int b = 4, t = 256;
        int steps = ctx.Steps ?? 3;
        var config = new Gpt2Config();
        var cases = new (string Name, LoraOptions? Lora)[]
        {
            ("full", null),
            ("lora r=8 c_attn", new LoraOptions { Rank = 8, Alpha = 16, TargetModules = ["c_attn"] }),
            ("lora r=8 all-linear", new LoraOptions { Rank = 8, Alpha = 16, TargetModules = [LoraOptions.AllLinear] }),
        };
        foreach (var (label, lora) in cases)
            foreach (int threads in ctx.Threads)
            {
                string name = $"gpt2-124M B={b} T={t} threads={threads} {label}";
                if (!ctx.Selected(name)) continue;
                var pool = ctx.Pool(threads);
                var options = lora is null ? ModelOptions.Default : LoraAdapters.CreateModelOptions(lora, config);
                using var model = new Gpt2Model(config, options, pool);
                model.InitializeWeights(1);
                if (lora != null) LoraAdapters.InitializeAdapter(model.Parameters, 2);
                using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions(), pool);
                var rng = new Random(1);
                var ids = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                var targets = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                void Step()
                {
                    model.Parameters.ZeroGradients();
                    model.Forward(ids, targets, b, t);
                    model.Backward();
                    GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
                    opt.Update(6e-4f);
                }
                Step();   // warm-up and plan
                var times = new List<double>();
                for (int s = 0; s < steps; s++)
                {
                    double start = ctx.Now(threads);
                    Step();
                    times.Add(ctx.Now(threads) - start);
                }
                times.Sort();
                double sec = times[times.Count / 2];
                long native = NativeBuffer.LiveBytes;
                ctx.Rows.Add(new BenchRow(name, "s_per_step", Math.Round(sec, 3), "s"));
                ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(b * t / sec, 1), "tokens/s"));
                ctx.Rows.Add(new BenchRow(name, "native_bytes", native, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "trainable_params", model.Parameters.TrainableCount, "parameters"));
                string extra = "";
                if (lora != null)
                {
                    string dir = Directory.CreateTempSubdirectory("loom-bench-lora-").FullName;
                    try
                    {
                        LoraAdapters.Save(model.Parameters, config, lora, dir);
                        long bytes = new FileInfo(Path.Combine(dir, LoraAdapters.WeightsFileName)).Length;
                        ctx.Rows.Add(new BenchRow(name, "adapter_bytes", bytes, "bytes"));
                        extra = $"  adapter {bytes / 1e6:F2} MB";
                    }
                    finally { Directory.Delete(dir, recursive: true); }
                }
                Console.WriteLine($"{name,-48} {sec,7:F3} s/step  {b * t / sec,8:F1} tokens/s  native {native / 1e6:F0} MB  trainable {model.Parameters.TrainableCount / 1e6:F2}M{extra}");
            }
    }
}
