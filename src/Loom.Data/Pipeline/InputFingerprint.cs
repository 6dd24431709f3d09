// What a curation plan records of each input file, so that a rerun into the same --output can tell
// whether an input changed since its shards were mapped: size, modification time and the SHA-256
// of the whole content. The hash is computed only when size or time differ from the plan's (or on
// the first run): same size and time means unchanged, as make and rsync's quick check assume, and a
// differing time with the same hash (a `touch`, a re-download of the same bytes) is not a change.
using System.Security.Cryptography;

namespace Loom.Data.Pipeline;

/// <summary>One input file as a curation plan records it.</summary>
public sealed record InputFingerprint(string Path, long Size, long ModifiedTicks, string Sha256)
{
    /// <summary>The fingerprint of <paramref name="path"/>, reusing <paramref name="previous"/>'s hash when size and time match.</summary>
    public static InputFingerprint Of(string path, InputFingerprint? previous)
    {
        var info = new FileInfo(path);
        long size = info.Length, ticks = info.LastWriteTimeUtc.Ticks;
        if (previous is { } p && p.Path == path && p.Size == size && p.ModifiedTicks == ticks) return p;
        string hash;
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            hash = Convert.ToHexStringLower(SHA256.HashData(s));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"--input {path} cannot be read (permission denied); fix its permissions or leave it out.", e);
        }
        return new InputFingerprint(path, size, ticks, hash);
    }

    /// <summary>True when the content is the same (the time may differ).</summary>
    public bool SameContent(InputFingerprint other) => Path == other.Path && Size == other.Size && Sha256 == other.Sha256;
}
