// `loom quantize` and the commands that open its output: generate reads a quantized directory through
// the same loader as any model; q8_0 keeps a tiny trained GPT-2's greedy continuation; bad --type is a
// one-line error naming the accepted types; `loom train` with lora.base_quantization: nf4 (QLoRA)
// trains an adapter whose loss tracks LoRA's on the f32 base.
using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class QuantizeCommandTests
{
    private static string Yaml(string output, string data, string extra) => $"""
        output: {output}
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 32, n_embd: 64, n_layer: 1, n_head: 2{"}"}
        train:
          batch_size: 2
          sequence_length: 32
          max_steps: 12
          warmup_steps: 1
          learning_rate: 0.01
          eval_every: 12
          eval_batches: 1
          checkpoint_every: 12
        {extra}
        """;

    private static (string Dir, string Data, string Base) TrainBase()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        string baseRun = Path.Combine(dir, "base");
        File.WriteAllText(Path.Combine(dir, "base.yaml"), Yaml(baseRun, data, ""));
        var (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "base.yaml"));
        Assert.True(code == 0, console);
        return (dir, data, baseRun);
    }

    [Fact]
    public void QuantizedModelsGenerateAndQ8KeepsTheGreedyContinuation()
    {
        var (dir, _, baseRun) = TrainBase();
        string[] gen = ["--prompt", "It was the", "--max-new-tokens", "8", "--temperature", "0"];
        var f32 = CliRunner.Run(["generate", "--model", baseRun, .. gen]);
        Assert.True(f32.Code == 0, f32.Console);
        foreach (var type in new[] { "q8_0", "nf4", "q4_0" })
        {
            string q = Path.Combine(dir, type);
            var (code, _, console) = CliRunner.Run("quantize", "--model", baseRun, "--type", type, "--output", q);
            Assert.True(code == 0, console);
            Assert.Contains($"in {type}", console);
            var g = CliRunner.Run(["generate", "--model", q, .. gen]);
            Assert.True(g.Code == 0, g.Console);
            Assert.NotEmpty(g.Output.Trim());
            if (type == "q8_0") Assert.Equal(f32.Output, g.Output);
        }
    }

    [Fact]
    public void AnUnknownTypeIsOneLineNamingTheTypes()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("quantize", "--model", dir, "--type", "q5_k", "--output", Path.Combine(dir, "out"));
        Assert.Equal(1, code);
        Assert.Contains("--type \"q5_k\" is not known; use one of q8_0, q4_0, q4_k, q6_k, nf4", console);
    }

    [Fact]
    public void QloraTrainsAnAdapterOnAnNf4BaseWithALossCloseToLoras()
    {
        var (dir, data, baseRun) = TrainBase();
        string lora = Path.Combine(dir, "lora"), qlora = Path.Combine(dir, "qlora");
        const string section = "init_from: {0}\nlora:\n  r: 4\n  lora_alpha: 8\n  target_modules: [c_attn, c_fc]\n";
        File.WriteAllText(Path.Combine(dir, "lora.yaml"), Yaml(lora, data, string.Format(section, baseRun)));
        File.WriteAllText(Path.Combine(dir, "qlora.yaml"), Yaml(qlora, data, string.Format(section, baseRun) + "  base_quantization: nf4\n"));
        var a = CliRunner.Run("train", "--config", Path.Combine(dir, "lora.yaml"));
        Assert.True(a.Code == 0, a.Console);
        var b = CliRunner.Run("train", "--config", Path.Combine(dir, "qlora.yaml"));
        Assert.True(b.Code == 0, b.Console);
        Assert.Contains("QLoRA", b.Console);
        Assert.True(File.Exists(Path.Combine(qlora, "adapter_model.safetensors")));
        double LastLoss(string run) => File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Where(l => l.Contains("\"train\""))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).Last();
        double la = LastLoss(lora), lb = LastLoss(qlora);
        // NF4 perturbs the base; on this 64-wide model the adapter's final loss stays within 10% of LoRA's.
        Assert.True(Math.Abs(la - lb) <= 0.1 * la, $"LoRA final loss {la}, QLoRA {lb}");
        var bad = CliRunner.Run("train", "--config", Path.Combine(dir, "qlora.yaml"), "--set", "lora.base_quantization=int3", "--overwrite");
        Assert.Equal(1, bad.Code);
        Assert.Contains("lora.base_quantization \"int3\" is not known", bad.Console);
    }
}
