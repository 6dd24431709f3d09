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
namespace Loom.Inference.Generation;

/// <summary>Chooses tokens from logits under <see cref="SamplingOptions"/>.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _rng;
    private float[] _work = [];
    private float[] _keys = [];
    private int[] _order = [];
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
        var p = _work;
        double total = 0;
        for (int i = 0; i < v; i++) total += p[i];
        double r = _rng.NextDouble() * total, acc = 0;
        int lastKept = -1;
        for (int i = 0; i < v; i++)
        {
            if (p[i] <= 0) continue;
            acc += p[i];
            lastKept = i;
            if (r < acc) return i;
        }
        return lastKept;
    }

    private float[] Ensure(int v)
    {
        if (_work.Length != v) { _work = new float[v]; _keys = new float[v]; _order = new int[v]; _count = new int[v]; }
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
        float max = float.NegativeInfinity;
        for (int i = 0; i < v; i++) max = Math.Max(max, w[i]);
        double sum = 0;
        for (int i = 0; i < v; i++) { w[i] = MathF.Exp((w[i] - max) / o.Temperature); sum += w[i]; }
        float pmax = 0;
        for (int i = 0; i < v; i++) { w[i] = (float)(w[i] / sum); pmax = Math.Max(pmax, w[i]); }
        // 4. min_p
        if (o.MinP > 0f)
        {
            float threshold = o.MinP * pmax;
            for (int i = 0; i < v; i++) if (w[i] < threshold) w[i] = 0f;
        }
        // 5. top-k, then top-p over the renormalised survivors (most likely first; ties by lower id)
        if (o.TopK > 0 || o.TopP < 1f)
        {
            int n = 0;
            for (int i = 0; i < v; i++) if (w[i] > 0) { _keys[n] = -w[i]; _order[n] = i; n++; }
            Array.Sort(_keys, _order, 0, n);
            int keep = o.TopK > 0 ? Math.Min(n, o.TopK) : n;
            if (o.TopP < 1f)
            {
                double kept = 0;
                for (int i = 0; i < keep; i++) kept += -_keys[i];
                double cum = 0;
                for (int i = 0; i < keep; i++)
                {
                    cum += -_keys[i] / kept;
                    if (cum >= o.TopP) { keep = i + 1; break; }
                }
            }
            for (int i = keep; i < n; i++) w[_order[i]] = 0f;
        }
        double total = 0;
        for (int i = 0; i < v; i++) total += w[i];
        for (int i = 0; i < v; i++) w[i] = (float)(w[i] / total);
        return -1;
    }

    private int Probabilities(ReadOnlySpan<float> logits, ReadOnlySpan<int> prompt, ReadOnlySpan<int> generated, float[] into) =>
        Probabilities(logits, prompt, generated, into.AsSpan());

    /// <summary>log softmax of <paramref name="logits"/> (the model's own distribution, before any sampling setting, as vLLM reports it).</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        float log = (float)(max + Math.Log(sum));
        for (int i = 0; i < logits.Length; i++) destination[i] = logits[i] - log;
    }
}
