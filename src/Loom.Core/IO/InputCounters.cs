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

    /// <summary>One line for the console, or null when nothing was repaired.</summary>
    public string? Warning(string what) => LoneSurrogates == 0 ? null
        : $"{LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800) in {what} were read as U+FFFD.";
}
