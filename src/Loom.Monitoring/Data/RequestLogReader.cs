// Reads the request log that `loom serve --log-db` writes (src/Loom.Serving/Logging/RequestLog.cs), straight from
// SQLite: Monitoring does not depend on Serving, the table's schema is the contract (`requests`: id, time (ISO
// 8601 UTC), key_id, endpoint, model, status, prompt_tokens, completion_tokens, ttft_ms, latency_ms,
// finish_reason, prompt, output — prompt and output only with --log-content). Only successful rows (status 200)
// are read: a rejected request tells nothing about the model's inputs and outputs. Columns keep the log's names.
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Loom.Monitoring.Data;

/// <summary>Reads the server's SQLite request log as a <see cref="Table"/>.</summary>
public static class RequestLogReader
{
    private static readonly byte[] Magic = "SQLite format 3\0"u8.ToArray();

    /// <summary>The columns read, in order; the text ones are the model's input and output.</summary>
    public static readonly string[] ColumnNames = ["endpoint", "model", "prompt_tokens", "completion_tokens", "finish_reason", "prompt", "output", "latency_ms"];

    /// <summary>True when <paramref name="path"/> starts with SQLite's header.</summary>
    public static bool IsSqlite(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[16];
        return f.Read(head) == 16 && head.SequenceEqual(Magic);
    }

    /// <summary>Rows with status 200 whose time lies in [<paramref name="from"/>, <paramref name="to"/>) (all when null), oldest first.</summary>
    public static Table Read(string path, string option = "--log-db", DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(path), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        try { connection.Open(); }
        catch (SqliteException e) { throw new IOException($"{option} {path}: cannot open it as SQLite ({e.Message}).", e); }
        using var cmd = connection.CreateCommand();
        // Times are ISO 8601 UTC with a fixed layout ("O"), so text comparison orders them.
        cmd.CommandText = $"SELECT time, {string.Join(", ", ColumnNames)} FROM requests WHERE status = 200"
            + (from is null ? "" : " AND time >= $from") + (to is null ? "" : " AND time < $to") + " ORDER BY time, id";
        if (from is not null) cmd.Parameters.AddWithValue("$from", from.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        if (to is not null) cmd.Parameters.AddWithValue("$to", to.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        var times = new List<DateTimeOffset?>();
        var cells = ColumnNames.Select(_ => new List<string?>()).ToArray();
        var numbers = ColumnNames.Select(_ => new List<double?>()).ToArray();
        try
        {
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                times.Add(TableReader.ParseTime(reader.GetString(0)));
                for (int c = 0; c < ColumnNames.Length; c++)
                {
                    object v = reader.GetValue(c + 1);
                    switch (v)
                    {
                        case DBNull: cells[c].Add(null); numbers[c].Add(null); break;
                        case long l: cells[c].Add(l.ToString(CultureInfo.InvariantCulture)); numbers[c].Add(l); break;
                        case double d: cells[c].Add(d.ToString("R", CultureInfo.InvariantCulture)); numbers[c].Add(d); break;
                        default: cells[c].Add(Convert.ToString(v, CultureInfo.InvariantCulture)); numbers[c].Add(null); break;
                    }
                }
            }
        }
        catch (SqliteException e)
        {
            throw new InvalidDataException($"{option} {path}: not a Loom request log ({e.Message}); `loom serve --log-db PATH --log-content` writes one.", e);
        }
        var cols = ColumnNames.Select((n, c) => new Column(n, cells[c].ToArray(), numbers[c].ToArray())).ToList();
        return new Table(path, cols, times.Count, times.ToArray());
    }
}
