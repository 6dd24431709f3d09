// The seam attribution methods need from a body: move its input along a path in word-embedding
// space and read the gradient with respect to that input. Integrated gradients (Sundararajan et al.
// 2017, eq. 1) with the all-zero embedding as baseline walks x(α) = α·word[ids] for α in [0, 1]; the
// scale is per sequence so the path's steps run as one batch. Position and token-type embeddings
// are not scaled (they carry no word), so the baseline is "the same positions, no words".
namespace Loom.Models;

/// <summary>A body whose word-embedding rows can be scaled on the way in, with their gradient kept on the way out.</summary>
public interface IWordEmbeddingGradient
{
    /// <summary>
    /// α per sequence for the next forwards (B values): the body reads α_b·word[ids] in place of
    /// word[ids]. Empty restores 1 for every sequence (the model as trained).
    /// </summary>
    void SetWordEmbeddingScales(ReadOnlySpan<float> perSequence);

    /// <summary>Whether the next backwards keep the gradient with respect to the (scaled) word-embedding rows.</summary>
    bool KeepWordEmbeddingGradient { get; set; }

    /// <summary>(B·T, C): the gradient of the last backward with respect to the word-embedding rows it read.</summary>
    ReadOnlySpan<float> WordEmbeddingGradient { get; }

    /// <summary>Writes the unscaled word-embedding rows of <paramref name="ids"/> into <paramref name="rows"/> (ids.Length·C).</summary>
    void WordEmbeddings(ReadOnlySpan<int> ids, Span<float> rows);
}
