// Streams documents out of files, folders and globs: plain text (one document per file, per
// blank-line block, or per line), JSONL (a chosen text field; the other fields kept as metadata)
// and CSV (a chosen column, RFC 4180 quoting), each optionally gzipped. Nothing is held beyond the
// current record. Bytes that are not UTF-8 are replaced by U+FFFD and counted; a JSON line that does
// not parse, or lacks the field, is quarantined with its file and line and reading goes on.
//
// Every record — good or quarantined — takes the next index in reading order, so `--shard i/n` runs
// agree on which documents are whose (index mod n) and a shard skips other shards' records without
// parsing them.
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Loom.Data.Documents;

namespace Loom.Data.Readers;

/// <summary>How plain text files split into documents.</summary>
public enum TextSplit
{
    /// <summary>Each blank-line-separated block is a document.</summary>
    Blocks,
    /// <summary>Each file is one document.</summary>
    File,
    /// <summary>Each non-empty line is a document.</summary>
    Lines,
}

/// <summary>Reading settings.</summary>
public sealed record ReaderOptions
{
    /// <summary>JSONL field or CSV column holding the text.</summary>
    public string Field { get; init; } = "text";
    /// <summary>Plain-text splitting.</summary>
    public TextSplit TextSplit { get; init; } = TextSplit.Blocks;
    /// <summary>Force a format ("text", "jsonl", "csv") instead of going by the extension.</summary>
    public string? Format { get; init; }
}

/// <summary>Counts gathered while reading.</summary>
public sealed class ReadStatistics
{
    private long _invalid;
    /// <summary>Byte sequences that were not UTF-8 and were replaced by U+FFFD.</summary>
    public long InvalidUtf8Sequences => Interlocked.Read(ref _invalid);
    /// <summary>Bytes read (before decompression).</summary>
    public long Bytes { get; set; }
    internal void AddInvalid() => Interlocked.Increment(ref _invalid);
}

/// <summary>Reads corpora.</summary>
public static class CorpusReader
{
    private static readonly string[] TextExtensions = [".txt", ".text", ".md"];
    private static readonly string[] JsonExtensions = [".jsonl", ".ndjson", ".json"];
    private static readonly string[] CsvExtensions = [".csv", ".tsv"];

    /// <summary>Files named by paths, folders (searched recursively for supported files) and globs (*, ?, **), in a stable order.</summary>
    public static IReadOnlyList<string> ExpandInputs(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input)) { files.Add(Path.GetFullPath(input)); continue; }
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(IsSupported).Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new FileNotFoundException($"The folder {input} holds no .txt, .jsonl, .csv (or .gz of them) files.");
                files.AddRange(found);
                continue;
            }
            if (input.IndexOfAny(['*', '?']) >= 0)
            {
                var matched = Glob(input);
                if (matched.Count == 0) throw new FileNotFoundException($"No file matches {input}.");
                files.AddRange(matched);
                continue;
            }
            throw new FileNotFoundException($"Input {input} does not exist.", input);
        }
        return files.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>True for the extensions the reader knows.</summary>
    public static bool IsSupported(string path)
    {
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        string ext = Path.GetExtension(p).ToLowerInvariant();
        return TextExtensions.Contains(ext) || JsonExtensions.Contains(ext) || CsvExtensions.Contains(ext);
    }

    private static List<string> Glob(string pattern)
    {
        string full = Path.GetFullPath(pattern.Replace("**", "\u0001").Replace("*", "\u0002").Replace("?", "\u0003"));
        full = full.Replace("\u0001", "**").Replace("\u0002", "*").Replace("\u0003", "?");
        int wild = full.IndexOfAny(['*', '?']);
        string root = full[..(full.LastIndexOf(Path.DirectorySeparatorChar, wild) + 1)];
        if (!Directory.Exists(root)) return [];
        var regex = new Regex("^" + Regex.Escape(full).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetFullPath).Where(f => regex.IsMatch(f)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Streams the documents of <paramref name="files"/>. Only records whose index satisfies <paramref name="take"/>
    /// are parsed and returned (null: all); quarantined records go to <paramref name="quarantine"/> under the same rule.
    /// </summary>
    public static IEnumerable<Document> Read(IReadOnlyList<string> files, ReaderOptions options, ReadStatistics statistics,
        Action<QuarantinedRecord>? quarantine = null, Func<long, bool>? take = null)
    {
        long index = 0;
        foreach (var file in files)
        {
            string format = options.Format ?? FormatOf(file);
            using var reader = Open(file, statistics);
            IEnumerable<(long Line, string Raw)> records = format switch
            {
                "jsonl" => Lines(reader).Where(l => l.Raw.Length > 0 && !string.IsNullOrWhiteSpace(l.Raw)),
                "csv" => CsvRecords(reader, file.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tsv.gz", StringComparison.OrdinalIgnoreCase) ? '\t' : ','),
                "text" => TextRecords(reader, options.TextSplit),
                _ => throw new NotSupportedException($"{file}: unknown format \"{format}\"; use text, jsonl or csv."),
            };
            string stem = Path.GetFileName(file);
            string[]? header = null;
            foreach (var (line, raw) in records)
            {
                if (format == "csv" && header is null)
                {
                    header = ParseCsv(raw, file.Contains(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');
                    if (Array.IndexOf(header, options.Field) < 0)
                        throw new InvalidDataException($"{file}: no column \"{options.Field}\" in the header ({string.Join(", ", header)}); choose one with --field.");
                    continue;
                }
                long i = index++;
                if (take != null && !take(i)) continue;
                Document? doc = null;
                string? problem = null;
                switch (format)
                {
                    case "jsonl": doc = FromJson(raw, stem, file, line, options.Field, out problem); break;
                    case "csv": doc = FromCsv(raw, header!, stem, file, line, options.Field, file.Contains(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', out problem); break;
                    default: doc = new Document { Id = $"{stem}:{line}", Text = raw, Source = file, Line = line }; break;
                }
                if (doc is null)
                {
                    quarantine?.Invoke(new QuarantinedRecord(file, line, problem!, raw.Length > 2000 ? raw[..2000] : raw));
                    continue;
                }
                doc.Index = i;
                yield return doc;
            }
        }
    }

    /// <summary>"text", "jsonl" or "csv" from the file name.</summary>
    public static string FormatOf(string path)
    {
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        string ext = Path.GetExtension(p).ToLowerInvariant();
        if (JsonExtensions.Contains(ext)) return "jsonl";
        if (CsvExtensions.Contains(ext)) return "csv";
        return "text";
    }

    private static StreamReader Open(string file, ReadStatistics statistics)
    {
        Stream s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        statistics.Bytes += s.Length;
        if (file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) s = new GZipStream(s, CompressionMode.Decompress);
        var encoding = (Encoding)new UTF8Encoding(false).Clone();
        encoding.DecoderFallback = new CountingFallback(statistics);
        return new StreamReader(s, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
    }

    private static IEnumerable<(long Line, string Raw)> Lines(StreamReader reader)
    {
        long n = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            n++;
            if (n == 1 && line.Length > 0 && line[0] == '\uFEFF') line = line[1..];
            yield return (n, line);
        }
    }

    private static IEnumerable<(long, string)> TextRecords(StreamReader reader, TextSplit split)
    {
        if (split == TextSplit.File)
        {
            string all = reader.ReadToEnd().TrimStart('\uFEFF');
            if (!string.IsNullOrWhiteSpace(all)) yield return (1, all);
            yield break;
        }
        var block = new StringBuilder();
        long start = 0;
        foreach (var (n, line) in Lines(reader))
        {
            bool blank = string.IsNullOrWhiteSpace(line);
            if (split == TextSplit.Lines)
            {
                if (!blank) yield return (n, line);
                continue;
            }
            if (blank)
            {
                if (block.Length > 0) { yield return (start, block.ToString(0, block.Length - 1)); block.Clear(); }
                continue;
            }
            if (block.Length == 0) start = n;
            block.Append(line).Append('\n');
        }
        if (block.Length > 0) yield return (start, block.ToString(0, block.Length - 1));
    }

    private static Document? FromJson(string raw, string stem, string file, long line, string field, out string? problem)
    {
        problem = null;
        JsonNode? node;
        try { node = JsonNode.Parse(raw); }
        catch (JsonException e) { problem = $"malformed JSON: {e.Message}"; return null; }
        if (node is not JsonObject obj) { problem = "the line is not a JSON object"; return null; }
        if (obj[field] is not JsonValue v || !v.TryGetValue(out string? text)) { problem = $"no string field \"{field}\""; return null; }
        obj.Remove(field);
        string id = obj["id"] is JsonValue idv ? (idv.TryGetValue(out string? s) ? s : idv.ToJsonString()) : $"{stem}:{line}";
        obj.Remove("id");
        return new Document { Id = id, Text = text, Metadata = obj.Count > 0 ? obj : null, Source = file, Line = line };
    }

    private static Document? FromCsv(string raw, string[] header, string stem, string file, long line, string field, char sep, out string? problem)
    {
        problem = null;
        var cells = ParseCsv(raw, sep);
        if (cells.Length != header.Length) { problem = $"{cells.Length} columns where the header has {header.Length}"; return null; }
        var meta = new JsonObject();
        string text = "";
        string? id = null;
        for (int i = 0; i < header.Length; i++)
        {
            if (header[i] == field) text = cells[i];
            else
            {
                if (header[i] == "id") { id = cells[i]; continue; }
                meta[header[i].Length == 0 ? $"column{i}" : header[i]] = cells[i];
            }
        }
        return new Document { Id = id ?? $"{stem}:{line}", Text = text, Metadata = meta.Count > 0 ? meta : null, Source = file, Line = line };
    }

    // RFC 4180 records: a quoted field may hold separators, doubled quotes and newlines.
    private static IEnumerable<(long, string)> CsvRecords(StreamReader reader, char sep)
    {
        var record = new StringBuilder();
        long start = 0;
        bool inQuotes = false;
        foreach (var (n, line) in Lines(reader))
        {
            if (record.Length == 0 && !inQuotes)
            {
                if (line.Length == 0) continue;
                start = n;
            }
            else record.Append('\n');
            record.Append(line);
            foreach (char c in line) if (c == '"') inQuotes = !inQuotes;
            if (!inQuotes)
            {
                yield return (start, record.ToString());
                record.Clear();
            }
        }
        if (record.Length > 0) yield return (start, record.ToString());
    }

    internal static string[] ParseCsv(string record, char sep)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < record.Length; i++)
        {
            char c = record[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < record.Length && record[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == sep) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells.ToArray();
    }

    // Replaces each invalid byte sequence with U+FFFD and counts it.
    private sealed class CountingFallback(ReadStatistics statistics) : DecoderFallback
    {
        public override int MaxCharCount => 1;
        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(statistics);

        private sealed class Buffer(ReadStatistics statistics) : DecoderFallbackBuffer
        {
            private bool _pending;
            public override int Remaining => _pending ? 1 : 0;
            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                statistics.AddInvalid();
                _pending = true;
                return true;
            }
            public override char GetNextChar()
            {
                if (!_pending) return '\0';
                _pending = false;
                return '\uFFFD';
            }
            public override bool MovePrevious() => false;
            public override void Reset() => _pending = false;
        }
    }
}
