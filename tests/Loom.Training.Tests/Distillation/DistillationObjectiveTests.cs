// DistillationObjective end to end through a tiny GPT-2 student and a frozen 3-layer teacher against
// PyTorch autograd (Fixtures/make_objective_fixtures.py): loss, plain cross-entropy and every gradient.
using System.Globalization;
using Loom.Models;
using Loom.Training.Distillation;
using Loom.Training.Tests.Preferences;

namespace Loom.Training.Tests.Distillation;

public class DistillationObjectiveTests
{
    [Fact]
    public void LossCrossEntropyAndEveryStudentGradientArePyTorchs()
    {
        using var file = ObjectiveFixture.Open();
        using var student = ObjectiveFixture.Build(file, "w.");
        using var teacher = ObjectiveFixture.Build(file, "t.", ModelOptions.Inference, "teacher_config");
        float alpha = float.Parse(file.Metadata["alpha"], CultureInfo.InvariantCulture), temperature = float.Parse(file.Metadata["temperature"], CultureInfo.InvariantCulture);
        using var objective = new DistillationObjective(student, teacher, alpha, temperature);
        int[] ids = file.ReadInt32("distill.ids"), targets = file.ReadInt32("distill.targets");
        student.Parameters.ZeroGradients();
        float loss = objective.Forward(ids, targets, 2, 8);
        objective.Backward();
        Assert.Equal(file.ReadSingle("distill.loss")[0], loss, 1e-4f);
        Assert.Equal(file.ReadSingle("distill.ce")[0], (float)objective.Statistics().Single(kv => kv.Key == "ce").Value, 1e-4f);
        foreach (var (spec, i) in student.Parameters.Specs.Select((s, i) => (s, i)))
            ObjectiveFixture.AssertClose(file.ReadSingle("distill.g." + spec.Name), student.Parameters.Gradient(i), 2e-6, 2e-3, spec.Name);
    }

    [Fact]
    public void ATeacherWithAnotherVocabularyOrGradientsIsRefused()
    {
        using var file = ObjectiveFixture.Open();
        using var student = ObjectiveFixture.Build(file, "w.");
        using var trainable = ObjectiveFixture.Build(file, "t.", ModelOptions.Default, "teacher_config");
        Assert.Contains("frozen", Assert.Throws<ArgumentException>(() => new DistillationObjective(student, trainable, 0.5f, 2f)).Message);
        var config = Loom.Models.Gpt2.Gpt2Config.Parse(file.Metadata["config"]) with { VocabSize = 101 };
        using var other = new Loom.Models.Gpt2.Gpt2Model(config, ModelOptions.Inference);
        var e = Assert.Throws<ArgumentException>(() => new DistillationObjective(student, other, 0.5f, 2f));
        Assert.Contains("vocab_size is 101", e.Message);
        Assert.Contains("same tokenizer", e.Message);
    }
}
