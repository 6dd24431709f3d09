// metrics.jsonl is one JSON object per line: {"type": "train"|"skip", "step": n, ...} after optimizer
// step n, {"type": "eval", "step": s, ...} for the evaluation run before step s+1 (and the final one).
// A run resumed from the checkpoint of step S replays everything after S, so the lines after S are cut
// first: the file then reads as if the run had never stopped, each step once, in order.
using System.Text;
using System.Text.Json;
using Loom.Core.IO;

namespace Loom.Training.Loop;

/// <summary>Keeps metrics.jsonl consistent across resumes.</summary>
public static class MetricsLog
{
    /// <summary>
    /// Cuts <paramref name="path"/> to the lines a run had written when it completed <paramref name="step"/>
    /// steps: train/skip lines up to that step and evaluations before it (the resumed run evaluates at
    /// <paramref name="step"/> again). The first line that breaks this — or a torn last line — and all
    /// after it go. Written durably; absent files stay absent.
    /// </summary>
    public static void TruncateToStep(string path, int step)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        int keep = 0;
        while (keep < lines.Length && Belongs(lines[keep], step)) keep++;
        if (keep == lines.Length) return;
        var text = new StringBuilder();
        for (int i = 0; i < keep; i++) text.Append(lines[i]).Append('\n');
        DurableFile.WriteAllText(path, text.ToString());
    }

    private static bool Belongs(string line, int step)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("step", out var s) || !s.TryGetInt64(out long n)) return false;
            string? type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return type == "eval" ? n < step : n <= step;
        }
        catch (JsonException) { return false; }
    }
}
