// The state behind IWordEmbeddingGradient, one copy shared by every family: the per-sequence scale
// α applied to the word-embedding rows right after the lookup, and the gradient with respect to
// those rows captured at the end of the backward. Nothing is allocated unless an attribution asks
// (scales set, gradient kept), so training and inference pay one branch per pass.
namespace Loom.Models;

/// <summary>Per-sequence word-embedding scales and the kept gradient of one body.</summary>
internal sealed class WordEmbeddingPath
{
    private float[] _scales = [];     // (B) α per sequence; empty: 1
    private float[] _gradient = [];   // (B·T, C)
    private int _length;

    public bool KeepGradient { get; set; }

    public ReadOnlySpan<float> Gradient => _gradient.AsSpan(0, _length);

    public void SetScales(ReadOnlySpan<float> perSequence) => _scales = perSequence.ToArray();

    /// <summary>rows (B·T, C) ← α_b·rows, right after the word-embedding lookup.</summary>
    public void Scale(Span<float> rows, int B, int T, int C)
    {
        if (_scales.Length == 0) return;
        if (_scales.Length != B) throw new ArgumentException($"{_scales.Length} word-embedding scales were set for a batch of {B} sequences; set one per sequence (or none).");
        for (int b = 0; b < B; b++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(rows.Slice(b * T * C, T * C), _scales[b], rows.Slice(b * T * C, T * C));
    }

    /// <summary>Keeps d/d(α·word[ids]) (B·T, C) when asked; called where the backward reaches the lookup.</summary>
    public void Capture(ReadOnlySpan<float> gradient, int length)
    {
        if (!KeepGradient) return;
        if (_gradient.Length < length) _gradient = new float[length];
        gradient[..length].CopyTo(_gradient);
        _length = length;
    }
}
