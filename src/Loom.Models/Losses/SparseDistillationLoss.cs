// Knowledge distillation against a cached, sparse teacher (offline KD): per position the cache keeps the
// teacher's k most likely ids S and their log-probabilities at temperature T, log p_i (i ∈ S); the rest
// of the vocabulary is one tail bucket of mass r = 1 − Σ_S p_i. The student's distribution at T is
// coarsened the same way (q_i for i ∈ S, q_r = Σ_{j∉S} q_j), and the soft term is the KL between the two
// (k + 1)-way distributions:
//   KL_S = Σ_{i∈S} p_i (log p_i − log q_i) + r (log r − log q_r)
// — top-k caching of teacher logits with the residual mass kept as its own class, as in the sparse /
// cached-logit KD line of work (Anshumann et al. 2025, "Sparse Logit Sampling: Accelerating Knowledge
// Distillation in LLMs", §2, which names the plain renormalised top-k target biased; keeping the tail
// bucket keeps the target a normalised distribution). By the data-processing inequality KL_S ≤ the full
// KL, with equality at k = V. The loss per counted position, as DistillationLoss with the full teacher:
//   L = α·T²·KL_S + (1 − α)·CE(s, y),  averaged over positions whose target is not −100.
// Gradient with respect to the student's logits s (derived from d log q_i/ds_j = (δ_ij − q_j)/T):
//   j ∈ S:  α·T·(q_j − p_j);   j ∉ S:  α·T·q_j·(1 − r/q_r);   plus (1 − α)·(softmax(s) − onehot(y)).
using System.Buffers;
using System.Numerics.Tensors;

namespace Loom.Models.Losses;

/// <summary>The distillation loss against a sparse (top-k + tail) teacher, and its gradient.</summary>
public static class SparseDistillationLoss
{
    /// <summary>
    /// The mean loss over positions whose target is not −100. <paramref name="teacherIds"/> and
    /// <paramref name="teacherLogProbs"/> are (rows, k): the teacher's top-k ids (distinct) and their
    /// log-probabilities at <paramref name="temperature"/>. With <paramref name="backward"/>,
    /// <paramref name="studentLogits"/> (rows, vocab) is overwritten with ∂(<paramref name="scale"/>·L)/∂s.
    /// </summary>
    public static float ForwardBackward(Span<float> studentLogits, ReadOnlySpan<int> teacherIds, ReadOnlySpan<float> teacherLogProbs,
        ReadOnlySpan<int> targets, int vocab, int k, float alpha, float temperature, bool backward = true, float scale = 1f)
    {
        if (vocab < 1 || k < 1 || k > vocab) throw new ArgumentException($"vocab {vocab} and k {k} need 1 ≤ k ≤ vocab.");
        if (studentLogits.Length % vocab != 0) throw new ArgumentException($"studentLogits holds {studentLogits.Length} values, not a multiple of vocab {vocab}.", nameof(studentLogits));
        int rows = studentLogits.Length / vocab;
        if (teacherIds.Length != (long)rows * k || teacherLogProbs.Length != (long)rows * k)
            throw new ArgumentException($"The teacher's top-k hold {teacherIds.Length} ids and {teacherLogProbs.Length} log-probabilities; {rows} rows × k {k} = {(long)rows * k} each.");
        int count = DistillationLoss.CountTargets(targets, rows, vocab, alpha, temperature);
        if (count == 0)
        {
            if (backward) studentLogits.Clear();
            return 0f;
        }
        double total = 0, T = temperature;
        // Per row: the student's exp((s − max)/T) and exp(s − max) in two scratch rows (SIMD, TensorPrimitives),
        // their sums, and the k teacher entries read out by id. Stack for a small vocabulary, else pooled arrays,
        // so a training step allocates nothing.
        float[]? rentedRows = vocab <= 2048 ? null : ArrayPool<float>.Shared.Rent(2 * vocab);
        bool[]? rentedTop = vocab <= 4096 ? null : ArrayPool<bool>.Shared.Rent(vocab);
        float[]? rentedK = k <= 512 ? null : ArrayPool<float>.Shared.Rent(2 * k);
        Span<float> rowsScratch = rentedRows is null ? stackalloc float[2 * vocab] : rentedRows.AsSpan(0, 2 * vocab);
        Span<bool> inTop = rentedTop is null ? stackalloc bool[vocab] : rentedTop.AsSpan(0, vocab);
        Span<float> kScratch = rentedK is null ? stackalloc float[2 * k] : rentedK.AsSpan(0, 2 * k);
        Span<float> qTop = kScratch[..k], pTop = kScratch[k..];   // the student's exp((s − max)/T) and the teacher's p on S
        Span<float> eT = rowsScratch[..vocab], e1 = rowsScratch[vocab..];
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var s = studentLogits.Slice(r * vocab, vocab);
                int y = targets[r];
                if (y == CrossEntropyLoss.IgnoreIndex)
                {
                    if (backward) s.Clear();
                    continue;
                }
                var ids = teacherIds.Slice(r * k, k);
                var logP = teacherLogProbs.Slice(r * k, k);
                inTop.Clear();
                foreach (int i in ids)
                {
                    if ((uint)i >= (uint)vocab || inTop[i]) throw new ArgumentException($"row {r}: teacher id {i} is outside [0, {vocab}) or repeated.", nameof(teacherIds));
                    inTop[i] = true;
                }
                double massP = 0;
                for (int i = 0; i < k; i++) massP += pTop[i] = (float)Math.Exp(logP[i]);
                double tail = k == vocab ? 0 : Math.Max(0, 1 - massP);   // k = V: no tail class, the full KL
                float max = TensorPrimitives.Max(s);
                TensorPrimitives.Subtract(s, max, e1);
                TensorPrimitives.Multiply(e1, (float)(1 / T), eT);
                TensorPrimitives.Exp(eT, eT);                          // exp((s − max)/T)
                TensorPrimitives.Exp(e1, e1);                          // exp(s − max)
                double sumT = TensorPrimitives.Sum(eT), sum1 = TensorPrimitives.Sum(e1);
                double lseS = max / T + Math.Log(sumT), lse1 = max + Math.Log(sum1);
                // q_r summed over the ids outside S directly (not 1 − Σ_S q, which cancels when the tail is small):
                // the S entries are read out and zeroed for the sum, then put back.
                for (int i = 0; i < k; i++) { qTop[i] = eT[ids[i]]; eT[ids[i]] = 0; }
                double tailSum = k == vocab ? 0 : TensorPrimitives.Sum(eT);
                for (int i = 0; i < k; i++) eT[ids[i]] = qTop[i];
                double logTailQ = Math.Log(tailSum / sumT);            // log q_r
                double kl = 0;
                for (int i = 0; i < k; i++)
                {
                    double p = pTop[i];
                    if (p > 0) kl += p * (logP[i] - (s[ids[i]] / T - lseS));
                }
                if (tail > 0) kl += tail * (Math.Log(tail) - logTailQ);
                double ce = lse1 - s[y];
                total += alpha * T * T * kl + (1 - alpha) * ce;
                if (!backward) continue;
                double c = scale / (double)count;
                double tailFactor = tail > 0 ? 1 - tail / Math.Exp(logTailQ) : 1;   // 1 − r/q_r (r = 0: the tail gets q_j)
                // Every id: c·(α·T·q_j·tailFactor + (1−α)·p1_j); the S ids then get α·T·q_j instead of the tail's
                // factor, minus α·T·p_j; the target −(1−α).
                TensorPrimitives.Multiply(e1, (float)(c * (1 - alpha) / sum1), s);
                TensorPrimitives.MultiplyAdd(eT, (float)(c * alpha * T * tailFactor / sumT), s, s);
                for (int i = 0; i < k; i++)
                    s[ids[i]] += (float)(c * alpha * T * (qTop[i] / sumT * (1 - tailFactor) - pTop[i]));
                s[y] -= (float)(c * (1 - alpha));
            }
        }
        finally
        {
            if (rentedRows != null) ArrayPool<float>.Shared.Return(rentedRows);
            if (rentedTop != null) ArrayPool<bool>.Shared.Return(rentedTop);
            if (rentedK != null) ArrayPool<float>.Shared.Return(rentedK);
        }
        return (float)(total / count);
    }

    /// <summary>The teacher's top-k ids (most likely first) and log-probabilities at <paramref name="temperature"/> for one row of logits.</summary>
    public static void TopK(ReadOnlySpan<float> logits, float temperature, Span<int> ids, Span<float> logProbs)
    {
        int k = ids.Length;
        if (k < 1 || k > logits.Length || logProbs.Length != k) throw new ArgumentException($"k = {k} must be in [1, {logits.Length}] with as many log-probabilities.");
        double lse = LogSumExp(logits, 1.0 / temperature, default);
        int found = 0;
        // Insertion into a sorted top-k list: k ≤ a few dozen, V a few thousand to 50k; one pass.
        for (int j = 0; j < logits.Length; j++)
        {
            float v = logits[j];
            if (found == k && v <= logits[ids[k - 1]]) continue;
            int at = Math.Min(found, k - 1);
            while (at > 0 && logits[ids[at - 1]] < v) { ids[at] = ids[at - 1]; at--; }
            ids[at] = j;
            if (found < k) found++;
        }
        for (int i = 0; i < k; i++) logProbs[i] = (float)(logits[ids[i]] / (double)temperature - lse);
    }

    // log Σ exp(z·factor) over the entries not flagged in skip (all when skip is empty); −∞ when none remain.
    private static double LogSumExp(ReadOnlySpan<float> z, double factor, ReadOnlySpan<bool> skip)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < z.Length; j++) if (skip.IsEmpty || !skip[j]) max = Math.Max(max, z[j] * factor);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        for (int j = 0; j < z.Length; j++) if (skip.IsEmpty || !skip[j]) sum += Math.Exp(z[j] * factor - max);
        return max + Math.Log(sum);
    }
}
