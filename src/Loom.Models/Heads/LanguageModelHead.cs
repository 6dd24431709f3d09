// The causal LM head: logits = hidden·W_vocabᵀ, one projection (path "lm_head") from C to V. GPT-2
// ties it to wte (its weight is the embedding table), Llama has its own lm_head.weight; either way
// it is a projection chosen through ModelOptions, so it can be adapted or quantized like any other.
using Loom.Models.Projections;

namespace Loom.Models.Heads;

/// <summary>Hidden states (N, C) to vocabulary logits (N, V).</summary>
public sealed class LanguageModelHead : IDisposable
{
    private readonly IProjection _projection;
    private float[] _gathered = [];   // (R, C): the selected hidden rows of ForwardSelected, grown on demand and reused

    public LanguageModelHead(IProjection projection) => _projection = projection;

    /// <summary>The projection (C → V).</summary>
    public IProjection Projection => _projection;

    /// <summary>logits (N, V) = hidden (N, C)·Wᵀ.</summary>
    public void Forward(ReadOnlySpan<float> hidden, Span<float> logits, int rows) => _projection.Forward(hidden, logits, rows);

    /// <summary>
    /// logits (R, V) of the hidden rows <paramref name="rows"/> only (ISelectedLogits): the rows are
    /// gathered into one (R, <paramref name="width"/>) matrix so the head stays one matrix product.
    /// </summary>
    public void ForwardSelected(ReadOnlySpan<float> hidden, int width, ReadOnlySpan<int> rows, Span<float> logits)
    {
        int R = rows.Length, N = hidden.Length / width;
        if (R == 0) return;
        if (_gathered.Length < (long)R * width) _gathered = new float[(long)R * width];
        var g = _gathered.AsSpan(0, R * width);
        for (int i = 0; i < R; i++)
        {
            if ((uint)rows[i] >= (uint)N) throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"Selected row {i} is {rows[i]}; the batch has {N} positions (B·T).");
            hidden.Slice(rows[i] * width, width).CopyTo(g.Slice(i * width, width));
        }
        _projection.Forward(g, logits, R);
    }

    /// <summary>dhidden (N, C) = dlogits·W; the weight's gradient when it trains.</summary>
    public void Backward(ReadOnlySpan<float> logitsGradient, ReadOnlySpan<float> hidden, Span<float> hiddenGradient, int rows) =>
        _projection.Backward(logitsGradient, hidden, hiddenGradient, rows);

    public void Dispose() => _projection.Dispose();
}
