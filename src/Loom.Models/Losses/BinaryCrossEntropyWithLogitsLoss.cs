// The multi-label loss of Hugging Face's *ForSequenceClassification (problem_type
// "multi_label_classification"): PyTorch's BCEWithLogitsLoss, mean over every (sequence, label),
// in its stable form ℓ = max(x, 0) − x·y + log(1 + e^−|x|), whose gradient is σ(x) − y.
// Forward and backward are one pass.
namespace Loom.Models.Losses;

/// <summary>Mean sigmoid binary cross-entropy over all elements, and its gradient (σ(x) − y)/n.</summary>
public static class BinaryCrossEntropyWithLogitsLoss
{
    /// <summary>
    /// The mean loss over <paramref name="logits"/> with targets in [0, 1]; when
    /// <paramref name="gradient"/> is not empty, also writes the gradient of <paramref name="scale"/>
    /// × the mean loss into it (it may be <paramref name="logits"/> itself).
    /// </summary>
    public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, float scale = 1f)
    {
        if (logits.Length != targets.Length) throw new ArgumentException($"{logits.Length} logits but {targets.Length} targets.");
        if (!gradient.IsEmpty && gradient.Length != logits.Length) throw new ArgumentException($"The gradient has {gradient.Length} elements; the logits {logits.Length}.");
        if (logits.IsEmpty) return float.NaN;
        double sum = 0;
        float g = scale / logits.Length;
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i], y = targets[i];
            sum += Math.Max(x, 0f) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
            if (!gradient.IsEmpty)
            {
                // σ(x) written so that neither branch overflows
                float s = x >= 0 ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));
                gradient[i] = g * (s - y);
            }
        }
        return (float)(sum / logits.Length);
    }
}
