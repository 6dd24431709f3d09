// The decoder state of one encoder-decoder generation: the encoder output's cross-attention keys and
// values (computed once) and the self-attention keys and values of every hypothesis row so far.
namespace Loom.Models;

/// <summary>Cached decoder state of <see cref="Rows"/> hypotheses over one encoded source.</summary>
public interface ISeq2SeqDecoderCache : IDisposable
{
    /// <summary>Hypotheses decoded side by side (beams).</summary>
    int Rows { get; }

    /// <summary>Most decoder positions the cache holds.</summary>
    int Capacity { get; }

    /// <summary>Decoder positions cached so far.</summary>
    int Length { get; }

    /// <summary>
    /// Beam search's reorder (transformers' _reorder_cache): row r takes the cached positions of row
    /// <paramref name="sourceRows"/>[r]. Rows may be repeated or dropped.
    /// </summary>
    void Reorder(ReadOnlySpan<int> sourceRows);
}
