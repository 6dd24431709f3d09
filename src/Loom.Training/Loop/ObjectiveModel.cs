// A training objective other than the model's own token cross-entropy (DPO, distillation) presented
// to the training loop as the model itself: the loop, checkpoints, resume, mixed precision and
// reports see the trained model's parameters, config and Save, and only Forward/Backward compute the
// objective. So every task gets bit-identical resume, accumulation, fp16 loss scaling and
// checkpointing from the one loop (LanguageModelTraining) instead of a copy per task.
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Training.Loop;

/// <summary>Forwards everything but the loss to the trained model.</summary>
public abstract class ObjectiveModel : ILanguageModel, ITrainingMode, IStepStatistics
{
    /// <summary>The model that trains.</summary>
    protected ICausalLanguageModel Model { get; }

    /// <summary>The model's logits-gradient capability.</summary>
    protected ILogitsBackward Gradients { get; }

    private readonly Dictionary<string, (double Sum, double Weight)> _statistics = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <param name="model">The model that trains (not disposed by this wrapper).</param>
    protected ObjectiveModel(ICausalLanguageModel model)
    {
        Model = model;
        Gradients = model as ILogitsBackward
            ?? throw new NotSupportedException($"{CausalLanguageModels.Describe(model.Configuration)} cannot run a backward from caller-computed logit gradients (ILogitsBackward), which this objective needs.");
    }

    public object Configuration => Model.Configuration;
    public int VocabularySize => Model.VocabularySize;
    public int ContextLength => Model.ContextLength;
    public ParameterSet Parameters => Model.Parameters;
    public bool ActivationCheckpointing { get => Model.ActivationCheckpointing; set => Model.ActivationCheckpointing = value; }
    public void InitializeWeights(int seed) => Model.InitializeWeights(seed);
    public void LoadWeights(SafetensorsFile file, string prefix = "") => Model.LoadWeights(file, prefix);
    public void Save(string directory) => Model.Save(directory);
    public ReadOnlySpan<float> Logits => Model.Logits;
    public bool MayBeAbsentFromWeights(string name) => Model.MayBeAbsentFromWeights(name);

    public bool IsTraining
    {
        get => Model is ITrainingMode m && m.IsTraining;
        set { if (Model is ITrainingMode m) m.IsTraining = value; }
    }

    public ulong DropoutStep
    {
        get => Model is ITrainingMode m ? m.DropoutStep : 0;
        set { if (Model is ITrainingMode m) m.DropoutStep = value; }
    }

    /// <inheritdoc/>
    public abstract float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time);

    /// <inheritdoc/>
    public abstract void Backward(float lossScale = 1f);

    /// <summary>Adds one forward's value of a statistic, weighted (e.g. by pairs).</summary>
    protected void Record(string name, double value, double weight)
    {
        if (!_statistics.TryGetValue(name, out var s)) _order.Add(name);
        _statistics[name] = (s.Sum + value * weight, s.Weight + weight);
    }

    public void ResetStatistics() => _statistics.Clear();

    public IReadOnlyList<KeyValuePair<string, double>> Statistics() =>
        _order.Where(_statistics.ContainsKey).Select(n => KeyValuePair.Create(n, _statistics[n].Sum / Math.Max(1e-300, _statistics[n].Weight))).ToList();

    /// <summary>Grows <paramref name="buffer"/> to at least <paramref name="length"/> (once per new largest shape, never per step).</summary>
    protected static Span<T> Scratch<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>Does not dispose the wrapped models: their owner does.</summary>
    public virtual void Dispose() { }
}
