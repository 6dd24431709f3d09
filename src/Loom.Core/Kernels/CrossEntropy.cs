// Fused softmax + cross-entropy, forward and backward in one pass over the logits (llm.c's
// fused classifier). For a row with target t:  loss = logsumexp(z) − z_t;
// d loss / d z_j = softmax(z)_j − [j = t].  The mean over counted rows scales the gradient by
// 1/count. Rows whose target equals IgnoreIndex (PyTorch's default −100) add no loss and get a
// zero gradient. The gradient may be written over the logits (dlogits == logits) to save the
// (B·T × V) buffer, as llm.c does.
using System.Numerics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Softmax cross-entropy over rows of logits.</summary>
public static unsafe class CrossEntropy
{
    /// <summary>PyTorch's default ignore index.</summary>
    public const int DefaultIgnoreIndex = -100;

    /// <summary>
    /// Returns the mean loss over rows whose target is not <paramref name="ignoreIndex"/> (0 if
    /// there are none). Writes each row's loss to <paramref name="losses"/> (0 for ignored rows);
    /// when <paramref name="dlogits"/> is not empty, writes the gradient of
    /// <c>gradScale · mean loss</c> with respect to the logits (it may be the logits span itself).
    /// </summary>
    public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab,
        Span<float> losses, Span<float> dlogits, int ignoreIndex = DefaultIgnoreIndex, float gradScale = 1f, WorkerPool? pool = null)
    {
        int rows = Softmax.CheckRows(logits.Length, vocab, "logits");
        Elementwise.CheckLengths(rows, targets.Length, "rows of logits", "targets");
        Elementwise.CheckLengths(rows, losses.Length, "rows of logits", "losses");
        bool backward = !dlogits.IsEmpty;
        if (backward)
        {
            Elementwise.CheckLengths(logits.Length, dlogits.Length, "logits", "dlogits");
            Elementwise.CheckOverlap(logits, dlogits);
        }
        int counted = 0;
        for (int r = 0; r < rows; r++)
        {
            int t = targets[r];
            if (t == ignoreIndex) continue;
            if ((uint)t >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"Target at row {r} is {t}, outside [0, {vocab}) and not the ignore index {ignoreIndex}.");
            counted++;
        }
        float scale = counted == 0 ? 0f : gradScale / counted;
        fixed (float* pz = logits, pl = losses, pd = dlogits)
        fixed (int* pt = targets)
        {
            var k = new Kernel { Z = pz, Loss = pl, D = backward ? pd : null, T = pt, V = vocab, Ignore = ignoreIndex, Scale = scale };
            Ranges.Run(pool, rows, vocab * (backward ? 4L : 2L), k);
        }
        // Sum in row order on one thread: the mean does not depend on the thread count.
        double total = 0;
        for (int r = 0; r < rows; r++) total += losses[r];
        return counted == 0 ? 0f : (float)(total / counted);
    }

    private struct Kernel : IRangeKernel
    {
        public float* Z, Loss, D;
        public int* T;
        public int V, Ignore;
        public float Scale;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* z = Z + (long)r * V;
                int t = T[r];
                if (t == Ignore)
                {
                    Loss[r] = 0f;
                    if (D != null) VectorOps.Clear(D + (long)r * V, V);
                    continue;
                }
                float max = VectorOps.Max(z, V);
                if (D == null)
                {
                    Loss[r] = MathF.Log(VectorOps.SumExpShifted(z, V, max)) + max - z[t];
                    continue;
                }
                // One exp per logit: store e_j = exp(z_j − max) in the gradient row while summing
                // (the row, ≤ 200 KB for a GPT-2 vocabulary, stays in L2), then scale it in place.
                // z[t] is read first because d may overwrite z.
                float* d = D + (long)r * V;
                float zt = z[t];
                float sum = VectorOps.ExpShiftedSum(z, d, V, max);
                Loss[r] = MathF.Log(sum) + max - zt;
                VectorOps.Scale(d, d, V, Scale / sum);
                d[t] -= Scale;
            }
        }
    }
}
