namespace Loom.Tokenizers.SentencePiece;

/// <summary>One piece of a segmentation: a byte range of the normalized text and its id (the unknown id for unknown text).</summary>
internal readonly record struct PieceSpan(int Start, int Length, int Id);

/// <summary>The model step of the pipeline: splits normalized UTF-8 into vocabulary pieces (Unigram or BPE).</summary>
internal interface ISentencePieceSegmenter
{
    /// <summary>Appends the pieces of <paramref name="normalized"/>, in order, to <paramref name="output"/>.</summary>
    void Segment(ReadOnlySpan<byte> normalized, List<PieceSpan> output);
}
