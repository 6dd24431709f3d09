// Offline knowledge distillation as a training objective: the student's logits on a batch of cached
// chunks (TeacherCacheBatches) against the teacher's cached top-k log-probabilities for the same positions,
// α·T²·KL_S + (1−α)·CE (SparseDistillationLoss) — no teacher in memory, no teacher forward per step.
// A batch that is not a cached chunk batch (validation windows) is scored by plain cross-entropy, so
// val_loss and val_ce are then the same figure, comparable with every other student. The plain
// cross-entropy is logged as "ce" as in DistillationObjective.
using Loom.Models;
using Loom.Models.Losses;
using Loom.Training.Loop;

namespace Loom.Training.Distillation;

/// <summary>Distillation against a <see cref="TeacherCache"/>.</summary>
public sealed class CachedDistillationObjective : ObjectiveModel
{
    private readonly TeacherCacheBatches _source;
    private int[] _targets = [], _ids = [];
    private float[] _logProbs = [];
    private int _rows;
    private bool _ready, _sparse;

    public float Alpha { get; }

    /// <param name="student">The model that trains.</param>
    /// <param name="source">The cached chunks the training batches come from.</param>
    /// <param name="alpha">Weight of the soft term, in [0, 1].</param>
    public CachedDistillationObjective(ICausalLanguageModel student, TeacherCacheBatches source, float alpha) : base(student)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"distill.alpha is {alpha}; it must be in [0, 1].");
        if (source.Cache.Vocabulary != student.VocabularySize)
            throw new ArgumentException($"The teacher cache was made with vocab_size {source.Cache.Vocabulary:N0} and the student's is {student.VocabularySize:N0}; use the teacher's tokenizer and vocab_size.");
        _source = source;
        Alpha = alpha;
    }

    /// <inheritdoc/>
    public override float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        if (targets.Length != batch * time) throw new ArgumentException("Distillation needs targets (−100 where none).");
        var chunks = _source.TakeChunks();
        _rows = batch * time;
        targets.CopyTo(Scratch(ref _targets, _rows));
        float ce = Model.Forward(ids, targets, batch, time);
        int weight = 0;
        foreach (int t in targets) if (t != CrossEntropyLoss.IgnoreIndex) weight++;
        Record("ce", ce, weight);
        _ready = true;
        _sparse = Alpha > 0 && !chunks.IsEmpty;
        if (!_sparse) return ce;
        var cache = _source.Cache;
        int k = cache.TopK, T = cache.ChunkLength;
        if (chunks.Length != batch || time != T) throw new InvalidOperationException($"The batch ({batch} × {time}) is not the cached chunks' ({chunks.Length} × {T}).");
        var teacherIds = Scratch(ref _ids, _rows * k);
        var teacherLogProbs = Scratch(ref _logProbs, _rows * k);
        for (int b = 0; b < batch; b++)
        {
            cache.Ids.AsSpan(chunks[b] * T * k, T * k).CopyTo(teacherIds.Slice(b * T * k));
            cache.LogProbs.AsSpan(chunks[b] * T * k, T * k).CopyTo(teacherLogProbs.Slice(b * T * k));
        }
        // A batch of cached chunks is a training batch (validation uses windows, which find no chunks), so its
        // Backward follows: the loss and its gradient (for a loss scale of 1) come from one pass over the logits,
        // which then hold the gradient; Backward only applies the step's loss scale. Reading the logits after
        // such a Forward gives that gradient, not logits.
        return SparseDistillationLoss.ForwardBackward(Gradients.MutableLogits, teacherIds, teacherLogProbs, targets, Model.VocabularySize, k, Alpha, cache.Temperature, backward: true);
    }

    /// <inheritdoc/>
    public override void Backward(float lossScale = 1f)
    {
        if (!_ready) throw new InvalidOperationException("Run Forward before Backward.");
        _ready = false;
        if (!_sparse)
        {
            Model.Backward(lossScale);
            return;
        }
        if (lossScale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(Gradients.MutableLogits, lossScale, Gradients.MutableLogits);
        Gradients.BackwardFromLogits();
    }
}
