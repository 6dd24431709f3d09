// `loom generate --adapter` and `loom adapter merge` on a tiny GPT-2 with a LoRA adapter Loom wrote in
// PEFT's layout: the merged directory generates what base + adapter generates, and bad adapters are
// one-line errors naming the file and the fix.
using System.Text.Json.Nodes;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Gpt2;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands;

public class AdapterCommandsTests
{
    private static (string Model, string Adapter) MakeModelAndAdapter()
    {
        string dir = CliRunner.TempDir(), model = Path.Combine(dir, "model"), adapter = Path.Combine(dir, "adapter");
        Directory.CreateDirectory(model);
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 50))],
            new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(model, "tokenizer.json"), bpe.Merges);
        var config = new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 };
        using (var plain = new Gpt2Model(config))
        {
            plain.InitializeWeights(4);
            plain.Save(model);
        }
        var lora = new LoraOptions { Rank = 2, Alpha = 16, TargetModules = ["c_attn", "c_fc"] };
        using var m = new Gpt2Model(config, LoraAdapters.CreateModelOptions(lora, config));
        LoraAdapters.LoadBaseWeights(m.Parameters, config, Path.Combine(model, "model.safetensors"));
        // A trained-looking adapter: B non-zero, large enough to change greedy choices.
        var rng = new Random(9);
        for (int i = 0; i < m.Parameters.Specs.Count; i++)
            if (m.Parameters.Specs[i].Name.Contains(".lora_", StringComparison.Ordinal))
            {
                var v = m.Parameters.Value(i);
                for (int k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() * 2 - 1);
            }
        LoraAdapters.Save(m.Parameters, config, lora, adapter);
        return (model, adapter);
    }

    [Fact]
    public void GenerateWithAnAdapterEqualsGenerateOnTheMergedModel()
    {
        var (model, adapter) = MakeModelAndAdapter();
        string merged = Path.Combine(Path.GetDirectoryName(model)!, "merged");
        var (code, _, console) = CliRunner.Run("adapter", "merge", "--model", model, "--adapter", adapter, "--output", merged);
        Assert.True(code == 0, console);
        Assert.Contains("merged", console);
        Assert.True(File.Exists(Path.Combine(merged, "tokenizer.json")));

        string[] args = ["--prompt", "to be", "--max-new-tokens", "16", "--temperature", "0"];
        var withAdapter = CliRunner.Run(["generate", "--model", model, "--adapter", adapter, .. args]);
        var onMerged = CliRunner.Run(["generate", "--model", merged, .. args]);
        var onBase = CliRunner.Run(["generate", "--model", model, .. args]);
        Assert.True(withAdapter.Code == 0, withAdapter.Console);
        Assert.Equal(withAdapter.Output, onMerged.Output);
        Assert.NotEqual(onBase.Output, withAdapter.Output);

        // The merged weights give the adapted logits to 1e-5.
        using var a = LoraAdapters.LoadCausalLanguageModel(model, adapter);
        using var b = CausalLanguageModels.Load(merged, ModelOptions.Inference);
        int[] ids = [1, 5, 9, 3, 7, 2];
        a.Forward(ids, default, 1, ids.Length);
        b.Forward(ids, default, 1, ids.Length);
        var la = a.Logits.ToArray();
        var lb = b.Logits.ToArray();
        for (int i = 0; i < la.Length; i++) Assert.True(Math.Abs(la[i] - lb[i]) < 1e-5 * (1 + Math.Abs(la[i])), $"logit {i}: {la[i]} vs merged {lb[i]}");

        var again = CliRunner.Run("adapter", "merge", "--model", model, "--adapter", adapter, "--output", merged);
        Assert.Equal(1, again.Code);
        Assert.Contains("--output", again.Console);
    }

    [Fact]
    public void BadAdaptersAreOneLineErrorsNamingTheFileAndTheFix()
    {
        var (model, adapter) = MakeModelAndAdapter();
        string configPath = Path.Combine(adapter, LoraAdapterConfig.FileName);
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();

        // An adapter for a Llama: its target names match nothing in GPT-2.
        json["target_modules"] = new JsonArray("q_proj", "v_proj");
        File.WriteAllText(configPath, json.ToJsonString());
        foreach (var args in new[] { new[] { "generate", "--model", model, "--adapter", adapter, "--prompt", "to" }, ["adapter", "merge", "--model", model, "--adapter", adapter, "--output", Path.Combine(adapter, "..", "out")] })
        {
            var (code, _, console) = CliRunner.Run(args);
            Assert.Equal(1, code);
            Assert.Contains("adapter_config.json", console);
            Assert.Contains("q_proj", console);
            Assert.Contains("c_attn", console);
            Assert.DoesNotContain("   at ", console);
        }

        json["target_modules"] = new JsonArray("c_attn", "c_fc");
        json["r"] = 0;
        File.WriteAllText(configPath, json.ToJsonString());
        var bad = CliRunner.Run("generate", "--model", model, "--adapter", adapter, "--prompt", "to");
        Assert.Equal(1, bad.Code);
        Assert.Contains("r is 0", bad.Console);
        Assert.DoesNotContain("   at ", bad.Console);

        // The right names, tensors of another rank.
        json["r"] = 3;
        File.WriteAllText(configPath, json.ToJsonString());
        bad = CliRunner.Run("adapter", "merge", "--model", model, "--adapter", adapter, "--output", Path.Combine(adapter, "..", "out2"));
        Assert.Equal(1, bad.Code);
        Assert.Contains("adapter_model.safetensors", bad.Console);
        Assert.Contains("shape", bad.Console);
        Assert.DoesNotContain("   at ", bad.Console);

        var missing = CliRunner.Run("generate", "--model", model, "--adapter", Path.Combine(adapter, "nope"), "--prompt", "to");
        Assert.Equal(1, missing.Code);
        Assert.Contains("does not exist", missing.Console);
    }
}
