// Direct Preference Optimization (Rafailov et al. 2023, "Direct Preference Optimization: Your
// Language Model is Secretly a Reward Model", eq. 7):
//   L = −mean_i log σ(β·((log πθ(y_w|x) − log πref(y_w|x)) − (log πθ(y_l|x) − log πref(y_l|x))))
// with log π(y|x) the sum of token log-probabilities over the response tokens only: positions whose
// label is −100 (the prompt, the padding) are left out, as TRL's get_batch_logps. Labels are aligned
// with the logits (label t is the token logits row t predicts), as Loom's targets are.
//   ∂L/∂ log πθ(y_w|x) = −β·σ(−z_i)/N,  ∂L/∂ log πθ(y_l|x) = +β·σ(−z_i)/N,  z_i the bracket above;
//   ∂ log πθ(y|x)/∂ logits[t, j] = 1[j = y_t] − softmax(logits[t])_j on every response position t.
// The reference log-probabilities are inputs: they come from the frozen model (or the base under a
// LoRA adapter) and get no gradient.
namespace Loom.Models.Losses;

/// <summary>The DPO loss over sequence log-probabilities, and its gradient with respect to the policy's logits.</summary>
public static class DpoLoss
{
    /// <summary>
    /// Per-sequence log-probabilities: <paramref name="logProbabilities"/>[b] = Σ_t log softmax(logits[b, t])[labels[b, t]]
    /// over the positions whose label is not −100. Logits are (batch·time, vocab), labels (batch·time).
    /// </summary>
    public static void SequenceLogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int time, int vocab, Span<float> logProbabilities)
    {
        Check(logits, labels, batch, time, vocab);
        if (logProbabilities.Length != batch) throw new ArgumentException($"logProbabilities holds {logProbabilities.Length} values; the batch has {batch}.", nameof(logProbabilities));
        for (int b = 0; b < batch; b++)
        {
            double sum = 0;
            for (int t = 0; t < time; t++)
            {
                int row = b * time + t, y = labels[row];
                if (y == CrossEntropyLoss.IgnoreIndex) continue;
                var z = logits.Slice(row * vocab, vocab);
                sum += z[y] - LogSumExp(z);
            }
            logProbabilities[b] = (float)sum;
        }
    }

    /// <summary>
    /// Overwrites <paramref name="logits"/> (batch·time, vocab) with ∂L/∂logits given ∂L/∂ log π(y|x) per sequence
    /// (<paramref name="sequenceGradient"/>, batch): zero on the positions whose label is −100.
    /// </summary>
    public static void SequenceLogProbabilitiesBackward(Span<float> logits, ReadOnlySpan<int> labels, int batch, int time, int vocab, ReadOnlySpan<float> sequenceGradient)
    {
        Check(logits, labels, batch, time, vocab);
        if (sequenceGradient.Length != batch) throw new ArgumentException($"sequenceGradient holds {sequenceGradient.Length} values; the batch has {batch}.", nameof(sequenceGradient));
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < time; t++)
            {
                int row = b * time + t, y = labels[row];
                var z = logits.Slice(row * vocab, vocab);
                if (y == CrossEntropyLoss.IgnoreIndex) { z.Clear(); continue; }
                double lse = LogSumExp(z);
                float g = sequenceGradient[b];
                for (int j = 0; j < vocab; j++) z[j] = -g * (float)Math.Exp(z[j] - lse);
                z[y] += g;
            }
    }

    /// <summary>
    /// The mean DPO loss over the pairs and its statistics; <paramref name="chosenGradient"/> and
    /// <paramref name="rejectedGradient"/> (each one per pair) receive ∂L/∂ log πθ(y_w|x) and ∂L/∂ log πθ(y_l|x).
    /// </summary>
    public static DpoStatistics Forward(ReadOnlySpan<float> policyChosen, ReadOnlySpan<float> policyRejected,
        ReadOnlySpan<float> referenceChosen, ReadOnlySpan<float> referenceRejected, float beta,
        Span<float> chosenGradient, Span<float> rejectedGradient)
    {
        int n = policyChosen.Length;
        if (n == 0) throw new ArgumentException("DPO needs at least one preference pair.", nameof(policyChosen));
        if (policyRejected.Length != n || referenceChosen.Length != n || referenceRejected.Length != n || chosenGradient.Length != n || rejectedGradient.Length != n)
            throw new ArgumentException($"The chosen, rejected, reference and gradient spans must all hold one value per pair ({n}).");
        if (!(beta > 0) || !float.IsFinite(beta)) throw new ArgumentException($"beta is {beta}; it must be a positive number (0.1 is common).", nameof(beta));
        double loss = 0, chosen = 0, rejected = 0, correct = 0;
        for (int i = 0; i < n; i++)
        {
            double rc = beta * ((double)policyChosen[i] - referenceChosen[i]);
            double rr = beta * ((double)policyRejected[i] - referenceRejected[i]);
            double z = rc - rr;
            // −log σ(z) = softplus(−z), computed without overflow for either sign.
            loss += z > 0 ? Math.Log(1 + Math.Exp(-z)) : -z + Math.Log(1 + Math.Exp(z));
            double sNeg = 1 / (1 + Math.Exp(z));   // σ(−z)
            chosenGradient[i] = (float)(-beta * sNeg / n);
            rejectedGradient[i] = (float)(beta * sNeg / n);
            chosen += rc;
            rejected += rr;
            if (rc > rr) correct++;
        }
        return new DpoStatistics((float)(loss / n), (float)(chosen / n), (float)(rejected / n), (float)((chosen - rejected) / n), (float)(correct / n));
    }

    internal static double LogSumExp(ReadOnlySpan<float> z)
    {
        float max = float.NegativeInfinity;
        foreach (float v in z) max = Math.Max(max, v);
        double s = 0;
        foreach (float v in z) s += Math.Exp(v - max);
        return max + Math.Log(s);
    }

    private static void Check(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int time, int vocab)
    {
        if (batch < 1 || time < 1 || vocab < 1) throw new ArgumentException($"batch ({batch}), time ({time}) and vocab ({vocab}) must be at least 1.");
        if (labels.Length != batch * time) throw new ArgumentException($"labels holds {labels.Length} values; batch × time is {batch * time}.", nameof(labels));
        if (logits.Length != (long)batch * time * vocab) throw new ArgumentException($"logits holds {logits.Length} values; batch × time × vocab is {(long)batch * time * vocab}.", nameof(logits));
        foreach (int y in labels)
            if (y != CrossEntropyLoss.IgnoreIndex && (uint)y >= (uint)vocab)
                throw new ArgumentException($"label {y} is outside the vocabulary [0, {vocab}); use −100 for positions without a label.", nameof(labels));
    }
}
