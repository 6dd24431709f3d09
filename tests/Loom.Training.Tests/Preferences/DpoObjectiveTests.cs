// DpoObjective end to end through a tiny GPT-2 against PyTorch autograd (Fixtures/make_objective_fixtures.py):
// the loss, TRL's reward statistics and the gradient of every trainable tensor, with the reference a
// frozen copy of other weights (full fine-tuning) or the base under a disabled LoRA adapter.
using System.Globalization;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Training.Preferences;

namespace Loom.Training.Tests.Preferences;

public class DpoObjectiveTests
{
    [Fact]
    public void FullFineTuningLossStatisticsAndEveryGradientArePyTorchs()
    {
        using var file = ObjectiveFixture.Open();
        using var policy = ObjectiveFixture.Build(file, "w.");
        using var reference = ObjectiveFixture.Build(file, "r.", ModelOptions.Inference);
        Assert.Equal(0, reference.Parameters.TrainableCount);   // the frozen reference allocates no gradients
        float beta = float.Parse(file.Metadata["beta"], CultureInfo.InvariantCulture);
        using var dpo = new DpoObjective(policy, reference, beta);
        int[] ids = file.ReadInt32("dpo.ids"), labels = file.ReadInt32("dpo.labels");
        int T = 8, B = ids.Length / T;
        policy.Parameters.ZeroGradients();
        float loss = dpo.Forward(ids, labels, B, T);
        dpo.Backward();
        Assert.Equal(file.ReadSingle("dpo_full.loss")[0], loss, 1e-5f);
        var stats = dpo.Statistics().Select(kv => (float)kv.Value).ToArray();
        Assert.Equal(["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"], dpo.Statistics().Select(kv => kv.Key));
        ObjectiveFixture.AssertClose(file.ReadSingle("dpo_full.stats"), stats, 1e-5, 1e-4, "stats");
        foreach (var (spec, i) in policy.Parameters.Specs.Select((s, i) => (s, i)))
            ObjectiveFixture.AssertClose(file.ReadSingle("dpo_full.g." + spec.Name), policy.Parameters.Gradient(i), 2e-6, 2e-3, spec.Name);
    }

    [Fact]
    public void LoraPolicyUsesItsBaseWithTheAdapterDisabledAsReference()
    {
        using var file = ObjectiveFixture.Open();
        var lora = ObjectiveFixture.Lora(file);
        using var policy = ObjectiveFixture.Build(file, "w.", LoraAdapters.CreateModelOptions(lora, Loom.Models.Gpt2.Gpt2Config.Parse(file.Metadata["config"])));
        float beta = float.Parse(file.Metadata["beta"], CultureInfo.InvariantCulture);
        using var dpo = new DpoObjective(policy, reference: null, beta);   // no second copy of the weights
        int[] ids = file.ReadInt32("dpo.ids"), labels = file.ReadInt32("dpo.labels");
        int T = 8, B = ids.Length / T;
        policy.Parameters.ZeroGradients();
        float loss = dpo.Forward(ids, labels, B, T);
        dpo.Backward();
        Assert.Equal(file.ReadSingle("dpo_lora.loss")[0], loss, 1e-5f);
        ObjectiveFixture.AssertClose(file.ReadSingle("dpo_lora.stats"), dpo.Statistics().Select(kv => (float)kv.Value).ToArray(), 1e-5, 1e-4, "stats");
        int trained = 0;
        foreach (var (spec, i) in policy.Parameters.Specs.Select((s, i) => (s, i)))
        {
            if (!policy.Parameters.IsTrainable(i)) continue;
            trained++;
            ObjectiveFixture.AssertClose(file.ReadSingle("dpo_lora.g." + spec.Name), policy.Parameters.Gradient(i), 2e-6, 2e-3, spec.Name);
        }
        Assert.Equal(4, trained);   // A and B of c_attn in two layers, nothing else
        Assert.True(LoraAdapters.Runtime(policy.Parameters)!.Enabled);   // the adapter is back on after the reference pass
    }

    [Fact]
    public void WithoutAReferenceOrALoraPolicyTheErrorSaysWhatToGive()
    {
        using var file = ObjectiveFixture.Open();
        using var policy = ObjectiveFixture.Build(file, "w.");
        var e = Assert.Throws<ArgumentException>(() => new DpoObjective(policy, null, 0.1f));
        Assert.Contains("lora:", e.Message);
        Assert.Contains("dpo.beta", Assert.Throws<ArgumentException>(() => new DpoObjective(policy, policy, 0f)).Message);
    }
}
