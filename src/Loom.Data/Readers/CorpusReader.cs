// Streams documents out of files, folders and globs: plain text (one document per file, per
// blank-line block, or per line), JSONL (a chosen text field; the other fields kept as metadata)
// and CSV (a chosen column, RFC 4180 quoting), each optionally gzipped. Nothing is held beyond the
// current record. Bytes that are not UTF-8 are replaced by U+FFFD and counted; a JSON line that does
// not parse, or lacks the field, is quarantined with its file and line and reading goes on. JSON is
// read with Utf8JsonReader straight from the bytes; the record's other members are kept as their
// original bytes, so writing the document back copies them instead of re-serialising a tree.
//
// Every record — good or quarantined — takes the next index in reading order, so `--shard i/n` runs
// agree on which documents are whose (index mod n); records are split as bytes (RecordReader), so a
// shard steps over other shards' records without decoding or parsing them.
using Loom.Core.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
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
    /// <summary>
    /// Most lines one CSV quoted field may span; a record still inside quotes after them is quarantined as its
    /// first line and reading resumes at the next line. 1,000 by default: multi-paragraph fields fit, and one
    /// stray quote re-reads at most that many lines.
    /// </summary>
    public int CsvMaxQuotedLines { get; init; } = 1_000;
    /// <summary>
    /// Most bytes one CSV record inside a quoted field may reach (same handling); 1 MiB by default, eight times
    /// the 131,072 characters of Python's csv.field_size_limit().
    /// </summary>
    public long CsvMaxQuotedBytes { get; init; } = 1 << 20;
}

/// <summary>Counts gathered while reading.</summary>
public sealed class ReadStatistics
{
    private long _invalid, _loneSurrogates;
    /// <summary>Byte sequences that were not UTF-8 and were replaced by U+FFFD.</summary>
    public long InvalidUtf8Sequences => Interlocked.Read(ref _invalid);
    /// <summary>JSON escapes of lone UTF-16 surrogates ("\ud800") read as U+FFFD.</summary>
    public long LoneSurrogates => Interlocked.Read(ref _loneSurrogates);
    /// <summary>Bytes read (before decompression).</summary>
    public long Bytes { get; set; }
    internal void AddInvalid() => Interlocked.Increment(ref _invalid);
    internal void AddLoneSurrogates(long count) { if (count != 0) Interlocked.Add(ref _loneSurrogates, count); }
}

/// <summary>Reads corpora.</summary>
public static class CorpusReader
{
    private static readonly string[] TextExtensions = [".txt", ".text", ".md"];
    private static readonly string[] JsonExtensions = [".jsonl", ".ndjson", ".json"];
    private static readonly string[] CsvExtensions = [".csv", ".tsv"];

    /// <summary>Files named by paths, folders (searched recursively for supported files) and globs (*, ?, **), in a stable order.</summary>
    public static IReadOnlyList<string> ExpandInputs(IEnumerable<string> inputs) => SelectInputs(inputs).Files;

    /// <summary>As <see cref="ExpandInputs"/>, with the entries of folders and globs that are not regular files (FIFOs, dangling links, ...) listed as skipped.</summary>
    public static InputSelection SelectInputs(IEnumerable<string> inputs) =>
        InputFiles.Expand(inputs, IsSupported, "--input", ".txt, .jsonl, .csv (or .gz of them)");

    /// <summary>True for the extensions the reader knows.</summary>
    public static bool IsSupported(string path)
    {
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        string ext = Path.GetExtension(p).ToLowerInvariant();
        return TextExtensions.Contains(ext) || JsonExtensions.Contains(ext) || CsvExtensions.Contains(ext);
    }

    /// <summary>
    /// Streams the documents of <paramref name="files"/>. Only records whose index satisfies <paramref name="take"/>
    /// are decoded and returned (null: all); quarantined records go to <paramref name="quarantine"/> under the same rule.
    /// </summary>
    public static IEnumerable<Document> Read(IReadOnlyList<string> files, ReaderOptions options, ReadStatistics statistics,
        Action<QuarantinedRecord>? quarantine = null, Func<long, bool>? take = null)
    {
        long index = 0;
        for (int f = 0; f < files.Count; f++)
        {
            using var source = new DocumentSource(files[f], f, options, statistics, quarantine, take);
            Document? doc;
            while ((doc = source.Next(ref index)) != null) yield return doc;
        }
    }

    // The records of one file as documents: splits the bytes into records, skips the records other
    // shards own without decoding them, decodes and parses the rest.
    private sealed class DocumentSource : IDisposable
    {
        private readonly RecordReader _records;
        private readonly string _file, _stem, _format;
        private readonly int _fileIndex;
        private readonly char _separator;
        private readonly ReaderOptions _options;
        private readonly byte[] _field;
        private readonly ReadStatistics _statistics;
        private readonly Action<QuarantinedRecord>? _quarantine;
        private readonly Func<long, bool>? _take;
        private string[]? _header;
        private readonly List<Range> _members = [];     // the current JSON record's other members, reused

        public DocumentSource(string file, int fileIndex, ReaderOptions options, ReadStatistics statistics, Action<QuarantinedRecord>? quarantine, Func<long, bool>? take)
        {
            _file = file;
            _fileIndex = fileIndex;
            _stem = Path.GetFileName(file);
            _format = options.Format ?? FormatOf(file);
            _separator = file.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tsv.gz", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
            var split = _format switch
            {
                "jsonl" => RecordSplit.Lines,
                "csv" => RecordSplit.Csv,
                "text" => options.TextSplit switch { TextSplit.Lines => RecordSplit.Lines, TextSplit.File => RecordSplit.File, _ => RecordSplit.Blocks },
                _ => throw new NotSupportedException($"{file}: unknown format \"{_format}\"; use text, jsonl or csv."),
            };
            _options = options;
            _field = Encoding.UTF8.GetBytes(options.Field);
            _statistics = statistics;
            _quarantine = quarantine;
            _take = take;
            _records = new RecordReader(Open(file, statistics), split, options.CsvMaxQuotedLines, options.CsvMaxQuotedBytes, (byte)_separator);
        }

        public void Dispose() => _records.Dispose();

        // The next document this reader takes, or null at the end of the file.
        public Document? Next(ref long index)
        {
            while (_records.Next(out var raw, out long line))
            {
                if (_format == "csv" && _header is null)
                {
                    _header = ParseCsv(Decode(raw), _separator);
                    if (Array.IndexOf(_header, _options.Field) < 0)
                        throw new InvalidDataException($"{_file}: no column \"{_options.Field}\" in the header ({string.Join(", ", _header)}); choose one with --field.");
                    continue;
                }
                long i = index++;
                if (_take != null && !_take(i)) continue;
                Document? doc;
                string? problem = _records.Problem;
                if (problem != null) doc = null;
                else switch (_format)
                {
                    case "jsonl": doc = FromJson(raw, line, out problem); break;
                    case "csv": doc = FromCsv(Decode(raw), _header!, _stem, _file, line, _options.Field, _separator, out problem); break;
                    default: doc = new Document { Id = $"{_stem}:{line}", Text = Decode(raw), Source = _file, Line = line }; problem = null; break;
                }
                if (doc is null)
                {
                    string text = Decode(raw, count: false);
                    _quarantine?.Invoke(new QuarantinedRecord(_file, line, problem!, text.Length > 2000 ? text[..2000] : text));
                    continue;
                }
                doc.Index = i;
                doc.SourceIndex = _fileIndex;
                return doc;
            }
            return null;
        }

        // UTF-8 to text; invalid sequences become U+FFFD and are counted (once: not again for the audit copy).
        private string Decode(ReadOnlySpan<byte> bytes, bool count = true)
        {
            if (Utf8.IsValid(bytes) || !count) return Encoding.UTF8.GetString(bytes);
            // Count the ill-formed subsequences the decoder will replace, one U+FFFD each (Unicode 3.9, "maximal subparts").
            for (var rest = bytes; !rest.IsEmpty;)
            {
                if (Rune.DecodeFromUtf8(rest, out _, out int consumed) != System.Buffers.OperationStatus.Done) _statistics.AddInvalid();
                rest = rest[consumed..];
            }
            return Encoding.UTF8.GetString(bytes);
        }

        // One JSON object: the text field, the id, and the other members kept verbatim as metadata.
        private Document? FromJson(ReadOnlySpan<byte> raw, long line, out string? problem)
        {
            problem = null;
            if (!Utf8.IsValid(raw)) return FromJson(Encoding.UTF8.GetBytes(Decode(raw)), line, out problem);
            string? text = null, id = null;
            bool textNotString = false;
            var members = _members;
            members.Clear();
            int metadataBytes = 0;
            long lone = 0;
            try
            {
                var r = new Utf8JsonReader(raw);
                if (!r.Read() || r.TokenType != JsonTokenType.StartObject) { problem = "the line is not a JSON object"; return null; }
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    int start = (int)r.TokenStartIndex;
                    bool isField = r.ValueTextEquals(_field), isId = r.ValueTextEquals("id"u8);
                    r.Read();
                    if (isField)
                    {
                        if (r.TokenType == JsonTokenType.String) text = JsonString.Get(ref r, ref lone);
                        else { textNotString = true; r.Skip(); }
                    }
                    else if (isId)
                    {
                        id = r.TokenType switch
                        {
                            JsonTokenType.String => JsonString.Get(ref r, ref lone),
                            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False => Encoding.UTF8.GetString(r.ValueSpan),
                            _ => null,
                        };
                        r.Skip();
                    }
                    else
                    {
                        r.Skip();
                        members.Add(start..(int)r.BytesConsumed);
                        metadataBytes += (int)r.BytesConsumed - start + 1;
                    }
                }
                if (r.Read()) { problem = "more than one JSON value on the line"; return null; }
            }
            catch (JsonException e) { problem = $"malformed JSON: {e.Message}"; return null; }
            finally { _statistics.AddLoneSurrogates(lone); }
            if (text is null) { problem = textNotString ? $"field \"{_options.Field}\" is not a string" : $"no string field \"{_options.Field}\""; return null; }
            byte[]? metadata = null;
            if (members.Count > 0)
            {
                metadata = new byte[metadataBytes - 1];
                int at = 0;
                foreach (var m in members)
                {
                    if (at > 0) metadata[at++] = (byte)',';
                    var part = raw[m];
                    part.CopyTo(metadata.AsSpan(at));
                    at += part.Length;
                }
            }
            return new Document { Id = id ?? $"{_stem}:{line}", Text = text, MetadataJson = metadata, Source = _file, Line = line };
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

    // Through the shared opener: regular files only, and gzip checked member by member, so a truncated
    // .gz is an error naming the file and offset rather than a shorter corpus.
    private static Stream Open(string file, ReadStatistics statistics)
    {
        var s = CompressedInput.Open(file, out long length, "--input");
        statistics.Bytes += length;
        return s;
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
}
