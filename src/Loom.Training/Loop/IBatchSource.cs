// Where a training loop's batches come from: fixed windows of one token stream (TokenBatches, as
// nanoGPT and llm.c sample them) or length-bucketed padded documents (DocumentBatches). The state is
// what a checkpoint stores so a resumed run sees the very same batches.
namespace Loom.Training.Loop;

/// <summary>A sampler position: RNG state plus items consumed since it (−1 when not meaningful).</summary>
public readonly record struct BatchSourceState(ulong Rng, long Position);

/// <summary>A deterministic, resumable stream of (inputs, targets) batches.</summary>
public interface IBatchSource
{
    /// <summary>The next batch; its arrays may be reused by the following call.</summary>
    PaddedBatch Next();

    /// <summary>The position to save in a checkpoint; setting it restores that position exactly.</summary>
    BatchSourceState State { get; set; }
}

/// <summary>B random windows of T tokens from a stream per batch (every target real).</summary>
public sealed class WindowBatches : IBatchSource
{
    private readonly TokenBatches _windows;
    private readonly int[] _inputs, _targets;
    private readonly int _batch, _time;

    /// <param name="tokens">The token stream.</param>
    /// <param name="batch">Windows per batch.</param>
    /// <param name="time">Window length.</param>
    /// <param name="seed">Sampling seed.</param>
    public WindowBatches(int[] tokens, int batch, int time, int seed)
    {
        if (tokens.Length < time + 1) throw new ArgumentException($"The token stream has {tokens.Length} tokens; windows of {time} need at least {time + 1}. Lower train.sequence_length or add data.");
        _windows = new TokenBatches(tokens, seed);
        _inputs = new int[batch * time];
        _targets = new int[batch * time];
        _batch = batch;
        _time = time;
    }

    /// <inheritdoc/>
    public PaddedBatch Next()
    {
        _windows.Next(_inputs, _targets, _batch, _time);
        return new PaddedBatch(_inputs, _targets, _batch, _time, _batch * _time);
    }

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => new(_windows.State, -1);
        set => _windows.State = value.Rng;
    }
}
