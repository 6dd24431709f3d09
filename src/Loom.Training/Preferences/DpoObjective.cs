// Direct Preference Optimization (Rafailov et al. 2023, eq. 7) as a training objective over batches
// laid out as SequenceBatches lays out pairs: rows 0..N−1 the chosen answers (y_w), rows N..2N−1 the
// rejected ones (y_l), prompt and padding targets −100. Per batch:
//   1. the reference log-probabilities log πref(y|x) from a frozen model — either a separate frozen
//      copy (ModelOptions.Inference: no gradients) or, with a LoRA policy, the same model with the
//      adapter disabled (PEFT's disable_adapter(), as TRL does: no second copy of the weights);
//      dropout off, as TRL's reference model is in eval mode;
//   2. the policy's forward on the same 2N rows (one concatenated forward, TRL's concatenated_forward);
//   3. DpoLoss: sequence log-probs over answer tokens, the loss, TRL's logged statistics;
// and the backward writes ∂L/∂logits over the policy's logits and runs the model's backward from them.
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Losses;
using Loom.Training.Loop;

namespace Loom.Training.Preferences;

/// <summary>The DPO objective over a policy and its reference.</summary>
public sealed class DpoObjective : ObjectiveModel
{
    private readonly ICausalLanguageModel? _reference;
    private readonly LoraRuntime? _adapter;
    private int[] _targets = [];                 // (2N·T) the last forward's targets
    private float[] _policy = [], _ref = [];     // (2N) sequence log-probabilities
    private float[] _gc = [], _gr = [], _seq = []; // (N), (N), (2N) gradients
    private int _pairs, _time;
    private bool _ready;

    /// <summary>β, the strength of the KL penalty toward the reference (0.1 in the paper and TRL).</summary>
    public float Beta { get; }

    /// <param name="policy">The model that trains.</param>
    /// <param name="reference">A frozen reference, or null to use <paramref name="policy"/> with its LoRA adapter disabled.</param>
    /// <param name="beta">β.</param>
    public DpoObjective(ICausalLanguageModel policy, ICausalLanguageModel? reference, float beta) : base(policy)
    {
        if (!(beta > 0) || !float.IsFinite(beta)) throw new ArgumentException($"dpo.beta is {beta}; it must be a positive number (0.1 is common).");
        Beta = beta;
        _reference = reference;
        if (reference is null)
            _adapter = LoraAdapters.Runtime(policy.Parameters)
                ?? throw new ArgumentException("DPO without a reference model needs a LoRA policy (lora:), whose base with the adapter disabled is the reference; give a lora: section or let the trainer keep a frozen copy.");
        else if (reference.VocabularySize != policy.VocabularySize)
            throw new ArgumentException($"The reference model's vocab_size is {reference.VocabularySize} and the policy's {policy.VocabularySize}; they must be the same model.");
    }

    /// <summary>Reference log-probabilities, a frozen model's or the base's under a disabled adapter.</summary>
    private void ReferenceForward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time, Span<float> into)
    {
        if (_reference != null)
        {
            _reference.Forward(ids, default, batch, time);
            DpoLoss.SequenceLogProbabilities(_reference.Logits, targets, batch, time, _reference.VocabularySize, into);
            return;
        }
        bool training = IsTraining;
        IsTraining = false;
        bool loraTraining = _adapter!.Training;
        _adapter.Enabled = false;
        _adapter.Training = false;
        try
        {
            Model.Forward(ids, default, batch, time);
            DpoLoss.SequenceLogProbabilities(Model.Logits, targets, batch, time, Model.VocabularySize, into);
        }
        finally
        {
            _adapter.Enabled = true;
            _adapter.Training = loraTraining;
            IsTraining = training;
        }
    }

    /// <inheritdoc/>
    public override float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        if (batch % 2 != 0) throw new ArgumentException($"A DPO batch holds chosen and rejected rows, so an even number; got {batch}.");
        if (targets.Length != batch * time) throw new ArgumentException("DPO needs the answer tokens' targets (−100 on the prompt and padding).");
        int n = batch / 2;
        targets.CopyTo(Scratch(ref _targets, batch * time));
        var reference = Scratch(ref _ref, batch);
        ReferenceForward(ids, targets, batch, time, reference);
        Model.Forward(ids, default, batch, time);
        var policy = Scratch(ref _policy, batch);
        DpoLoss.SequenceLogProbabilities(Model.Logits, targets, batch, time, Model.VocabularySize, policy);
        var stats = DpoLoss.Forward(policy[..n], policy[n..], reference[..n], reference[n..], Beta, Scratch(ref _gc, n), Scratch(ref _gr, n));
        _pairs = n;
        _time = time;
        _ready = true;
        // TRL's names (DPOTrainer.get_batch_loss_metrics), means over pairs.
        Record("rewards/chosen", stats.ChosenReward, n);
        Record("rewards/rejected", stats.RejectedReward, n);
        Record("rewards/margins", stats.Margin, n);
        Record("rewards/accuracies", stats.Accuracy, n);
        return stats.Loss;
    }

    /// <inheritdoc/>
    public override void Backward(float lossScale = 1f)
    {
        if (!_ready) throw new InvalidOperationException("Run Forward before Backward.");
        _ready = false;
        int n = _pairs, batch = 2 * n;
        var seq = Scratch(ref _seq, batch);
        for (int i = 0; i < n; i++)
        {
            seq[i] = _gc[i] * lossScale;
            seq[n + i] = _gr[i] * lossScale;
        }
        DpoLoss.SequenceLogProbabilitiesBackward(Gradients.MutableLogits, _targets.AsSpan(0, batch * _time), batch, _time, Model.VocabularySize, seq);
        Gradients.BackwardFromLogits();
    }
}
