// Reads a table from a file, by content: a SQLite database (the server's request log, see RequestLogReader),
// JSONL (one object per line; scalar fields become columns, nested values their JSON text), CSV (a header row,
// RFC 4180 quoting), or a plain file with one number per line (one column, "value"). Files may be gzip-compressed
// (.gz). A row's time comes from the time column (default: "time", "timestamp" or "created_at"; ISO 8601 or Unix
// seconds). Errors name file:line and what to fix.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;

namespace Loom.Monitoring.Data;

/// <summary>Reads <see cref="Table"/>s from JSONL, CSV, plain numbers or a SQLite request log.</summary>
public static class TableReader
{
    /// <summary>Time columns tried when none is named.</summary>
    public static readonly string[] DefaultTimeColumns = ["time", "timestamp", "created_at"];

    /// <summary>Reads <paramref name="path"/>; <paramref name="option"/> names the CLI option in errors.</summary>
    public static Table Read(string path, string option = "--input", string? timeColumn = null, int maxRows = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{option} {path}: no such file.");
        if (RequestLogReader.IsSqlite(path)) return RequestLogReader.Read(path, option);
        var lines = new List<string>();
        using (var stream = CompressedInput.Open(path, option))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, false), true))
        {
            string? line;
            while ((line = reader.ReadLine()) != null && lines.Count <= maxRows) lines.Add(line);
        }
        int first = lines.FindIndex(l => l.Trim().Length > 0);
        if (first < 0) throw new InvalidDataException($"{option} {path}: the file is empty; give JSONL, CSV, one number per line or a request-log database.");
        string head = lines[first].TrimStart();
        Table table;
        if (head.StartsWith('{')) table = ReadJsonLines(path, option, lines, maxRows);
        else if (double.TryParse(head.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)) table = ReadNumbers(path, option, lines, maxRows);
        else table = ReadCsv(path, option, lines, maxRows);
        return WithTimes(table, timeColumn, option);
    }

    /// <summary>Parses a time cell: ISO 8601 (UTC when no offset) or Unix seconds.</summary>
    public static DateTimeOffset? ParseTime(string? cell)
    {
        if (string.IsNullOrWhiteSpace(cell)) return null;
        if (DateTimeOffset.TryParse(cell, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double s)) return DateTimeOffset.FromUnixTimeMilliseconds((long)(s * 1000));
        return null;
    }

    private static Table WithTimes(Table table, string? timeColumn, string option)
    {
        Column? col = timeColumn != null ? table.Find(timeColumn) : DefaultTimeColumns.Select(table.Find).FirstOrDefault(c => c != null);
        if (timeColumn != null && col is null)
            throw new ArgumentException($"--time-column {timeColumn}: {table.Source} has no such column (it has {string.Join(", ", table.Columns.Select(c => c.Name))}).");
        if (col is null) return table;
        var times = new DateTimeOffset?[table.RowCount];
        for (int i = 0; i < times.Length; i++)
        {
            times[i] = ParseTime(col.Cells[i]);
            if (times[i] is null && col.Cells[i] != null)
                throw new InvalidDataException($"{option} {table.Source}: row {i + 1} has {col.Name} \"{col.Cells[i]}\", which is neither an ISO 8601 time nor Unix seconds.");
        }
        return new Table(table.Source, table.Columns, table.RowCount, times);
    }

    private static Table ReadNumbers(string path, string option, List<string> lines, int maxRows)
    {
        var values = new List<double>();
        for (int i = 0; i < lines.Count && values.Count < maxRows; i++)
        {
            string s = lines[i].Trim();
            if (s.Length == 0) continue;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new InvalidDataException($"{option} {path}:{i + 1}: \"{Short(s)}\" is not a number; a plain file holds one number per line.");
            values.Add(v);
        }
        var col = new Column("value", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray<string?>(), values.Select(v => (double?)v).ToArray());
        return new Table(path, [col], values.Count);
    }

    private static Table ReadJsonLines(string path, string option, List<string> lines, int maxRows)
    {
        var names = new List<string>();
        var cells = new Dictionary<string, List<string?>>(StringComparer.Ordinal);
        var numbers = new Dictionary<string, List<double?>>(StringComparer.Ordinal);
        int rows = 0;
        for (int i = 0; i < lines.Count && rows < maxRows; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(lines[i]); }
            catch (JsonException e) { throw new InvalidDataException($"{option} {path}:{i + 1}: not valid JSON ({e.Message}).", e); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{option} {path}:{i + 1}: each line must be a JSON object; this one is {doc.RootElement.ValueKind}.");
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (!cells.TryGetValue(p.Name, out var list))
                    {
                        names.Add(p.Name);
                        cells[p.Name] = list = Enumerable.Repeat<string?>(null, rows).ToList();
                        numbers[p.Name] = Enumerable.Repeat<double?>(null, rows).ToList();
                    }
                    if (list.Count > rows) continue;   // a repeated key: the first wins
                    var (cell, number) = p.Value.ValueKind switch
                    {
                        JsonValueKind.Null => ((string?)null, (double?)null),
                        JsonValueKind.String => (p.Value.GetString(), (double?)null),
                        JsonValueKind.Number => (p.Value.GetRawText(), p.Value.GetDouble()),
                        JsonValueKind.True => ("true", (double?)null),
                        JsonValueKind.False => ("false", (double?)null),
                        _ => (p.Value.GetRawText(), (double?)null),
                    };
                    list.Add(cell);
                    numbers[p.Name].Add(number);
                }
            }
            rows++;
            foreach (var n in names)
                if (cells[n].Count < rows) { cells[n].Add(null); numbers[n].Add(null); }
        }
        var cols = names.Select(n => new Column(n, cells[n].ToArray(), numbers[n].ToArray())).ToList();
        return new Table(path, cols, rows);
    }

    private static Table ReadCsv(string path, string option, List<string> lines, int maxRows)
    {
        var records = ParseCsv(string.Join('\n', lines), path, option);
        if (records.Count == 0) throw new InvalidDataException($"{option} {path}: no CSV header.");
        var header = records[0];
        if (header.Distinct(StringComparer.Ordinal).Count() != header.Count)
            throw new InvalidDataException($"{option} {path}:1: the CSV header repeats a column name ({string.Join(",", header)}).");
        int rows = Math.Min(records.Count - 1, maxRows);
        var cols = new List<Column>();
        for (int c = 0; c < header.Count; c++)
        {
            var cells = new string?[rows];
            var nums = new double?[rows];
            for (int r = 0; r < rows; r++)
            {
                var rec = records[r + 1];
                if (rec.Count != header.Count)
                    throw new InvalidDataException($"{option} {path}: record {r + 2} has {rec.Count} fields; the header has {header.Count}.");
                string s = rec[c];
                cells[r] = s.Length == 0 ? null : s;
                nums[r] = s.Length > 0 && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
            }
            cols.Add(new Column(header[c], cells, nums));
        }
        return new Table(path, cols, rows);
    }

    // RFC 4180: fields separated by commas, records by newlines, "..." quoting with "" for a quote.
    private static List<List<string>> ParseCsv(string text, string path, string option)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else field.Append(ch);
                continue;
            }
            switch (ch)
            {
                case '"': quoted = true; any = true; break;
                case ',': record.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    if (any || field.Length > 0) { record.Add(field.ToString()); records.Add(record); }
                    record = new List<string>(); field.Clear(); any = false;
                    break;
                default: field.Append(ch); any = true; break;
            }
        }
        if (quoted) throw new InvalidDataException($"{option} {path}: a quoted CSV field is never closed.");
        if (any || field.Length > 0) { record.Add(field.ToString()); records.Add(record); }
        return records;
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
