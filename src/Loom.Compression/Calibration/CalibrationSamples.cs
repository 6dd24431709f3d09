// Calibration text → token windows. The reference implementations draw 128 random 2048-token windows
// from C4; Loom takes N windows of the model's context length spread evenly over the file (the first at
// its start), so a run is reproducible without a seed and covers the whole text.
using Loom.Tokenizers;

namespace Loom.Compression.Calibration;

/// <summary>Token windows for calibration.</summary>
public static class CalibrationSamples
{
    /// <summary>
    /// Up to <paramref name="samples"/> windows of <paramref name="length"/> + 1 tokens (inputs and next-token
    /// targets) from <paramref name="ids"/>, evenly spaced; fewer when the text is too short.
    /// </summary>
    public static IReadOnlyList<int[]> Windows(ReadOnlySpan<int> ids, int samples, int length, string source)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"--samples must be ≥ 1; got {samples}.");
        int available = (ids.Length - 1) / length;
        if (available < 1)
            throw new InvalidDataException($"{source} holds {ids.Length} tokens, fewer than one window of {length} + 1 (the model's n_positions); give a longer calibration text.");
        int n = Math.Min(samples, available);
        // Spread the starts over [0, ids.Length − length − 1] without overlap.
        long span = ids.Length - length - 1;
        var windows = new List<int[]>(n);
        for (int i = 0; i < n; i++)
        {
            long start = n == 1 ? 0 : span * i / (n - 1);
            windows.Add(ids.Slice((int)start, length + 1).ToArray());
        }
        return windows;
    }

    /// <summary>Tokenizes <paramref name="path"/> (UTF-8 text) with <paramref name="tokenizer"/> and cuts windows.</summary>
    public static IReadOnlyList<int[]> FromFile(string path, BpeTokenizer tokenizer, int samples, int length)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--calibration {path} does not exist; give a UTF-8 text file.", path);
        var ids = tokenizer.EncodeOrdinary(File.ReadAllText(path));
        return Windows(ids, samples, length, path);
    }
}
