// `loom finetune` with task: sft | dpo | distill (issue 14 §2-5) end to end on a tiny GPT-2 pre-trained by
// `loom train`: SFT through LoRA writes a PEFT adapter that generate, serve and the engine apply the same
// way, and resumes bit-identically; full SFT writes a model directory; DPO logs TRL's reward statistics;
// distillation refuses a teacher of another vocabulary; bad data names file:line and the fix.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Serving.Hosting;

namespace Loom.Cli.Tests.Commands;

public class FinetuneGenerativeTests
{
    // One pre-trained base per test class run: 4 steps of `loom train` on a repeated sentence.
    private static readonly Lazy<(string Dir, string Base)> Shared = new(() =>
    {
        string dir = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(dir, "text.txt"), string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        File.WriteAllText(Path.Combine(dir, "base.yaml"), $$"""
            output: {{dir}}/base
            data: [{{dir}}/text.txt]
            tokenizer: gpt2
            model: {n_positions: 64, n_embd: 32, n_layer: 1, n_head: 2}
            train: {batch_size: 2, sequence_length: 16, max_steps: 4, warmup_steps: 1, learning_rate: 0.01, eval_every: 4, eval_batches: 1}
            """);
        var (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "base.yaml"));
        Assert.True(code == 0, console);
        using (var w = new StreamWriter(Path.Combine(dir, "sft.jsonl")))
        {
            for (int i = 0; i < 10; i++)
                w.WriteLine(new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"What is {i} plus {i}?" }, new JsonObject { ["role"] = "assistant", ["content"] = $"It is {2 * i}." }) }.ToJsonString());
            w.WriteLine("""{"instruction": "Say hi", "input": "", "output": "hi"}""");
        }
        using (var w = new StreamWriter(Path.Combine(dir, "dpo.jsonl")))
            for (int i = 0; i < 8; i++)
                w.WriteLine(new JsonObject { ["prompt"] = $"What is {i} plus {i}?", ["chosen"] = $"It is {2 * i}.", ["rejected"] = "I will not say." }.ToJsonString());
        return (dir, Path.Combine(dir, "base"));
    });

    private static string Config(string name, string body)
    {
        string path = Path.Combine(Shared.Value.Dir, name + ".yaml");
        File.WriteAllText(path, body);
        return path;
    }

    private static (int Code, string Console) Finetune(string config, params string[] more)
    {
        var (code, output, console) = CliRunner.Run(["finetune", "--config", config, .. more]);
        Assert.DoesNotContain("   at ", console);
        return (code, console + output);
    }

    private static string Loss(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetRawText();

    [Fact]
    public async Task SftThroughLoraWritesAnAdapterThatGenerateAndServeApplyAndResumesBitIdentically()
    {
        var (dir, baseDir) = Shared.Value;
        string run = Path.Combine(dir, "sft-lora");
        string config = Config("sft-lora", $$"""
            task: sft
            output: {{run}}
            init_from: {{baseDir}}
            data: {train: {{dir}}/sft.jsonl, validation_fraction: 0.2}
            lora: {r: 4, lora_alpha: 8, target_modules: [c_attn]}
            train: {batch_size: 2, max_length: 48, max_steps: 4, eval_every: 2, learning_rate: 0.01}
            """);
        var (code, console) = Finetune(config);
        Assert.True(code == 0, console);
        Assert.Contains("\"task\": \"sft\"", console);                    // the full config is printed
        Assert.Contains("validation loss on assistant tokens", console);
        string adapter = Path.Combine(run, "adapter");
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(3, lines.Count(l => l.Contains("\"eval\"")));        // steps 0, 2 and 4

        // generate --adapter and serve --adapter (the engine behind it) give the same greedy text.
        var (gcode, generated, gconsole) = CliRunner.Run("generate", "--model", baseDir, "--adapter", adapter, "--prompt", "It was", "--max-new-tokens", "6");
        Assert.True(gcode == 0, gconsole);
        await using (var server = LoomServer.Create(new ServerOptions { ModelDirectory = baseDir, AdapterDirectory = adapter, Port = 0 }))
        {
            var served = await server.Engine.GenerateAsync(new GenerationRequest("It was", new SamplingOptions { MaxNewTokens = 6 }));
            Assert.Equal(generated.TrimEnd('\n', '\r'), served.Text);
        }

        // Resuming from the step-2 checkpoint replays steps 3 and 4 with the same losses, bit for bit.
        var straight = lines.Where(l => l.Contains("\"train\"")).ToArray();
        (code, console) = Finetune(config, "--resume", Path.Combine(run, "checkpoints", "step_000002"));
        Assert.True(code == 0, console);
        var resumed = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        Assert.Equal(straight.Select(Loss), resumed.Select(Loss));
    }

    [Fact]
    public void SftReadsTheLoraSectionsDoubleQuantSettingAsTrainDoes()
    {
        // lora.base_double_quant without base_quantization: nf4 is refused by loom train; loom finetune
        // once passed only the base format on and ran without a word, ignoring the setting.
        var (dir, baseDir) = Shared.Value;
        string config = Config("sft-dq", $$"""
            task: sft
            output: {{Path.Combine(dir, "sft-dq")}}
            init_from: {{baseDir}}
            data: {train: {{dir}}/sft.jsonl, validation_fraction: 0.2}
            lora: {r: 4, lora_alpha: 8, target_modules: [c_attn], base_double_quant: true}
            train: {batch_size: 2, max_length: 48, max_steps: 1}
            """);
        var (code, console) = Finetune(config);
        Assert.Equal(1, code);
        Assert.Contains("lora.base_double_quant", console);
    }

    [Fact]
    public void PackedSftScoresValidationAsUnpackedAndResumesBitIdentically()
    {
        // sft.packing: the step-0 validation loss (same model, same held-out conversations) equals the unpacked
        // run's — packing changes the batch layout, never the loss — and a resumed packed run replays its losses.
        var (dir, baseDir) = Shared.Value;
        string Body(string run, bool packing) => $$"""
            task: sft
            output: {{Path.Combine(dir, run)}}
            init_from: {{baseDir}}
            sft: {packing: {{(packing ? "true" : "false")}}}
            data: {train: {{dir}}/sft.jsonl, validation_fraction: 0.3}
            train: {batch_size: 2, max_length: 48, max_steps: 4, eval_every: 2, learning_rate: 0.01}
            """;
        var (code, console) = Finetune(Config("sft-unpacked", Body("sft-unpacked", false)));
        Assert.True(code == 0, console);
        string packedConfig = Config("sft-packed", Body("sft-packed", true));
        (code, console) = Finetune(packedConfig);
        Assert.True(code == 0, console);
        Assert.Contains("packed into", console);
        Assert.Contains("\"packing\": true", console);
        double Step0(string run) => (double)File.ReadAllLines(Path.Combine(dir, run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).First(l => (string?)l["type"] == "eval")["val_loss"]!;
        Assert.Equal(Step0("sft-unpacked"), Step0("sft-packed"), 4);

        var straight = File.ReadAllLines(Path.Combine(dir, "sft-packed", "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        (code, console) = Finetune(packedConfig, "--resume", Path.Combine(dir, "sft-packed", "checkpoints", "step_000002"));
        Assert.True(code == 0, console);
        var resumed = File.ReadAllLines(Path.Combine(dir, "sft-packed", "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        Assert.Equal(straight.Select(Loss), resumed.Select(Loss));
    }

    [Fact]
    public void FullSftWritesAModelAndDpoOnItLogsRewardsMarginsAndAccuracy()
    {
        var (dir, baseDir) = Shared.Value;
        string sft = Path.Combine(dir, "sft-full");
        var (code, console) = Finetune(Config("sft-full", $$"""
            task: sft
            output: {{sft}}
            init_from: {{baseDir}}
            data: {train: {{dir}}/sft.jsonl}
            train: {batch_size: 4, max_length: 48, epochs: 1, learning_rate: 0.01}
            """));
        Assert.True(code == 0, console);
        string model = Path.Combine(sft, "model");
        Assert.True(File.Exists(Path.Combine(model, "model.safetensors")) && File.Exists(Path.Combine(model, "tokenizer.json")));
        var (gcode, _, gconsole) = CliRunner.Run("generate", "--model", model, "--prompt", "What is", "--max-new-tokens", "3");
        Assert.True(gcode == 0, gconsole);

        string dpo = Path.Combine(dir, "dpo");
        (code, console) = Finetune(Config("dpo", $$"""
            task: dpo
            output: {{dpo}}
            init_from: {{model}}
            dpo: {beta: 0.1}
            data: {train: {{dir}}/dpo.jsonl, validation_fraction: 0.25}
            lora: {r: 4, lora_alpha: 8, target_modules: [c_attn, c_fc]}
            train: {batch_size: 2, max_length: 48, epochs: 1, learning_rate: 0.01}
            """));
        Assert.True(code == 0, console);
        var lines = File.ReadAllLines(Path.Combine(dpo, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var first = lines.First(l => (string?)l["type"] == "train");
        // Step 1: the policy is its reference (the base under the adapter), so the loss is log 2 and every reward 0.
        Assert.Equal(Math.Log(2), (double)first["loss"]!, 5);
        Assert.Equal(0.0, (double)first["rewards/margins"]!, 6);
        foreach (var key in new[] { "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies" })
            Assert.All(lines.Where(l => (string?)l["type"] == "train"), l => Assert.NotNull(l[key]));
        Assert.NotNull(lines.Last()["val_rewards/accuracies"]);
        Assert.True(File.Exists(Path.Combine(dpo, "adapter", "adapter_model.safetensors")));
        // report.html charts TRL's statistics from metrics.jsonl: rewards (chosen, rejected, margins) and accuracy.
        string report = File.ReadAllText(Path.Combine(dpo, "report.html"));
        Assert.Contains("Preference rewards (DPO)", report);
        foreach (var key in new[] { "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies" }) Assert.Contains(key, report);
        Assert.True(System.Text.RegularExpressions.Regex.Matches(report, "<svg").Count >= 4, "loss, rewards, accuracy and learning-rate charts");
    }

    [Fact]
    public void CachedDistillationRunsTheTeacherOnceAndReusesItsCache()
    {
        var (dir, baseDir) = Shared.Value;
        string cache = Path.Combine(dir, "kd-cache");
        string Body(string run) => $$"""
            task: distill
            output: {{Path.Combine(dir, run)}}
            model: {n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2}
            tokenizer: gpt2
            distill: {teacher: {{baseDir}}, teacher_cache: {{cache}}, top_k: 8, alpha: 0.5, temperature: 2.0}
            data: {train: {{dir}}/text.txt, validation_fraction: 0.2}
            train: {batch_size: 2, max_length: 16, max_steps: 2, eval_every: 2, eval_batches: 1}
            """;
        var (code, console) = Finetune(Config("kd-1", Body("kd-1")));
        Assert.True(code == 0, console);
        Assert.Contains("teacher pass:", console);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(cache, "teacher_cache.json")))!;
        Assert.Equal(8, (int)manifest["top_k"]!);
        Assert.NotNull(JsonNode.Parse(File.ReadAllLines(Path.Combine(dir, "kd-1", "metrics.jsonl")).First(l => l.Contains("\"train\"")))!["ce"]);
        (code, console) = Finetune(Config("kd-2", Body("kd-2")));
        Assert.True(code == 0, console);
        Assert.DoesNotContain("teacher pass:", console);
        Assert.Contains("teacher cache", console);
        (code, console) = Finetune(Config("kd-3", Body("kd-3")), "--set", "distill.top_k=4");
        Assert.Equal(1, code);
        Assert.Contains("distill.top_k is 4", console.Replace("\n", ""));
    }

    // §5 for dpo and distill (sft: the two tests above): the full config printed, metrics.jsonl and report.html
    // written, and a run resumed from its step-2 checkpoint replays steps 3 and 4 with the same losses, bit for
    // bit — the data position (a teacher cache's shuffled chunks too), optimizer and RNG all restored.
    [Theory]
    [InlineData("dpo")]
    [InlineData("distill")]
    [InlineData("distill-cached")]
    public void DpoAndDistillationPrintTheirConfigWriteReportsAndResumeBitIdentically(string task)
    {
        var (dir, baseDir) = Shared.Value;
        string run = Path.Combine(dir, "resume-" + task);
        string body = task == "dpo"
            ? $$"""
                task: dpo
                output: {{run}}
                init_from: {{baseDir}}
                data: {train: {{dir}}/dpo.jsonl, validation_fraction: 0.25}
                train: {batch_size: 2, max_length: 48, max_steps: 4, eval_every: 2, learning_rate: 0.01}
                """
            : $$"""
                task: distill
                output: {{run}}
                model: {n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2}
                tokenizer: gpt2
                distill: {teacher: {{baseDir}}, alpha: 0.5, temperature: 2.0{{(task == "distill-cached" ? $", teacher_cache: {Path.Combine(dir, "resume-kd-cache")}, top_k: 8" : "")}}}
                data: {train: {{dir}}/text.txt, validation_fraction: 0.2}
                train: {batch_size: 2, max_length: 16, max_steps: 4, eval_every: 2, eval_batches: 1, learning_rate: 0.01}
                """;
        string config = Config("resume-" + task, body);
        var (code, console) = Finetune(config);
        Assert.True(code == 0, console);
        Assert.Contains($"\"task\": \"{task.Split('-')[0]}\"", console);   // the full config is printed
        Assert.True(File.Exists(Path.Combine(run, "finetune_config.json")));
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(3, lines.Count(l => l.Contains("\"eval\"")));        // steps 0, 2 and 4
        Assert.All(lines.Where(l => l.Contains("\"eval\"")), l => Assert.NotNull(JsonNode.Parse(l)!["train_cpu_s"]));
        var straight = lines.Where(l => l.Contains("\"train\"")).ToArray();
        Assert.Equal(4, straight.Length);
        (code, console) = Finetune(config, "--resume", Path.Combine(run, "checkpoints", "step_000002"));
        Assert.True(code == 0, console);
        var resumed = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Where(l => l.Contains("\"train\"")).ToArray();
        Assert.Equal(straight.Select(Loss), resumed.Select(Loss));
    }

    [Fact]
    public void BadDataAndMismatchedModelsAreNamedWithTheFix()
    {
        var (dir, baseDir) = Shared.Value;
        string bad = Path.Combine(dir, "no-answer.jsonl");
        File.WriteAllText(bad, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n");
        var (code, console) = Finetune(Config("bad-sft", $"task: sft\noutput: {dir}/bad1\ninit_from: {baseDir}\ndata: {{train: {bad}}}\ntrain: {{max_length: 32}}\n"));
        Assert.Equal(1, code);
        Assert.Contains($"{bad}:2: the conversation has no assistant turn", console.Replace("\n", ""));

        string emptyChosen = Path.Combine(dir, "empty-chosen.jsonl");
        File.WriteAllText(emptyChosen, "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n{\"prompt\": \"a\", \"chosen\": \"\", \"rejected\": \"c\"}\n");
        (code, console) = Finetune(Config("bad-dpo", $"task: dpo\noutput: {dir}/bad2\ninit_from: {baseDir}\ndata: {{train: {emptyChosen}}}\n"));
        Assert.Equal(1, code);
        Assert.Contains($"{emptyChosen}:2: \"chosen\" is empty", console.Replace("\n", ""));

        // A student whose vocabulary is not the teacher's.
        (code, console) = Finetune(Config("bad-distill", $$"""
            task: distill
            output: {{dir}}/bad3
            model: {n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2, vocab_size: 50304}
            tokenizer: gpt2
            distill: {teacher: {{baseDir}}}
            data: {train: {{dir}}/text.txt}
            train: {max_length: 16, max_steps: 1}
            """));
        Assert.Equal(1, code);
        Assert.Contains("same tokenizer and vocab_size", console.Replace("\n", ""));
        Assert.Contains(Path.Combine(baseDir, "config.json") + ": the teacher's vocab_size is", console.Replace("\n", ""));
        Assert.False(Directory.Exists(Path.Combine(dir, "bad3", "checkpoints")));

        // An adapter for a model of another shape: serve refuses it at start, naming the adapter's tensor.
        string other = Path.Combine(dir, "other");
        Directory.CreateDirectory(other);
        using (var m = new Loom.Models.Gpt2.Gpt2Model(new Loom.Models.Gpt2.Gpt2Config { VocabSize = 50257, MaxPositions = 64, Embedding = 16, Layers = 1, Heads = 2 },
                   Loom.Models.Adapters.LoraAdapters.CreateModelOptions(new Loom.Models.Adapters.LoraOptions { Rank = 2, TargetModules = ["c_attn"] }, new Loom.Models.Gpt2.Gpt2Config { VocabSize = 50257, MaxPositions = 64, Embedding = 16, Layers = 1, Heads = 2 })))
            Loom.Models.Adapters.LoraAdapters.Save(m.Parameters, m.Config, new Loom.Models.Adapters.LoraOptions { Rank = 2, TargetModules = ["c_attn"] }, other);
        var (scode, _, sconsole) = CliRunner.Run("serve", "--model", baseDir, "--adapter", other, "--port", "0");
        Assert.Equal(1, scode);
        Assert.Contains("adapter_model.safetensors", sconsole);
        Assert.Contains("another size", sconsole.Replace("\n", ""));
        Assert.DoesNotContain("   at ", sconsole);
    }
}
