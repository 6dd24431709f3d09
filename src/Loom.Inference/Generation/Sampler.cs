// Picks the next token from one row of logits, in the order vLLM applies its sampling parameters:
//   1. logit_bias added (OpenAI);
//   2. penalties — repetition (Keskar et al. 2019, CTRL: divide positive logits, multiply negative
//      ones, for every token of the prompt or the output), then presence and frequency (OpenAI:
//      logit −= frequency·count + presence·[count > 0], over the generated tokens);
//   3. temperature (0: greedy, the argmax of the penalised logits);
//   4. min_p (Nguyen et al. 2024): drop tokens whose probability is below min_p × the largest;
//   5. top-k, then top-p (nucleus, Holtzman et al. 2020) on the renormalised survivors: the smallest
//      set of most likely tokens whose probability reaches p;
//   6. a draw from this request's own seeded random stream, so a request's tokens do not depend on
//      what else is batched with it.
// Each sequence owns one Sampler; its buffers are sized to the vocabulary once and reused.
using System.Numerics.Tensors;

namespace Loom.Inference.Generation;

/// <summary>Chooses tokens from logits under <see cref="SamplingOptions"/>.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _rng;
    private float[] _work = [];
    private long[] _keys64 = [];
    private int[] _count = [];

    public Sampler(SamplingOptions options) : this(options, options.Seed) { }

    /// <summary>A sampler drawing from a stream seeded with <paramref name="seed"/> (the n-th of n completions uses seed + n).</summary>
    public Sampler(SamplingOptions options, int seed)
    {
        options.Validate();
        _options = options;
        _rng = new Random(seed);
    }

    /// <summary>The options it samples under.</summary>
    public SamplingOptions Options => _options;

    /// <summary>The next token given <paramref name="logits"/> (one row) and the tokens generated so far.</summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> previous) => Next(logits, default, previous);

    /// <summary>The next token given <paramref name="logits"/>, the prompt and the tokens generated so far.</summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> prompt, ReadOnlySpan<int> generated)
    {
        int v = logits.Length;
        int greedy = Probabilities(logits, prompt, generated, Ensure(v));
        if (greedy >= 0) return greedy;
        // Inverse-CDF draw: the first id whose running sum passes r. Whole blocks of 256 are summed with
        // SIMD and skipped while the sum stays below r; only the block holding the draw is walked one by one.
        var p = _work.AsSpan(0, v);
        double total = TensorPrimitives.Sum(p);
        double r = _rng.NextDouble() * total, acc = 0;
        const int Block = 256;
        int i = 0;
        for (; i + Block <= v; i += Block)
        {
            double block = TensorPrimitives.Sum(p.Slice(i, Block));
            if (acc + block > r) break;
            acc += block;
        }
        for (; i < v; i++)
        {
            if (p[i] <= 0) continue;
            acc += p[i];
            if (r < acc) return i;
        }
        // Rounding left r at or past the last sum: the last token that can be drawn.
        for (int j = v - 1; j >= 0; j--) if (p[j] > 0) return j;
        return v - 1;
    }

    private float[] Ensure(int v)
    {
        if (_work.Length != v) { _work = new float[v]; _keys64 = new long[v]; _count = new int[v]; }
        return _work;
    }

    /// <summary>
    /// Writes to <paramref name="probabilities"/> the distribution the next token is drawn from (masked
    /// tokens 0, the rest renormalised to sum 1). With temperature 0 it is one-hot on the argmax, and
    /// the argmax is returned; otherwise −1.
    /// </summary>
    public int Probabilities(ReadOnlySpan<float> logits, ReadOnlySpan<int> prompt, ReadOnlySpan<int> generated, Span<float> probabilities)
    {
        int v = logits.Length;
        if (probabilities.Length != v) throw new ArgumentException($"probabilities has {probabilities.Length} entries; the logits have {v}.");
        Ensure(v);
        var w = probabilities;
        logits.CopyTo(w);
        var o = _options;
        // 1. logit_bias
        if (o.LogitBias != null)
            foreach (var (id, bias) in o.LogitBias)
                if ((uint)id < (uint)v) w[id] += bias;
        // 2. penalties
        if (o.RepetitionPenalty != 1f)
        {
            // each distinct token once: mark with the count array, then clear the marks
            foreach (int t in prompt) if ((uint)t < (uint)v && _count[t] == 0) { _count[t] = 1; w[t] = w[t] > 0 ? w[t] / o.RepetitionPenalty : w[t] * o.RepetitionPenalty; }
            foreach (int t in generated) if ((uint)t < (uint)v && _count[t] == 0) { _count[t] = 1; w[t] = w[t] > 0 ? w[t] / o.RepetitionPenalty : w[t] * o.RepetitionPenalty; }
            foreach (int t in prompt) if ((uint)t < (uint)v) _count[t] = 0;
            foreach (int t in generated) if ((uint)t < (uint)v) _count[t] = 0;
        }
        if (o.PresencePenalty != 0f || o.FrequencyPenalty != 0f)
        {
            foreach (int t in generated) if ((uint)t < (uint)v) _count[t]++;
            foreach (int t in generated)
                if ((uint)t < (uint)v && _count[t] > 0)
                {
                    w[t] -= o.FrequencyPenalty * _count[t] + o.PresencePenalty;
                    _count[t] = 0;   // applied once per distinct token
                }
        }
        // 3. temperature
        if (o.Temperature == 0f)
        {
            int best = 0;
            for (int i = 1; i < v; i++) if (w[i] > w[best]) best = i;
            w.Clear();
            w[best] = 1f;
            return best;
        }
        // Softmax at the temperature, vectorised (a few passes over V with SIMD exp instead of scalar ones:
        // this runs for every sequence of every decode step on the engine's one thread).
        float max = TensorPrimitives.Max(w);
        TensorPrimitives.Subtract(w, max, w);
        TensorPrimitives.Multiply(w, 1f / o.Temperature, w);
        TensorPrimitives.Exp(w, w);
        TensorPrimitives.Multiply(w, 1f / TensorPrimitives.Sum(w), w);
        // 4. min_p
        if (o.MinP > 0f)
        {
            float threshold = o.MinP * TensorPrimitives.Max(w);
            for (int i = 0; i < v; i++) if (w[i] < threshold) w[i] = 0f;
        }
        // 5. top-k, then top-p over the renormalised survivors (most likely first; ties by lower id)
        if (o.TopK > 0 || o.TopP < 1f) Cut(w, o.TopK, o.TopP);
        TensorPrimitives.Multiply(w, 1f / TensorPrimitives.Sum(w), w);
        return -1;
    }

    // Top-k and top-p without sorting the vocabulary: each survivor is one long key — (probability
    // descending, id ascending) as (int.MaxValue − bits of p) << 32 | id, since the bits of a positive
    // float order as the float does — so keys are distinct and compare in one instruction. Top-k
    // moves the k smallest keys to the front with a quickselect (Hoare's FIND) and sorts only those;
    // top-p narrows the same way by probability mass — a partition whose front holds less than the
    // nucleus's mass is kept whole, one holding more is searched — and sorts only the part that holds
    // the boundary, so a peaked distribution touches a few hundred keys instead of sorting 50,257.
    private void Cut(Span<float> w, int topK, float topP)
    {
        var keys = _keys64;
        int n = 0;
        for (int i = 0; i < w.Length; i++)
            if (w[i] > 0) keys[n++] = ((long)(int.MaxValue - BitConverter.SingleToInt32Bits(w[i])) << 32) | (uint)i;
        int keep = n;
        if (topK > 0 && topK < n)
        {
            SelectSmallest(keys, n, topK);
            keep = topK;
        }
        if (topP < 1f)
        {
            double kept = 0;
            for (int j = 0; j < keep; j++) kept += w[(int)keys[j]];
            // One test of "the nucleus is complete" everywhere, so narrowing and scanning agree.
            bool Reached(double mass) => mass / kept >= topP;
            double before = 0;   // mass of keys[0, lo), all in the nucleus
            int lo = 0, hi = keep, boundary = -1;
            while (boundary < 0)
            {
                while (hi - lo > 64)
                {
                    int m = Partition(keys, lo, hi);
                    double mass = 0;
                    for (int j = lo; j < m; j++) mass += w[(int)keys[j]];
                    if (Reached(before + mass)) { hi = m; continue; }   // the nucleus ends inside [lo, m)
                    before += mass + w[(int)keys[m]];                    // [lo, m] all kept
                    if (Reached(before)) { boundary = m + 1; break; }    // ... and the pivot completes it
                    lo = m + 1;
                }
                if (boundary >= 0) break;
                Array.Sort(keys, lo, hi - lo);
                for (int j = lo; j < hi && boundary < 0; j++)
                {
                    before += w[(int)keys[j]];
                    if (Reached(before)) boundary = j + 1;
                }
                if (boundary >= 0) break;
                if (hi == keep) { boundary = keep; break; }   // rounding left it just short: keep everything
                lo = hi;      // summed in another order the block fell just short: go on past it
                hi = keep;
            }
            for (int j = boundary; j < keep; j++) w[(int)keys[j]] = 0f;
            keep = boundary;
        }
        for (int j = keep; j < n; j++) w[(int)keys[j]] = 0f;
    }

    // Moves the `count` smallest of keys[0, n) to keys[0, count), sorted.
    private static void SelectSmallest(long[] keys, int n, int count)
    {
        int lo = 0, hi = n;
        while (hi - lo > 64)
        {
            int m = Partition(keys, lo, hi);
            if (m == count) break;
            if (m > count) hi = m; else lo = m + 1;
        }
        if (lo < count && hi - lo <= 64) Array.Sort(keys, lo, hi - lo);
        Array.Sort(keys, 0, count);
    }

    // Lomuto partition of keys[lo, hi) around the median of three: returns m with keys[lo, m) < keys[m] < keys(m, hi).
    private static int Partition(long[] keys, int lo, int hi)
    {
        int mid = lo + (hi - lo) / 2, last = hi - 1;
        if (keys[mid] < keys[lo]) (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
        if (keys[last] < keys[lo]) (keys[last], keys[lo]) = (keys[lo], keys[last]);
        if (keys[last] < keys[mid]) (keys[last], keys[mid]) = (keys[mid], keys[last]);
        (keys[mid], keys[last]) = (keys[last], keys[mid]);   // the median is the pivot, parked at the end
        long pivot = keys[last];
        int store = lo;
        for (int j = lo; j < last; j++)
            if (keys[j] < pivot) { (keys[j], keys[store]) = (keys[store], keys[j]); store++; }
        (keys[store], keys[last]) = (keys[last], keys[store]);
        return store;
    }

    private int Probabilities(ReadOnlySpan<float> logits, ReadOnlySpan<int> prompt, ReadOnlySpan<int> generated, float[] into) =>
        Probabilities(logits, prompt, generated, into.AsSpan());

    /// <summary>log softmax of <paramref name="logits"/> (the model's own distribution, before any sampling setting, as vLLM reports it).</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        // log p_i = x_i − (max + log Σ exp(x_j − max)), vectorised; destination holds exp(x − max) on the way.
        if (destination.Length < logits.Length) throw new ArgumentException($"destination has {destination.Length} entries; the logits have {logits.Length}.");
        var d = destination[..logits.Length];
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, d);
        TensorPrimitives.Exp(d, d);
        float log = max + MathF.Log(TensorPrimitives.Sum(d));
        TensorPrimitives.Subtract(logits, log, d);
    }
}
