// Knowledge distillation (Hinton, Vinyals & Dean 2015) as a training objective: per batch the frozen
// teacher (built with ModelOptions.Inference: no gradient block) computes its logits on the same ids,
// the student its own, and DistillationLoss gives α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(s, y)
// over the positions with a target, and its gradient over the student's logits, from which the
// student's backward runs. With α = 0 the teacher is not run at all (the no-teacher baseline on the
// same code path). The plain cross-entropy is logged as "ce" (on validation "val_ce"), the figure to
// compare a distilled student with one trained without its teacher.
using Loom.Models;
using Loom.Models.Losses;
using Loom.Training.Loop;

namespace Loom.Training.Distillation;

/// <summary>The distillation objective of a student and a frozen teacher.</summary>
public sealed class DistillationObjective : ObjectiveModel
{
    private readonly ICausalLanguageModel _teacher;
    private int[] _targets = [];   // (B·T) the last forward's targets
    private int _rows;
    private bool _ready;

    /// <summary>α: the weight of the soft (teacher) term.</summary>
    public float Alpha { get; }

    /// <summary>T: the softmax temperature of the soft term.</summary>
    public float Temperature { get; }

    /// <param name="student">The model that trains.</param>
    /// <param name="teacher">The frozen teacher (its vocabulary must be the student's).</param>
    /// <param name="alpha">Weight of the soft term, in [0, 1].</param>
    /// <param name="temperature">Softmax temperature, positive.</param>
    public DistillationObjective(ICausalLanguageModel student, ICausalLanguageModel teacher, float alpha, float temperature) : base(student)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"distill.alpha is {alpha}; it must be in [0, 1].");
        if (!(temperature > 0) || !float.IsFinite(temperature)) throw new ArgumentException($"distill.temperature is {temperature}; it must be a positive number (2 is common).");
        if (teacher.VocabularySize != student.VocabularySize)
            throw new ArgumentException($"The teacher's vocab_size is {teacher.VocabularySize:N0} and the student's {student.VocabularySize:N0}; distillation compares the two distributions token by token, so both must use the same tokenizer and vocab_size.");
        if (teacher.Parameters.TrainableCount != 0)
            throw new ArgumentException("The teacher must be frozen (built with ModelOptions.Inference), so no gradients are allocated for it.");
        _teacher = teacher;
        Alpha = alpha;
        Temperature = temperature;
    }

    /// <inheritdoc/>
    public override float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        if (targets.Length != batch * time) throw new ArgumentException("Distillation needs targets (−100 where none).");
        if (time > _teacher.ContextLength) throw new ArgumentException($"Sequences of {time} positions exceed the teacher's context ({_teacher.ContextLength}); lower train.max_length.");
        _rows = batch * time;
        targets.CopyTo(Scratch(ref _targets, _rows));
        if (Alpha > 0) _teacher.Forward(ids, default, batch, time);
        float ce = Model.Forward(ids, targets, batch, time);
        int weight = 0;
        foreach (int t in targets) if (t != CrossEntropyLoss.IgnoreIndex) weight++;
        Record("ce", ce, weight);
        _ready = true;
        if (Alpha == 0) return ce;
        float loss = DistillationLoss.ForwardBackward(Gradients.MutableLogits, _teacher.Logits, targets, Model.VocabularySize, Alpha, Temperature, backward: false);
        return loss;
    }

    /// <inheritdoc/>
    public override void Backward(float lossScale = 1f)
    {
        if (!_ready) throw new InvalidOperationException("Run Forward before Backward.");
        _ready = false;
        if (Alpha == 0)
        {
            Model.Backward(lossScale);
            return;
        }
        DistillationLoss.ForwardBackward(Gradients.MutableLogits, _teacher.Logits, _targets.AsSpan(0, _rows), Model.VocabularySize, Alpha, Temperature, backward: true, scale: lossScale);
        Gradients.BackwardFromLogits();
    }
}
