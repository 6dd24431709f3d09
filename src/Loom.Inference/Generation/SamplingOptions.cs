// Per-request sampling settings, as OpenAI's and vLLM's request parameters define them. Defaults are
// greedy decoding of up to 64 tokens with nothing else switched on.
namespace Loom.Inference.Generation;

/// <summary>Sampling settings; the defaults are greedy decoding of up to 64 tokens.</summary>
public sealed record SamplingOptions
{
    /// <summary>Most tokens to generate (OpenAI's max_tokens).</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>0 means greedy.</summary>
    public float Temperature { get; init; } = 0f;
    /// <summary>0 means no top-k cut.</summary>
    public int TopK { get; init; } = 0;
    /// <summary>1 means no nucleus cut.</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Drops tokens whose probability is below min_p × the most likely token's (0: off).</summary>
    public float MinP { get; init; } = 0f;
    /// <summary>CTRL's penalty over prompt and generated tokens (1: off).</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    /// <summary>Subtracted once from the logit of every token already generated (OpenAI, −2..2; 0: off).</summary>
    public float PresencePenalty { get; init; } = 0f;
    /// <summary>Subtracted from a token's logit once per time it was generated (OpenAI, −2..2; 0: off).</summary>
    public float FrequencyPenalty { get; init; } = 0f;
    /// <summary>Added to the logits of the given token ids before anything else (OpenAI's logit_bias, −100..100).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
    /// <summary>Text that ends the output; the output is cut before it.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];
    /// <summary>Token ids that end the output (besides the model's end-of-sequence ids); not emitted.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Seed of this request's own random stream.</summary>
    public int Seed { get; init; } = 0;
    /// <summary>Completions to generate for the prompt (each with the seed + its index).</summary>
    public int N { get; init; } = 1;
    /// <summary>Report the log-probability of each chosen token.</summary>
    public bool Logprobs { get; init; }
    /// <summary>Also report the most likely alternatives at each position (0..20).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad setting. NaN and infinities are refused
    /// (every comparison with NaN is false, so each check is written to fail on it). <paramref name="name"/>
    /// maps a property name to the name the user wrote (the CLI and the server pass theirs).
    /// </summary>
    public void Validate(Func<string, string>? name = null)
    {
        name ??= n => n;
        ArgumentException Bad(string property, string what) => new($"{name(property)} {what}", property);
        if (MaxNewTokens < 0) throw Bad(nameof(MaxNewTokens), $"must be ≥ 0; got {MaxNewTokens}.");
        if (!(Temperature >= 0 && float.IsFinite(Temperature))) throw Bad(nameof(Temperature), $"must be a finite number ≥ 0 (0 is greedy); got {Temperature}.");
        if (TopK < 0) throw Bad(nameof(TopK), $"must be ≥ 0 (0: no cut); got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw Bad(nameof(TopP), $"must be in (0, 1] (1: no cut); got {TopP}.");
        if (!(MinP >= 0 && MinP <= 1)) throw Bad(nameof(MinP), $"must be in [0, 1] (0: off); got {MinP}.");
        if (!(RepetitionPenalty > 0 && float.IsFinite(RepetitionPenalty))) throw Bad(nameof(RepetitionPenalty), $"must be a finite number > 0 (1: off); got {RepetitionPenalty}.");
        if (!(PresencePenalty >= -2 && PresencePenalty <= 2)) throw Bad(nameof(PresencePenalty), $"must be in [-2, 2] (0: off); got {PresencePenalty}.");
        if (!(FrequencyPenalty >= -2 && FrequencyPenalty <= 2)) throw Bad(nameof(FrequencyPenalty), $"must be in [-2, 2] (0: off); got {FrequencyPenalty}.");
        if (LogitBias != null)
            foreach (var (id, bias) in LogitBias)
            {
                if (id < 0) throw Bad(nameof(LogitBias), $"has token id {id}; ids are ≥ 0.");
                if (!(bias >= -100 && bias <= 100)) throw Bad(nameof(LogitBias), $"gives token {id} the bias {bias}; a bias must be in [-100, 100].");
            }
        if (StopSequences.Any(string.IsNullOrEmpty)) throw Bad(nameof(StopSequences), "must not contain an empty string.");
        if (StopTokenIds.Any(t => t < 0)) throw Bad(nameof(StopTokenIds), $"has the id {StopTokenIds.First(t => t < 0)}; ids are ≥ 0.");
        if (N < 1 || N > 128) throw Bad(nameof(N), $"must be in [1, 128]; got {N}.");
        if (TopLogprobs < 0 || TopLogprobs > 20) throw Bad(nameof(TopLogprobs), $"must be in [0, 20]; got {TopLogprobs}.");
    }
}
