// One example ready for batching: token ids (specials included), token types, its target, and its
// index among the examples it was encoded from (for the worst-examples table and for folds).
namespace Loom.Training.Classification;

/// <summary>A tokenised example.</summary>
/// <param name="Ids">Token ids with the family's specials, unpadded.</param>
/// <param name="TypeIds">Segment ids (BERT's token_type_ids), same length; all zero for single texts and causal families.</param>
/// <param name="Class">Class id (single-label), else −1.</param>
/// <param name="Targets">0/1 per label (multi-label) or target values (regression); null for single-label.</param>
/// <param name="Index">Position in the example list it came from.</param>
/// <param name="Truncated">True when content tokens were cut to fit max_length.</param>
public sealed record EncodedExample(int[] Ids, int[] TypeIds, int Class, float[]? Targets, int Index, bool Truncated);
