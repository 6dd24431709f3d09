namespace Loom.Training.Seq2Seq;

/// <summary>One encoded example: source ids and label ids, each ending with &lt;/s&gt;.</summary>
public sealed record Seq2SeqExample(int[] Source, int[] Labels, string Where);
