// `loom train` with a `lora:` section: the base model of init_from stays frozen, only the adapter
// trains, and the run writes PEFT's adapter files (not a model) that `generate --adapter` reads.
using Loom.Models.Formats;

namespace Loom.Cli.Tests.Commands;

public class TrainLoraTests
{
    private static string Yaml(string output, string data, string extra) => $"""
        output: {output}
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 16, n_embd: 32, n_layer: 1, n_head: 2{"}"}
        train:
          batch_size: 2
          sequence_length: 16
          max_steps: 4
          warmup_steps: 1
          learning_rate: 0.01
          eval_every: 4
          eval_batches: 1
          checkpoint_every: 2
        {extra}
        """;

    [Fact]
    public void ALoraRunTrainsOnlyTheAdapterAndWritesPeftFilesThatGenerateReads()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        string baseRun = Path.Combine(dir, "base"), loraRun = Path.Combine(dir, "lora");
        File.WriteAllText(Path.Combine(dir, "base.yaml"), Yaml(baseRun, data, ""));
        var (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "base.yaml"));
        Assert.True(code == 0, console);

        File.WriteAllText(Path.Combine(dir, "lora.yaml"), Yaml(loraRun, data, $"""
            init_from: {baseRun}
            lora:
              r: 4
              lora_alpha: 8
              lora_dropout: 0.1
              target_modules: [c_attn, c_fc]
            """));
        (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "lora.yaml"));
        Assert.True(code == 0, console);
        Assert.Contains("LoRA adapter", console);
        Assert.True(File.Exists(Path.Combine(loraRun, "adapter_config.json")));
        Assert.False(File.Exists(Path.Combine(loraRun, "model.safetensors")));
        using (var adapter = SafetensorsFile.Open(Path.Combine(loraRun, "adapter_model.safetensors")))
        {
            Assert.Equal(4, adapter.Tensors.Count);   // A and B of c_attn and c_fc, one layer
            var b = adapter.ReadSingle("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight");
            Assert.Contains(b, v => v != 0);        // B starts at zero; training moved it
        }
        var (gcode, output, gconsole) = CliRunner.Run("generate", "--model", baseRun, "--adapter", loraRun, "--prompt", "It was", "--max-new-tokens", "4");
        Assert.True(gcode == 0, gconsole);
        Assert.NotEmpty(output.Trim());

        // Resuming the LoRA run from its step-2 checkpoint gives the same losses.
        var straight = File.ReadAllLines(Path.Combine(loraRun, "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        File.Delete(Path.Combine(loraRun, "metrics.jsonl"));
        (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "lora.yaml"), "--resume", Path.Combine(loraRun, "checkpoints", "step_000002"));
        Assert.True(code == 0, console);
        var resumed = File.ReadAllLines(Path.Combine(loraRun, "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        Assert.Equal(straight[2..].Select(Loss), resumed.Select(Loss));
    }

    private static string Loss(string line) => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("loss").GetRawText();

    [Fact]
    public void BadLoraSettingsAreNamedAsWritten()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, "It was the best of times.\n");
        File.WriteAllText(Path.Combine(dir, "a.yaml"), Yaml(Path.Combine(dir, "run"), data, "lora:\n  r: 4\n  target_modules: [c_attn]"));
        var (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "a.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("init_from", console);
        File.WriteAllText(Path.Combine(dir, "b.yaml"), Yaml(Path.Combine(dir, "run"), data, $"init_from: {dir}\nlora:\n  r: 0\n  target_modules: [c_attn]"));
        (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "b.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("lora.r is 0", console);
        Assert.DoesNotContain("   at ", console);
    }
}
