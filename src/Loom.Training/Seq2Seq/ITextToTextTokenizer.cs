// What text-to-text training and evaluation need from a tokenizer (T5's SentencePiece
// T5Tokenizer): content ids without specials, </s> and pad, decoding that skips specials, and the
// sentinels <extra_id_N> of span corruption. Kept this small so any tokenizer family can be adapted.
namespace Loom.Training.Seq2Seq;

/// <summary>A tokenizer for encoder-decoder (text-to-text) models.</summary>
public interface ITextToTextTokenizer
{
    /// <summary>Appends the ids of <paramref name="text"/>, no special tokens (no &lt;/s&gt;).</summary>
    void Encode(string text, List<int> ids);

    /// <summary>The text of <paramref name="ids"/>, special tokens (pad, &lt;/s&gt;, sentinels) left out.</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>&lt;/s&gt;, which ends every source and target.</summary>
    int EosId { get; }

    /// <summary>&lt;pad&gt; (T5: 0, also the decoder start token).</summary>
    int PadId { get; }

    /// <summary>The id of &lt;extra_id_0&gt; (T5: len(tokenizer) − 1); sentinel k is this − k. −1 when there are none.</summary>
    int FirstSentinelId { get; }

    /// <summary>How many &lt;extra_id_N&gt; sentinels the vocabulary holds (T5: 100).</summary>
    int SentinelCount { get; }
}
