// Picks the next token from logits: repetition penalty (Keskar et al. 2019, CTRL: divide positive
// logits, multiply negative ones, for tokens already generated), temperature, top-k, then top-p
// (nucleus, Holtzman et al. 2020: the smallest set of most likely tokens whose probability
// reaches p), then a seeded draw. Temperature 0 is greedy (argmax).
namespace Loom.Inference.Generation;

/// <summary>Sampling settings; the defaults are greedy decoding of up to 64 tokens.</summary>
public sealed record SamplingOptions
{
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>0 means greedy.</summary>
    public float Temperature { get; init; } = 0f;
    /// <summary>0 means no top-k cut.</summary>
    public int TopK { get; init; } = 0;
    /// <summary>1 means no nucleus cut.</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>1 means no penalty.</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    public IReadOnlyList<string> StopSequences { get; init; } = [];
    public int Seed { get; init; } = 0;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad setting. NaN and infinities are refused
    /// (every comparison with NaN is false, so each check is written to fail on it). <paramref name="name"/>
    /// maps a property name to the name the user wrote (the CLI passes its option names).
    /// </summary>
    public void Validate(Func<string, string>? name = null)
    {
        name ??= n => n;
        if (MaxNewTokens < 0) throw new ArgumentException($"{name(nameof(MaxNewTokens))} must be ≥ 0; got {MaxNewTokens}.", nameof(MaxNewTokens));
        if (!(Temperature >= 0 && float.IsFinite(Temperature)))
            throw new ArgumentException($"{name(nameof(Temperature))} must be a finite number ≥ 0 (0 is greedy); got {Temperature}.", nameof(Temperature));
        if (TopK < 0) throw new ArgumentException($"{name(nameof(TopK))} must be ≥ 0 (0: no cut); got {TopK}.", nameof(TopK));
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"{name(nameof(TopP))} must be in (0, 1] (1: no cut); got {TopP}.", nameof(TopP));
        if (!(RepetitionPenalty > 0 && float.IsFinite(RepetitionPenalty)))
            throw new ArgumentException($"{name(nameof(RepetitionPenalty))} must be a finite number > 0 (1: off); got {RepetitionPenalty}.", nameof(RepetitionPenalty));
        if (StopSequences.Any(string.IsNullOrEmpty)) throw new ArgumentException($"{name(nameof(StopSequences))} must not contain an empty string.", nameof(StopSequences));
    }
}

/// <summary>Chooses tokens from logits under <see cref="SamplingOptions"/>.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _rng;
    private float[] _work = [];
    private int[] _order = [];

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _rng = new Random(options.Seed);
    }

    /// <summary>The next token given <paramref name="logits"/> (one row) and the tokens so far.</summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> previous)
    {
        int v = logits.Length;
        if (_work.Length != v) { _work = new float[v]; _order = new int[v]; }
        logits.CopyTo(_work);
        if (_options.RepetitionPenalty != 1f)
            foreach (int t in previous)
                if ((uint)t < (uint)v) _work[t] = _work[t] > 0 ? _work[t] / _options.RepetitionPenalty : _work[t] * _options.RepetitionPenalty;
        if (_options.Temperature == 0f) return ArgMax(_work);

        float max = float.NegativeInfinity;
        for (int i = 0; i < v; i++) max = Math.Max(max, _work[i]);
        double sum = 0;
        for (int i = 0; i < v; i++) { _work[i] = MathF.Exp((_work[i] - max) / _options.Temperature); sum += _work[i]; }
        for (int i = 0; i < v; i++) { _order[i] = i; _work[i] = (float)(_work[i] / sum); }
        int keep = v;
        if (_options.TopK > 0 || _options.TopP < 1f)
        {
            var probs = _work;
            Array.Sort(_order, (a, b) => probs[b].CompareTo(probs[a]) != 0 ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));
            if (_options.TopK > 0) keep = Math.Min(keep, _options.TopK);
            if (_options.TopP < 1f)
            {
                double cum = 0;
                for (int i = 0; i < keep; i++)
                {
                    cum += probs[_order[i]];
                    if (cum >= _options.TopP) { keep = i + 1; break; }
                }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += _work[_order[i]];
        double r = _rng.NextDouble() * total, acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += _work[_order[i]];
            if (r < acc) return _order[i];
        }
        return _order[keep - 1];
    }

    private static int ArgMax(float[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
