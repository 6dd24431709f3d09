// Which content tokens survive when a text is longer than max_length. Sun et al. 2019 ("How to
// Fine-Tune BERT for Text Classification?", §5.3.1) found head+tail — the first 128 and the last 382
// of 510 tokens — best on IMDB: reviews state their topic first and their verdict last.
namespace Loom.Training.Classification;

/// <summary>How a too-long text is cut to fit max_length.</summary>
public enum TruncationPolicy
{
    /// <summary>Keep the first tokens (Hugging Face's default).</summary>
    Head,
    /// <summary>Keep the last tokens.</summary>
    Tail,
    /// <summary>Keep the first 128/510 and the last 382/510 of the budget (Sun et al. 2019).</summary>
    HeadTail,
}
