// The request log: one SQLite table, appended off the request path. Handlers post entries to an
// unbounded channel and return; one writer task drains it in transactions (many rows per commit, so
// a burst costs one fsync, not one per request). Disposing completes the channel and waits for the
// writer, so a graceful shutdown loses nothing. The schema is the contract the monitoring work
// reads: keep column names stable, add columns at the end.
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Loom.Serving.Logging;

/// <summary>Appends <see cref="RequestLogEntry"/> rows to a SQLite database.</summary>
public sealed class RequestLog : IAsyncDisposable
{
    private readonly Channel<RequestLogEntry> _channel = Channel.CreateUnbounded<RequestLogEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly Task _writer;
    private long _written;

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Rows committed so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    private RequestLog(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
        _writer = Task.Run(WriteLoop);
    }

    /// <summary>Opens (creating when needed) the log at <paramref name="path"/>; errors name the path and <paramref name="option"/>.</summary>
    public static RequestLog Open(string path, string option = "--log-db")
    {
        string full = System.IO.Path.GetFullPath(path);
        string? dir = System.IO.Path.GetDirectoryName(full);
        if (dir != null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{option} {path}: the folder {dir} does not exist; create it or choose another path.");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time TEXT NOT NULL,
                    key_id TEXT,
                    endpoint TEXT NOT NULL,
                    model TEXT,
                    status INTEGER NOT NULL,
                    prompt_tokens INTEGER NOT NULL,
                    completion_tokens INTEGER NOT NULL,
                    ttft_ms REAL,
                    latency_ms REAL NOT NULL,
                    finish_reason TEXT,
                    prompt TEXT,
                    output TEXT);
                """;
            cmd.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new IOException($"{option} {path}: cannot open it as a SQLite request log ({e.Message}). Choose another path.", e);
        }
        return new RequestLog(full, connection);
    }

    /// <summary>Queues <paramref name="entry"/>; never blocks.</summary>
    public void Append(RequestLogEntry entry) => _channel.Writer.TryWrite(entry);

    private async Task WriteLoop()
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            using var tx = _connection.BeginTransaction();
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO requests (time, key_id, endpoint, model, status, prompt_tokens, completion_tokens, ttft_ms, latency_ms, finish_reason, prompt, output)
                VALUES ($time, $key, $endpoint, $model, $status, $pt, $ct, $ttft, $latency, $finish, $prompt, $output);
                """;
            string[] names = ["$time", "$key", "$endpoint", "$model", "$status", "$pt", "$ct", "$ttft", "$latency", "$finish", "$prompt", "$output"];
            foreach (var n in names) cmd.Parameters.Add(new SqliteParameter { ParameterName = n });
            int rows = 0;
            while (rows < 512 && reader.TryRead(out var e))
            {
                object?[] values = [e.Time.UtcDateTime.ToString("O"), e.KeyId, e.Endpoint, e.Model, e.Status, e.PromptTokens, e.CompletionTokens,
                    e.TimeToFirstTokenMs, e.LatencyMs, e.FinishReason, e.Prompt, e.Output];
                for (int i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
                cmd.ExecuteNonQuery();
                rows++;
            }
            tx.Commit();
            Interlocked.Add(ref _written, rows);
        }
    }

    /// <summary>Writes every queued entry, then closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _connection.Dispose();
    }
}
