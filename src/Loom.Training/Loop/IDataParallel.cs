// The seam through which a training step runs data-parallel (Loom.Distributed implements it over MPI:
// DDP and ZeRO 1–3). The loop stays the single-process loop: every rank draws the same global batch
// from the same seeded source, takes its own rows of each micro-batch, and weights its loss by its
// share of the micro-batch's targets, so that the gradients summed over ranks are exactly the
// single-process gradient of the global-batch mean (PyTorch DDP averages instead, which equals it only
// when every rank has the same number of targets). What happens to the gradients and the optimizer
// state — all-reduced and replicated, or reduce-scattered and sharded — is the strategy's business.
namespace Loom.Training.Loop;

/// <summary>A data-parallel strategy as the training step sees it.</summary>
public interface IDataParallel
{
    /// <summary>This rank, 0-based; only rank 0 writes the run directory.</summary>
    int Rank { get; }

    /// <summary>Number of ranks.</summary>
    int Size { get; }

    /// <summary>Sums <paramref name="values"/> over all ranks in place.</summary>
    void SumOverRanks(Span<double> values);

    /// <summary>Called once per step before the first micro-batch (gradients already zeroed).</summary>
    void BeginStep();

    /// <summary>
    /// Called before each micro-batch's backward; <paramref name="last"/> is true for the step's last, whose
    /// backward may start gradient reductions layer by layer (overlap).
    /// </summary>
    void BeforeBackward(bool last);

    /// <summary>
    /// Finishes the gradient reduction, clips by the global norm of the global-batch gradient and applies
    /// AdamW, leaving the same parameters on every rank. Returns the norm before clipping.
    /// </summary>
    float ReduceClipAndUpdate(float learningRate, float maxNorm);

    /// <summary>Updates taken so far.</summary>
    int OptimizerStep { get; }

    /// <summary>
    /// The AdamW moments in the single-process layout (the gradient block's), gathered from the shards;
    /// collective: every rank calls it, rank 0 receives them (others get null).
    /// </summary>
    (float[] First, float[] Second)? GatherOptimizerState();

    /// <summary>Restores this rank's part of moments saved in the single-process layout, and the step count.</summary>
    void LoadOptimizerState(ReadOnlySpan<float> first, ReadOnlySpan<float> second, int step);

    /// <summary>Makes every parameter value present in the model's value block (ZeRO-3 holds only shards between uses); collective.</summary>
    void MaterializeParameters();
}
