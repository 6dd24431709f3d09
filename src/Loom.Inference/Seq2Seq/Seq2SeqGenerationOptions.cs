// Settings of one encoder-decoder generation, named after transformers' GenerationConfig: beam search
// (num_beams, length_penalty, early_stopping), no_repeat_ngram_size, max_new_tokens, and sampling
// through the same SamplingOptions the causal generator uses (temperature 0 = greedy).
using Loom.Core.Validation;
using Loom.Inference.Generation;

namespace Loom.Inference.Seq2Seq;

/// <summary>Encoder-decoder generation settings; the defaults are greedy decoding of up to 64 tokens.</summary>
public sealed record Seq2SeqGenerationOptions
{
    /// <summary>Most tokens to generate after the decoder start token (max_new_tokens).</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Beams (num_beams); 1 is greedy decoding or sampling.</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>A finished beam's score is its summed log-probability over length^length_penalty (HF's default 1.0).</summary>
    public float LengthPenalty { get; init; } = 1f;

    /// <summary>When beam search stops (early_stopping; HF's default False = <see cref="BeamEarlyStopping.Heuristic"/>).</summary>
    public BeamEarlyStopping EarlyStopping { get; init; } = BeamEarlyStopping.Heuristic;

    /// <summary>No n-gram of this size occurs twice in the output (no_repeat_ngram_size; 0 = off).</summary>
    public int NoRepeatNgramSize { get; init; }

    /// <summary>
    /// Temperature, top-k, top-p, penalties and seed for num_beams = 1 (temperature 0 = greedy);
    /// beam search reads no sampling setting (HF's do_sample=False beam search).
    /// </summary>
    public SamplingOptions Sampling { get; init; } = new() { Temperature = 0f };

    /// <summary>
    /// Throws naming the option and its value; <paramref name="name"/> maps transformers' snake_case
    /// name ("num_beams") to the caller's ("--num-beams"); by default it is kept.
    /// </summary>
    public void Validate(Func<string, string>? name = null)
    {
        name ??= static n => n;
        Setting.AtLeast(name("max_new_tokens"), MaxNewTokens, 1);
        Setting.AtLeast(name("num_beams"), NumBeams, 1);
        if (!float.IsFinite(LengthPenalty)) throw Setting.Error(name("length_penalty"), LengthPenalty, "a finite number");
        Setting.AtLeast(name("no_repeat_ngram_size"), NoRepeatNgramSize, 0);
        if (NumBeams > 1 && Sampling.Temperature > 0)
            throw new ArgumentException($"{name("num_beams")} is {NumBeams} with {name("temperature")} {Sampling.Temperature}: beam search here is deterministic (HF's do_sample=False); set the temperature to 0 or num_beams to 1.");
        // SamplingOptions names its properties (TopP); ours are snake_case (top_p).
        Sampling.Validate(p => name(string.Concat(p.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()))));
    }
}
