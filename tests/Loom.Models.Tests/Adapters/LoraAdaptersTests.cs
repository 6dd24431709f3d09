// LoRA on every family through the projection seam, and PEFT's adapter files both ways: the
// fixtures in Fixtures/lora were written by make_lora_fixture.py (PEFT's layout and LoRA math in
// PyTorch, on the tiny GPT-2 and Llama of the model fixtures), with the logits, loss and adapter
// gradients PyTorch computes.
using System.Text.Json.Nodes;
using Loom.Models.Adapters;
using Loom.Models.Formats;

namespace Loom.Models.Tests.Adapters;

public sealed class LoraAdaptersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", "lora", .. parts]);

    private static object Config(string family)
    {
        using var f = new FixtureModel(family);
        return f.Configuration;
    }

    public static TheoryData<string, string, int> TargetsByFamily => new()
    {
        { "gpt2", "c_attn", 2 }, { "llama", "q_proj", 2 }, { "bert", "query", 2 },
        { "gpt2", "c_proj", 4 },   // attn.c_proj and mlp.c_proj, as PEFT's suffix match
    };

    [Theory]
    [MemberData(nameof(TargetsByFamily))]
    public void WithBZeroTheModelIsItsBaseAndOnlyTheAdapterHasGradients(string family, string target, int count)
    {
        var config = Config(family);
        var lora = new LoraOptions { Rank = 4, Alpha = 8, TargetModules = [target] };
        var options = LoraAdapters.CreateModelOptions(lora, config);
        using var adapted = new FixtureModel(family, options);
        using var plain = new FixtureModel(family);
        LoraAdapters.InitializeAdapter(adapted.Parameters, seed: 5);

        var targets = LoraAdapters.FindTargets(lora, config);
        Assert.Equal(count, targets.Count);
        Assert.All(targets, t => Assert.EndsWith("." + target, t.Path));
        var trainable = adapted.Parameters.Specs.Where(s => s.IsTrainable).Select(s => s.Name).ToHashSet();
        Assert.Equal(targets.SelectMany(t => new[] { t.AName, t.BName }).ToHashSet(), trainable);

        Assert.Equal(plain.ForwardBackward(), adapted.ForwardBackward());
        Assert.Equal(plain.Logits(), adapted.Logits());
        // With B = 0, dA = 0 and dB ≠ 0 (Hu et al. §4.1: only B moves on the first step).
        foreach (var t in targets)
        {
            Assert.All(adapted.Parameters.Gradient(adapted.Parameters.IndexOf(t.AName)).ToArray(), g => Assert.Equal(0f, g));
            Assert.Contains(adapted.Parameters.Gradient(adapted.Parameters.IndexOf(t.BName)).ToArray(), g => g != 0f);
            // PEFT's kaiming_uniform_(a=√5): |A| ≤ 1/√in, and not all zero.
            var a = adapted.Parameters.Value(adapted.Parameters.IndexOf(t.AName)).ToArray();
            Assert.All(a, v => Assert.True(Math.Abs(v) <= 1 / Math.Sqrt(t.Spec.InFeatures)));
            Assert.Contains(a, v => v != 0);
        }
    }

    [Theory]
    [InlineData("gpt2", new[] { "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj" })]
    [InlineData("llama", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("bert", new[] { "query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense", "pooler.dense", "transform.dense" })]
    public void AllLinearAdaptsEveryProjectionButTheOutputLayer(string family, string[] suffixes)
    {
        var config = Config(family);
        var targets = LoraAdapters.FindTargets(new LoraOptions { TargetModules = [LoraOptions.AllLinear] }, config);
        Assert.DoesNotContain(targets, t => t.Path is "lm_head" || t.Path.EndsWith("decoder", StringComparison.Ordinal));
        Assert.Equal(LoraAdapters.Projections(config).Count - 1, targets.Count);
        Assert.All(suffixes, s => Assert.Contains(targets, t => t.Path.EndsWith(s, StringComparison.Ordinal)));
    }

    [Fact]
    public void TargetNamesThatMatchNothingAreAnErrorListingTheModelsModules()
    {
        var config = Config("gpt2");
        var e = Assert.Throws<ArgumentException>(() => LoraAdapters.CreateModelOptions(new LoraOptions { TargetModules = ["q_proj", "v_proj"] }, config));
        Assert.Contains("q_proj", e.Message);
        Assert.Contains("c_attn", e.Message);
        Assert.Contains("c_fc", e.Message);
        e = Assert.Throws<ArgumentException>(() => LoraAdapters.CreateModelOptions(new LoraOptions { TargetModules = ["c_attn", "q_proj"] }, config));
        Assert.Contains("\"q_proj\"", e.Message);
        e = Assert.Throws<ArgumentException>(() => LoraAdapters.CreateModelOptions(new LoraOptions { Rank = 0, TargetModules = ["c_attn"] }, config));
        Assert.Contains("r is 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => LoraAdapters.CreateModelOptions(new LoraOptions { Alpha = float.NaN, TargetModules = ["c_attn"] }, config));
        Assert.Contains("lora_alpha", e.Message);
    }

    // ---- PEFT fixtures ----

    private static (FixtureModel Model, LoraOptions Lora) LoadFixtureAdapter(string family, ModelOptions? baseOptions = null)
    {
        var config = Config(family);
        var (options, lora) = LoraAdapters.Apply(baseOptions ?? ModelOptions.Default, config, Fixture(family));
        var model = new FixtureModel(family, options);
        LoraAdapters.LoadInto(model.Parameters, config, lora, Fixture(family));
        return (model, lora);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void APeftAdapterGivesPyTorchsLogitsLossAndAdapterGradients(string family)
    {
        var (model, lora) = LoadFixtureAdapter(family);
        using var _ = model;
        using var expected = SafetensorsFile.Open(Fixture(family + "_expected.safetensors"));
        Assert.Equal(expected.ReadInt32("ids"), model.Ids);
        float loss = model.Forward();
        Assert.Equal(expected.ReadSingle("loss")[0], loss, 1e-4f);
        var want = expected.ReadSingle("logits");
        var got = model.Logits();   // read before Backward, which turns them into their gradient
        model.ForwardBackward();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-4, $"logit {i}: {got[i]} vs PyTorch {want[i]}");
        var targets = LoraAdapters.FindTargets(lora, model.Configuration);
        foreach (var t in targets)
            foreach (var (name, peft) in new[] { (t.AName, "lora_A"), (t.BName, "lora_B") })
            {
                var g = expected.ReadSingle($"g.base_model.model.{t.PeftPath}.{peft}.weight");
                var mine = model.Parameters.Gradient(model.Parameters.IndexOf(name));
                for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i] - mine[i]) < 1e-4 + 1e-3 * Math.Abs(g[i]), $"{name}[{i}]: {mine[i]} vs PyTorch {g[i]}");
            }
        Assert.Equal(family == "gpt2" ? "transformer.h.0.attn.c_attn" : "model.layers.0.self_attn.q_proj", targets[0].PeftPath);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AnAdapterLoomWritesHasPeftsNamesShapesAndConfigAndReadsBack(string family)
    {
        var (model, lora) = LoadFixtureAdapter(family);
        using var _ = model;
        string written = Path.Combine(_dir, family);
        LoraAdapters.Save(model.Parameters, model.Configuration, lora, written);

        using (var mine = SafetensorsFile.Open(Path.Combine(written, LoraAdapters.WeightsFileName)))
        using (var theirs = SafetensorsFile.Open(Path.Combine(Fixture(family), LoraAdapters.WeightsFileName)))
        {
            Assert.Equal(theirs.Tensors.Keys.Order(), mine.Tensors.Keys.Order());
            foreach (var (name, e) in theirs.Tensors)
            {
                Assert.Equal(e.Shape, mine.Tensors[name].Shape);
                Assert.Equal(theirs.ReadSingle(name), mine.ReadSingle(name));
            }
        }
        var a = JsonNode.Parse(File.ReadAllText(Path.Combine(written, LoraAdapterConfig.FileName)))!.AsObject();
        var b = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture(family), LoraAdapterConfig.FileName)))!.AsObject();
        foreach (var key in new[] { "peft_type", "task_type", "base_model_name_or_path", "r", "lora_alpha", "lora_dropout", "fan_in_fan_out", "bias", "use_rslora", "modules_to_save" })
            Assert.True(JsonNode.DeepEquals(b[key], a[key]) || b[key] is JsonValue bv && a[key] is JsonValue av && bv.ToJsonString() == av.ToJsonString().Replace(".0", ""), $"{key}: {a[key]?.ToJsonString()} vs PEFT's {b[key]?.ToJsonString()}");
        Assert.Equal(b["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Order(), a["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Order());

        // Read back into a fresh model: the same logits.
        var config = model.Configuration;
        var (options, lora2) = LoraAdapters.Apply(ModelOptions.Inference, config, written);
        using var again = new FixtureModel(family, options);
        LoraAdapters.LoadInto(again.Parameters, config, lora2, written);
        model.Forward();
        again.Forward();
        Assert.Equal(model.Logits(), again.Logits());
    }

    [Fact]
    public void AnAdapterForAnotherArchitectureOrShapeIsAClearError()
    {
        var gpt2 = Config("gpt2");
        var e = Assert.Throws<InvalidDataException>(() => LoraAdapters.Apply(ModelOptions.Inference, gpt2, Fixture("llama")));
        Assert.Contains(LoraAdapterConfig.FileName, e.Message);
        Assert.Contains("q_proj", e.Message);
        Assert.Contains("c_attn", e.Message);

        // Same names, another rank in the config than in the tensors.
        string dir = Path.Combine(_dir, "wrong-r");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixture("gpt2"), LoraAdapters.WeightsFileName), Path.Combine(dir, LoraAdapters.WeightsFileName));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture("gpt2"), LoraAdapterConfig.FileName)))!.AsObject();
        json["r"] = 8;
        File.WriteAllText(Path.Combine(dir, LoraAdapterConfig.FileName), json.ToJsonString());
        var (options, lora) = LoraAdapters.Apply(ModelOptions.Inference, gpt2, dir);
        using var model = new FixtureModel("gpt2", options);
        var s = Assert.Throws<InvalidDataException>(() => LoraAdapters.LoadInto(model.Parameters, gpt2, lora, dir));
        Assert.Contains("lora_A.weight", s.Message);
        Assert.Contains("[4, 32]", s.Message);
        Assert.Contains("r = 8", s.Message);

        json["r"] = 0;
        File.WriteAllText(Path.Combine(dir, LoraAdapterConfig.FileName), json.ToJsonString());
        var z = Assert.Throws<InvalidDataException>(() => LoraAdapterConfig.Read(dir));
        Assert.Contains("r is 0", z.Message);
        json["r"] = 4;
        json["peft_type"] = "IA3";
        File.WriteAllText(Path.Combine(dir, LoraAdapterConfig.FileName), json.ToJsonString());
        Assert.Throws<NotSupportedException>(() => LoraAdapterConfig.Read(dir));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AMergedModelDirectoryGivesTheLogitsOfBasePlusAdapter(string family)
    {
        string baseDir = Path.Combine(_dir, "base"), merged = Path.Combine(_dir, "merged");
        using (var plain = new FixtureModel(family)) ((ICausalLanguageModel)plain.Model).Save(baseDir);
        File.WriteAllText(Path.Combine(baseDir, "tokenizer.json"), "{\"model\": {}}");
        LoraAdapters.Merge(baseDir, Fixture(family), merged);
        Assert.Equal(File.ReadAllText(Path.Combine(baseDir, "tokenizer.json")), File.ReadAllText(Path.Combine(merged, "tokenizer.json")));
        using (var b = SafetensorsFile.Open(Path.Combine(baseDir, "model.safetensors")))
        using (var m = SafetensorsFile.Open(Path.Combine(merged, "model.safetensors")))
        {
            Assert.Equal(b.Tensors.Keys.Order(), m.Tensors.Keys.Order());
            Assert.All(b.Tensors, e => Assert.Equal(e.Value.Shape, m.Tensors[e.Key].Shape));
        }

        using var model = CausalLanguageModels.Load(merged, ModelOptions.Inference);
        using var adapted = LoraAdapters.LoadCausalLanguageModel(baseDir, Fixture(family));
        using var expected = SafetensorsFile.Open(Fixture(family + "_expected.safetensors"));
        int[] ids = expected.ReadInt32("ids");
        const int batch = 2;   // both fixtures are B = 2, T = 8
        int time = ids.Length / batch;
        model.Forward(ids, default, batch, time);
        adapted.Forward(ids, default, batch, time);
        var want = adapted.Logits.ToArray();
        var got = model.Logits.ToArray();
        var torch = expected.ReadSingle("logits");
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - got[i]) < 1e-5 * (1 + Math.Abs(want[i])), $"logit {i}: merged {got[i]}, base+adapter {want[i]}");
            Assert.True(Math.Abs(torch[i] - got[i]) < 1e-4, $"logit {i}: merged {got[i]}, PyTorch {torch[i]}");
        }
        var again = Assert.Throws<IOException>(() => LoraAdapters.Merge(baseDir, Fixture(family), merged));
        Assert.Contains("--output", again.Message);
    }
}
