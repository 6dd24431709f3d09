// The outcome of a perplexity run: the summed negative log-likelihood (nats) of every scored token,
// each scored once, and the normalisations that make models with different tokenizers comparable:
// bits per byte and per character of the text the tokens came from (Gao et al. 2020, "The Pile", §3.1:
// BPB = (L_T / L_B) · log2(e) · loss, i.e. total nats / (bytes · ln 2)).
namespace Loom.Evaluation.Perplexity;

/// <summary>Perplexity, mean NLL and the number of scored tokens.</summary>
public sealed record PerplexityResult
{
    /// <summary>Sum over scored tokens of −ln p(token | its window's earlier tokens), in nats.</summary>
    public required double TotalNll { get; init; }

    /// <summary>Tokens scored, each once: N − 1 for N tokens when stride &lt; context.</summary>
    public required long Tokens { get; init; }

    /// <summary>Windows (forward rows) run.</summary>
    public required int Windows { get; init; }

    /// <summary>Window length used.</summary>
    public required int Context { get; init; }

    /// <summary>Stride used.</summary>
    public required int Stride { get; init; }

    /// <summary>Mean negative log-likelihood per scored token, in nats.</summary>
    public double Nll => TotalNll / Tokens;

    /// <summary>exp(mean NLL).</summary>
    public double Perplexity => Math.Exp(Nll);

    /// <summary>Total NLL in bits over the text's UTF-8 bytes.</summary>
    public double BitsPerByte(long bytes) => bytes > 0 ? TotalNll / (bytes * Math.Log(2)) : double.NaN;

    /// <summary>Total NLL in bits over the text's characters (Unicode scalar values).</summary>
    public double BitsPerCharacter(long characters) => characters > 0 ? TotalNll / (characters * Math.Log(2)) : double.NaN;
}
