namespace Loom.Core.IO;

/// <summary>The files an input list names (in a stable order), and the entries of its folders and globs that were skipped.</summary>
public sealed record InputSelection(IReadOnlyList<string> Files, IReadOnlyList<SkippedInput> Skipped);
