// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network", §2):
//   L = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y)
// per position, averaged over the positions whose target is not −100 (both terms over the same
// positions; ignored positions get no gradient). The T² keeps the soft term's gradient magnitude
// independent of T (§2.1). Gradient with respect to the student's logits s, per counted row:
//   α·T·(softmax(s/T) − softmax(t/T)) + (1 − α)·(softmax(s) − onehot(y)), divided by the count.
// The teacher's logits are an input and get no gradient (teacher frozen, none allocated).
namespace Loom.Models.Losses;

/// <summary>The distillation loss and its gradient with respect to the student's logits.</summary>
public static class DistillationLoss
{
    /// <summary>
    /// The mean loss over positions whose target is not −100; <paramref name="studentLogits"/> (rows, vocab) is
    /// overwritten with ∂(<paramref name="scale"/>·L)/∂s when <paramref name="backward"/> is true.
    /// </summary>
    public static float ForwardBackward(Span<float> studentLogits, ReadOnlySpan<float> teacherLogits, ReadOnlySpan<int> targets,
        int vocab, float alpha, float temperature, bool backward = true, float scale = 1f)
    {
        if (vocab < 1) throw new ArgumentException($"vocab is {vocab}; it must be at least 1.", nameof(vocab));
        if (studentLogits.Length % vocab != 0) throw new ArgumentException($"studentLogits holds {studentLogits.Length} values, not a multiple of vocab {vocab}.", nameof(studentLogits));
        int rows = studentLogits.Length / vocab;
        if (teacherLogits.Length != studentLogits.Length)
            throw new ArgumentException($"The teacher's logits hold {teacherLogits.Length} values and the student's {studentLogits.Length}; their vocabularies must match ({vocab}).", nameof(teacherLogits));
        int count = CountTargets(targets, rows, vocab, alpha, temperature);
        if (count == 0)
        {
            if (backward) studentLogits.Clear();
            return 0f;
        }
        double total = 0, T = temperature;
        for (int r = 0; r < rows; r++)
        {
            var s = studentLogits.Slice(r * vocab, vocab);
            var t = teacherLogits.Slice(r * vocab, vocab);
            int y = targets[r];
            if (y == CrossEntropyLoss.IgnoreIndex)
            {
                if (backward) s.Clear();
                continue;
            }
            double lseS = LogSumExpScaled(s, 1 / T), lseT = LogSumExpScaled(t, 1 / T), lse1 = LogSumExpScaled(s, 1);
            double kl = 0;
            for (int j = 0; j < vocab; j++)
            {
                double logPt = t[j] / T - lseT, logPs = s[j] / T - lseS;
                kl += Math.Exp(logPt) * (logPt - logPs);
            }
            double ce = lse1 - s[y];
            total += alpha * T * T * kl + (1 - alpha) * ce;
            if (!backward) continue;
            double k = scale / (double)count;
            for (int j = 0; j < vocab; j++)
            {
                double ps = Math.Exp(s[j] / T - lseS), pt = Math.Exp(t[j] / T - lseT), p1 = Math.Exp(s[j] - lse1);
                s[j] = (float)(k * (alpha * T * (ps - pt) + (1 - alpha) * (p1 - (j == y ? 1 : 0))));
            }
        }
        return (float)(total / count);
    }

    private static double LogSumExpScaled(ReadOnlySpan<float> z, double factor)
    {
        double max = double.NegativeInfinity;
        foreach (float v in z) max = Math.Max(max, v * factor);
        double sum = 0;
        foreach (float v in z) sum += Math.Exp(v * factor - max);
        return max + Math.Log(sum);
    }

    /// <summary>
    /// Checks the settings both distillation losses share and counts the targets that are not
    /// ignored (-100); a target outside the vocabulary is refused.
    /// </summary>
    internal static int CountTargets(ReadOnlySpan<int> targets, int rows, int vocab, float alpha, float temperature)
    {
        if (targets.Length != rows) throw new ArgumentException($"targets holds {targets.Length} values; the logits have {rows} rows.", nameof(targets));
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"alpha is {alpha}; it must be in [0, 1].", nameof(alpha));
        if (!(temperature > 0) || !float.IsFinite(temperature)) throw new ArgumentException($"temperature is {temperature}; it must be a positive number.", nameof(temperature));
        int count = 0;
        foreach (int y in targets)
        {
            if (y == CrossEntropyLoss.IgnoreIndex) continue;
            if ((uint)y >= (uint)vocab) throw new ArgumentException($"target {y} is outside the vocabulary [0, {vocab}).", nameof(targets));
            count++;
        }
        return count;
    }
}
