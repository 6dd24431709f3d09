// What one `loom` child process of the finetune suite measured.
namespace Loom.Bench.Suites.Finetune;

/// <summary>One finished `loom` command: wall seconds and max RSS in bytes (null without /usr/bin/time).</summary>
internal sealed record LoomRun(double WallSeconds, long? MaxRssBytes);
