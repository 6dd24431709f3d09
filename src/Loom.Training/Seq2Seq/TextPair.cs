namespace Loom.Training.Seq2Seq;

/// <summary>One text-to-text example and where it was read (file:line, for error messages).</summary>
public sealed record TextPair(string Source, string Target, string Where);
