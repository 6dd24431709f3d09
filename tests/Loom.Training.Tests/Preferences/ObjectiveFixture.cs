// Opens Fixtures/objectives.safetensors (made by make_objective_fixtures.py with PyTorch autograd) and
// builds its tiny GPT-2s: the policy/student "w.*", the reference "r.*", the teacher "t.*", and the
// policy with LoRA on c_attn ("lora.*").
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Formats;
using Loom.Models.Gpt2;

namespace Loom.Training.Tests.Preferences;

internal static class ObjectiveFixture
{
    public static SafetensorsFile Open() => SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "objectives.safetensors"));

    /// <summary>A GPT-2 of the fixture's config ("config" or "teacher_config") with weights "<paramref name="prefix"/>name".</summary>
    public static Gpt2Model Build(SafetensorsFile file, string prefix, ModelOptions? options = null, string config = "config")
    {
        var model = new Gpt2Model(Gpt2Config.Parse(file.Metadata[config]), options ?? ModelOptions.Default);
        foreach (var (spec, i) in model.Parameters.Specs.Select((s, i) => (s, i)))
            file.ReadSingle((spec.Name.Contains(".lora_", StringComparison.Ordinal) ? "lora." : prefix) + spec.Name, model.Parameters.Value(i), spec.Shape);
        return model;
    }

    /// <summary>The LoRA options the fixture used: r and lora_alpha from its metadata, on c_attn.</summary>
    public static LoraOptions Lora(SafetensorsFile file) => new()
    {
        Rank = int.Parse(file.Metadata["r"]), Alpha = float.Parse(file.Metadata["lora_alpha"], System.Globalization.CultureInfo.InvariantCulture),
        TargetModules = ["c_attn"],
    };

    public static void AssertClose(float[] want, ReadOnlySpan<float> got, double atol, double rtol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.Length; i++)
        {
            double excess = Math.Abs(want[i] - got[i]) - (atol + rtol * Math.Abs(want[i]));
            if (excess > worst) { worst = excess; at = i; }
        }
        Assert.True(at < 0, at < 0 ? "" : $"{what}[{at}]: PyTorch {want[at]}, Loom {got[at]}");
    }
}
