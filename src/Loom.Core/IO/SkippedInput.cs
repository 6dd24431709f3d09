namespace Loom.Core.IO;

/// <summary>A file found in a folder or by a glob that was not read, and why.</summary>
public sealed record SkippedInput(string Path, string Reason);
