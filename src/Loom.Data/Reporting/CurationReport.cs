// The audit of a curation run: counts per stage and reason, redactions per type, length histograms
// before and after, duplicate-cluster sizes, and rates; written as report.json and a self-contained
// report.html (inline SVG bar charts, no scripts, no network).
using Loom.Core.IO;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Loom.Data.Pipeline;

namespace Loom.Data.Reporting;

/// <summary>Document lengths (characters) in fixed log-spaced bins.</summary>
public sealed class Histogram
{
    /// <summary>Lower edges of the bins.</summary>
    public static readonly int[] Edges = [0, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000];

    /// <summary>Documents per bin.</summary>
    public long[] Counts { get; set; } = new long[Edges.Length];

    public void Add(int length)
    {
        int b = Array.BinarySearch(Edges, length);
        Counts[b >= 0 ? b : ~b - 1]++;
    }

    public void Merge(Histogram other)
    {
        for (int i = 0; i < Counts.Length; i++) Counts[i] += other.Counts[i];
    }

    /// <summary>Bin labels ("0–99", ..., "100000+").</summary>
    public static IEnumerable<string> Labels => Edges.Select((e, i) => i + 1 < Edges.Length ? $"{e}–{Edges[i + 1] - 1}" : $"{e}+");
}

/// <summary>What one shard's map phase saw.</summary>
public sealed class ShardStatistics
{
    public long Read { get; set; }
    public long Survived { get; set; }
    public long CharactersIn { get; set; }
    public long Quarantined { get; set; }
    public long InvalidUtf8 { get; set; }
    public long LoneSurrogates { get; set; }
    public Dictionary<string, long> RemovedByStage { get; set; } = new();
    public Dictionary<string, long> RemovedByReason { get; set; } = new();
    public Dictionary<string, long> Redactions { get; set; } = new();
    public Histogram LengthsIn { get; set; } = new();

    public void Remove(string stage, string reason, long count = 1)
    {
        if (count == 0) return;
        RemovedByStage[stage] = RemovedByStage.GetValueOrDefault(stage) + count;
        RemovedByReason[reason] = RemovedByReason.GetValueOrDefault(reason) + count;
    }

    public static ShardStatistics Sum(IEnumerable<ShardStatistics> parts)
    {
        var t = new ShardStatistics();
        foreach (var p in parts)
        {
            t.Read += p.Read; t.Survived += p.Survived; t.CharactersIn += p.CharactersIn; t.Quarantined += p.Quarantined; t.InvalidUtf8 += p.InvalidUtf8; t.LoneSurrogates += p.LoneSurrogates;
            foreach (var (k, v) in p.RemovedByStage) t.RemovedByStage[k] = t.RemovedByStage.GetValueOrDefault(k) + v;
            foreach (var (k, v) in p.RemovedByReason) t.RemovedByReason[k] = t.RemovedByReason.GetValueOrDefault(k) + v;
            foreach (var (k, v) in p.Redactions) t.Redactions[k] = t.Redactions.GetValueOrDefault(k) + v;
            t.LengthsIn.Merge(p.LengthsIn);
        }
        return t;
    }
}

/// <summary>The report of a run.</summary>
public sealed class CurationReport
{
    public long Documents { get; set; }
    public long Kept { get; set; }
    public long CharactersIn { get; set; }
    public long CharactersOut { get; set; }
    public List<string> Stages { get; set; } = [];
    public Dictionary<string, long> RemovedByStage { get; set; } = new();
    public Dictionary<string, long> RemovedByReason { get; set; } = new();
    public Dictionary<string, long> Redactions { get; set; } = new();
    /// <summary>Records that could not be read as documents (malformed JSON, a missing field, an unterminated CSV quote, ...); see quarantine.jsonl.</summary>
    public long Quarantined { get; set; }
    public long InvalidUtf8 { get; set; }
    /// <summary>JSON escapes of lone UTF-16 surrogates ("\ud800") read as U+FFFD.</summary>
    public long LoneSurrogates { get; set; }
    /// <summary>Entries of input folders and globs that were not read (FIFOs, sockets, devices, dangling links), with the reason.</summary>
    public List<SkippedInput> SkippedInputs { get; set; } = [];
    /// <summary>Inputs whose content (or presence) changed since an earlier run into the same output; every shard was mapped again.</summary>
    public List<string> ChangedInputs { get; set; } = [];
    public Histogram LengthsBefore { get; set; } = new();
    public Histogram LengthsAfter { get; set; } = new();
    /// <summary>Near-duplicate clusters by size ("2": 31 clusters of two, ...).</summary>
    public Dictionary<string, int> DuplicateClusterSizes { get; set; } = new();
    public int Shards { get; set; }
    /// <summary>Merge-time memory per document held throughout (where its signature lies, union-find parent, duplicate-of, verdict).</summary>
    public int IndexBytesPerDocument { get; set; }
    /// <summary>On-disk (memory-mapped) signature bytes per document.</summary>
    public int SignatureBytesPerDocument { get; set; }
    /// <summary>Bytes per document of the largest merge sort table (held in memory up to dedup.max_sort_megabytes).</summary>
    public int SortBytesPerDocument { get; set; }
    /// <summary>Sorted runs the merge wrote to disk because a sort table exceeded its memory.</summary>
    public int SortSpills { get; set; }
    public double MapSeconds { get; set; }
    public double MergeSeconds { get; set; }

    /// <summary>Writes report.json and report.html into <paramref name="directory"/>.</summary>
    public void Write(string directory)
    {
        DurableFile.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(this, CurationConfig.Json));
        DurableFile.WriteAllText(Path.Combine(directory, "report.html"), Html());
    }

    private string Html()
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Loom curation report</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}td:first-child,th:first-child{text-align:left}")
          .Append("</style></head><body><h1>Curation report</h1>");
        sb.Append(CultureInfo.InvariantCulture, $"<p><b>{Kept:N0}</b> of <b>{Documents:N0}</b> documents kept ({(Documents == 0 ? 0 : 100.0 * Kept / Documents):F1}%); characters {CharactersIn:N0} → {CharactersOut:N0}. ")
          .Append(CultureInfo.InvariantCulture, $"{Quarantined:N0} malformed records quarantined (not counted as documents); {InvalidUtf8:N0} invalid UTF-8 sequences and {LoneSurrogates:N0} lone-surrogate escapes replaced by U+FFFD. {Shards} shards, map {MapSeconds:F1} s, merge {MergeSeconds:F1} s; de-duplication index {IndexBytesPerDocument} B per document in memory, sort tables {SortBytesPerDocument} B per document ({SortSpills} runs spilled to disk), signatures {SignatureBytesPerDocument} B per document on disk.</p>");
        if (SkippedInputs.Count > 0)
            sb.Append("<h2>Skipped inputs</h2><ul>").AppendJoin("", SkippedInputs.Select(x => $"<li>{E(x.Path)}: {E(x.Reason)}</li>")).Append("</ul>");
        if (ChangedInputs.Count > 0)
            sb.Append("<h2>Inputs changed since the previous run (all shards redone)</h2><ul>").AppendJoin("", ChangedInputs.Select(x => $"<li>{E(x)}</li>")).Append("</ul>");
        sb.Append("<h2>Removed per stage</h2>").Append(Bars(Stages.Select(s => (s, (double)RemovedByStage.GetValueOrDefault(s))).ToList()));
        sb.Append("<h2>Removal reasons</h2>").Append(Bars(RemovedByReason.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, (double)kv.Value)).ToList()));
        if (Redactions.Count > 0) sb.Append("<h2>PII redactions</h2>").Append(Bars(Redactions.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, (double)kv.Value)).ToList()));
        sb.Append("<h2>Document length (characters), before</h2>").Append(Bars(Histogram.Labels.Zip(LengthsBefore.Counts, (l, c) => (l, (double)c)).ToList()));
        sb.Append("<h2>Document length (characters), kept</h2>").Append(Bars(Histogram.Labels.Zip(LengthsAfter.Counts, (l, c) => (l, (double)c)).ToList()));
        sb.Append("<h2>Near-duplicate cluster sizes</h2>");
        sb.Append(DuplicateClusterSizes.Count == 0 ? "<p>No near-duplicate clusters.</p>" : Bars(DuplicateClusterSizes.Select(kv => ($"size {kv.Key}", (double)kv.Value)).ToList()));
        sb.Append("</body></html>");
        return sb.ToString();

        static string Bars(List<(string Label, double Value)> rows)
        {
            if (rows.Count == 0) return "<p>None.</p>";
            double max = Math.Max(1, rows.Max(r => r.Value));
            int h = 20 * rows.Count + 10;
            var s = new StringBuilder();
            s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{h}\" role=\"img\">");
            for (int i = 0; i < rows.Count; i++)
            {
                double w = 440 * rows[i].Value / max;
                int y = 5 + 20 * i;
                s.Append(CultureInfo.InvariantCulture, $"<text x=\"200\" y=\"{y + 14}\" text-anchor=\"end\" font-size=\"12\">{E(rows[i].Label)}</text>")
                 .Append(CultureInfo.InvariantCulture, $"<rect x=\"210\" y=\"{y + 2}\" width=\"{w:F1}\" height=\"15\" fill=\"#4a78b0\"/>")
                 .Append(CultureInfo.InvariantCulture, $"<text x=\"{215 + w:F1}\" y=\"{y + 14}\" font-size=\"12\">{rows[i].Value:N0}</text>");
            }
            return s.Append("</svg>").ToString();
        }
    }
}
