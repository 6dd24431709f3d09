namespace Loom.Tokenizers.SentencePiece;

/// <summary>
/// A text → ids pipeline other than sentencepiece's own, over the same vocabulary: Hugging Face's tokenizer.json
/// (added tokens, Precompiled normalizer, Metaspace pre-tokenizer, Unigram model, template post-processor).
/// </summary>
internal interface ISentencePiecePipeline
{
    /// <summary>Appends the ids of <paramref name="text"/> (no special tokens) to <paramref name="ids"/>.</summary>
    void Encode(string text, List<int> ids);

    /// <summary>Ids the post-processor puts before a single sequence.</summary>
    int[] PrefixIds { get; }

    /// <summary>Ids the post-processor puts after a single sequence (T5: &lt;/s&gt;).</summary>
    int[] SuffixIds { get; }
}
