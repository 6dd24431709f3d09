// The encoder half of an encoder-decoder batch (T5, Raffel et al. 2020): B source rows of S ids,
// right-padded, each with its real length (HF's attention_mask is 1 on the first Lengths[b]
// positions and 0 after). Kept apart from PaddedBatch's decoder inputs and labels so that every
// existing batch source and the loop stay as they are.
namespace Loom.Training.Loop;

/// <summary>Source ids (B, S), row-major and right-padded, with each row's real length (B).</summary>
public readonly record struct SourceBatch(int[] Ids, int[] Lengths, int Time);
