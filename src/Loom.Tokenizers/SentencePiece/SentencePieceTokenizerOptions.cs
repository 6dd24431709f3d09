namespace Loom.Tokenizers.SentencePiece;

/// <summary>What <c>addSpecialTokens: true</c> adds around the ids of a SentencePiece tokenizer.</summary>
public sealed record SentencePieceTokenizerOptions
{
    /// <summary>Put &lt;s&gt; first (Llama's tokenizer does; T5's has no &lt;s&gt;). Default false.</summary>
    public bool AddBos { get; init; }

    /// <summary>Append &lt;/s&gt; (T5Tokenizer: ids then &lt;/s&gt;). Default true.</summary>
    public bool AddEos { get; init; } = true;

    /// <summary>
    /// T5Tokenizer's extra_ids: this many sentinels &lt;extra_id_N&gt; get ids after the model's pieces
    /// (&lt;extra_id_0&gt; is the last id), matched whole in text and decoded as their text. Default 0; Load reads it from a
    /// tokenizer_config.json beside a spiece.model that lacks the sentinels.
    /// </summary>
    public int ExtraIds { get; init; }
}
