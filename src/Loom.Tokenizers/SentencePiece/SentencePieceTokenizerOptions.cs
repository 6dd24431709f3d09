namespace Loom.Tokenizers.SentencePiece;

/// <summary>What <c>addSpecialTokens: true</c> adds around the ids of a SentencePiece tokenizer.</summary>
public sealed record SentencePieceTokenizerOptions
{
    /// <summary>Put &lt;s&gt; first (Llama's tokenizer does; T5's has no &lt;s&gt;). Default false.</summary>
    public bool AddBos { get; init; }

    /// <summary>Append &lt;/s&gt; (T5Tokenizer: ids then &lt;/s&gt;). Default true.</summary>
    public bool AddEos { get; init; } = true;
}
