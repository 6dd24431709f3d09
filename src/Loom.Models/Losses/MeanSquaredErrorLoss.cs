// The regression loss of Hugging Face's *ForSequenceClassification (problem_type "regression"):
// PyTorch's MSELoss with reduction "mean" over every score, (B·num_labels) values (HF squeezes the
// (B, 1) scores when num_labels = 1, which gives the same mean). Forward and backward are one pass.
namespace Loom.Models.Losses;

/// <summary>mean((x − y)²) over all elements, and its gradient 2(x − y)/n.</summary>
public static class MeanSquaredErrorLoss
{
    /// <summary>
    /// The mean loss; when <paramref name="gradient"/> is not empty, also writes the gradient of
    /// <paramref name="scale"/> × the mean loss into it (it may be <paramref name="scores"/> itself).
    /// </summary>
    public static float ForwardBackward(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> gradient, float scale = 1f)
    {
        if (scores.Length != targets.Length) throw new ArgumentException($"{scores.Length} scores but {targets.Length} targets.");
        if (!gradient.IsEmpty && gradient.Length != scores.Length) throw new ArgumentException($"The gradient has {gradient.Length} elements; the scores {scores.Length}.");
        if (scores.IsEmpty) return float.NaN;   // PyTorch: the mean of nothing
        double sum = 0;
        float g = 2f * scale / scores.Length;
        for (int i = 0; i < scores.Length; i++)
        {
            float d = scores[i] - targets[i];
            sum += (double)d * d;
            if (!gradient.IsEmpty) gradient[i] = g * d;
        }
        return (float)(sum / scores.Length);
    }
}
