namespace Loom.Evaluation.Harness;

/// <summary>How the harness runs a task.</summary>
public sealed record HarnessOptions
{
    /// <summary>Few-shot examples per prompt; null: the task's num_fewshot.</summary>
    public int? Shots { get; init; }

    /// <summary>Score only the first N test documents (0: all).</summary>
    public int Limit { get; init; }

    /// <summary>Seeds the few-shot draw, the hold-out split, sampling and the bootstrap (lm-eval's default fewshot seed is 1234).</summary>
    public ulong Seed { get; init; } = 1234;

    /// <summary>Bootstrap resamples for each metric's interval.</summary>
    public int BootstrapResamples { get; init; } = 1000;

    /// <summary>Confidence of the intervals.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Requests handed to the model at a time (progress is reported between them).</summary>
    public int ChunkSize { get; init; } = 64;

    public void Validate()
    {
        if (Shots is < 0) throw new ArgumentOutOfRangeException(nameof(Shots), Shots, "--shots must be ≥ 0.");
        if (Limit < 0) throw new ArgumentOutOfRangeException(nameof(Limit), Limit, "--limit must be ≥ 0 (0: every document).");
        if (BootstrapResamples < 2) throw new ArgumentOutOfRangeException(nameof(BootstrapResamples), BootstrapResamples, "--bootstrap must be ≥ 2 (1000 is usual).");
        if (!(Confidence > 0 && Confidence < 1)) throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "confidence must lie strictly between 0 and 1.");
        if (ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "ChunkSize must be ≥ 1.");
    }
}
