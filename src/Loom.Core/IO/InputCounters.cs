// Counts of input that was repaired while reading (rather than refused), for a command to report on
// its console — never in its data output. Shared by the readers of every command.
namespace Loom.Core.IO;

/// <summary>Repairs made while reading input; thread-safe.</summary>
public sealed class InputCounters
{
    private long _loneSurrogates;

    /// <summary>JSON \u escapes of a lone UTF-16 surrogate (e.g. "\ud800", which Python's json.dumps writes), read as U+FFFD.</summary>
    public long LoneSurrogates => Interlocked.Read(ref _loneSurrogates);

    /// <summary>Adds <paramref name="count"/> lone surrogates.</summary>
    public void AddLoneSurrogates(long count)
    {
        if (count != 0) Interlocked.Add(ref _loneSurrogates, count);
    }

    private long _invalidUtf8;

    /// <summary>Byte sequences that are not UTF-8 (each maximal bad sequence once), read as U+FFFD.</summary>
    public long InvalidUtf8 => Interlocked.Read(ref _invalidUtf8);

    /// <summary>Adds <paramref name="count"/> invalid UTF-8 sequences.</summary>
    public void AddInvalidUtf8(long count)
    {
        if (count != 0) Interlocked.Add(ref _invalidUtf8, count);
    }

    /// <summary>One line for the console, or null when nothing was repaired.</summary>
    public string? Warning(string what)
    {
        var parts = new List<string>(2);
        if (LoneSurrogates != 0) parts.Add($"{LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800)");
        if (InvalidUtf8 != 0) parts.Add($"{InvalidUtf8:N0} invalid UTF-8 byte sequence(s)");
        return parts.Count == 0 ? null : $"{string.Join(" and ", parts)} in {what} were read as U+FFFD.";
    }
}
