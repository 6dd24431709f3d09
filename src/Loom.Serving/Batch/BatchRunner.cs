// OpenAI Batch API jobs run in-process (platform.openai.com/docs/guides/batch): each input line
// {custom_id, method, url, body} becomes one output line {id, custom_id, response: {status_code,
// request_id, body}, error}. Requests go through the same OpenAIService as the HTTP server, all
// submitted at once up to MaxConcurrent so the engine's continuous batching packs them.
// Resumable: the output is only ever appended, one complete line per request, flushed and fsynced
// every SyncEvery lines (and whenever the queue drains); a rerun reads the custom_ids already there,
// cuts a torn last line a crash left, and runs only the rest — so after any number of interruptions
// every custom_id appears exactly once. A cancelled request writes nothing and is redone next time.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Loom.Serving.Protocol;

namespace Loom.Serving.Batch;

/// <summary>Runs a batch input file through an <see cref="OpenAIService"/>.</summary>
public static class BatchRunner
{
    /// <summary>
    /// Reads and checks the input (errors name file:line), skips what the output already holds, runs
    /// the rest. Cancelling stops after syncing every line written so far; rerun to finish.
    /// </summary>
    public static async Task<BatchProgress> RunAsync(OpenAIService service, BatchOptions options, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.MaxConcurrent < 1) throw new ArgumentException($"MaxConcurrent must be ≥ 1; got {options.MaxConcurrent}.");
        if (options.SyncEvery < 1) throw new ArgumentException($"SyncEvery must be ≥ 1; got {options.SyncEvery}.");
        var requests = ReadInput(options.InputPath);
        var done = ReadDone(options.OutputPath);
        var pending = requests.Where(r => !done.Contains(r.CustomId)).ToList();
        int skipped = requests.Count - pending.Count, written = 0, failed = 0;
        progress?.Report(new BatchProgress(requests.Count, skipped, 0, 0));

        var lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var writer = Task.Run(() => WriteLines(options.OutputPath, options.SyncEvery, lines.Reader));
        using var slots = new SemaphoreSlim(options.MaxConcurrent);
        var running = new List<Task>();
        try
        {
            foreach (var request in pending)
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        var (line, ok) = await RunOneAsync(service, request, cancellationToken).ConfigureAwait(false);
                        if (line == null) return;   // cancelled: nothing written, redone next run
                        lines.Writer.TryWrite(line);
                        int w = Interlocked.Increment(ref written), f = ok ? Volatile.Read(ref failed) : Interlocked.Increment(ref failed);
                        progress?.Report(new BatchProgress(requests.Count, skipped, w, f));
                    }
                    finally { slots.Release(); }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        finally
        {
            await Task.WhenAll(running).ConfigureAwait(false);
            lines.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return new BatchProgress(requests.Count, skipped, written, failed);
    }

    private static async Task<(string? Line, bool Ok)> RunOneAsync(OpenAIService service, BatchRequestLine request, CancellationToken cancellationToken)
    {
        var trace = new RequestTrace(request.Endpoint.Path(), null);
        int status = 200;
        JsonNode body;
        try
        {
            var prepared = service.Parser.Parse(request.Endpoint, request.Body);
            if (prepared.Stream) throw ApiException.BadRequest("'stream' is not supported in a batch; remove it or set it to false.", "stream");
            body = await service.RunAsync(prepared, trace, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            status = e.StatusCode;
            body = e.ToJson();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return (null, false); }
        service.Finish(trace, status);
        var line = new JsonObject
        {
            ["id"] = "batch_req_" + Guid.NewGuid().ToString("N"),
            ["custom_id"] = request.CustomId,
            ["response"] = new JsonObject { ["status_code"] = status, ["request_id"] = Guid.NewGuid().ToString("N"), ["body"] = body },
            ["error"] = null,
        };
        return (line.ToJsonString(), status == 200);
    }

    /// <summary>The requests of <paramref name="path"/>, checked: errors name the file and line.</summary>
    public static List<BatchRequestLine> ReadInput(string path)
    {
        path = Loom.Core.IO.InputFiles.RequireFile(path, "--input");   // a regular file, named in the error when not
        var list = new List<BatchRequestLine>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        int number = 0;
        foreach (string text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            string at = $"{path}:{number}";
            JsonElement root;
            try { root = JsonDocument.Parse(text).RootElement; }
            catch (JsonException e) { throw new InvalidDataException($"{at}: not valid JSON ({e.Message.Split(" LineNumber:")[0]}). Each line must be one request object.", e); }
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{at}: a line must be a JSON object with custom_id, method, url and body.");
            string customId = root.TryGetProperty("custom_id", out var c) && c.ValueKind == JsonValueKind.String && c.GetString()!.Length > 0 ? c.GetString()!
                : throw new InvalidDataException($"{at}: custom_id must be a non-empty string.");
            if (seen.TryGetValue(customId, out int first))
                throw new InvalidDataException($"{at}: custom_id \"{customId}\" is also on line {first}; every custom_id must be unique (lines {first} and {number}).");
            seen[customId] = number;
            string method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
            if (method != "POST") throw new InvalidDataException($"{at}: method must be \"POST\"; got \"{method}\".");
            string url = root.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "";
            var endpoint = ApiEndpoints.FromPath(url)
                ?? throw new InvalidDataException($"{at}: url \"{url}\" is not one of {ApiEndpoints.ChatPath}, {ApiEndpoints.CompletionsPath}, {ApiEndpoints.EmbeddingsPath}.");
            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{at}: body must be the request object for {url}.");
            list.Add(new BatchRequestLine(number, customId, endpoint, body.Clone()));
        }
        return list;
    }

    // The custom_ids already answered. A last line without its newline is what a crash mid-write
    // leaves: it is cut off (and that request redone); any other unreadable line is an error.
    private static HashSet<string> ReadDone(string path)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return done;
        byte[] bytes = File.ReadAllBytes(path);
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        if (end < bytes.Length)
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) { f.SetLength(end); f.Flush(true); }
        int number = 0;
        foreach (string text in Encoding.UTF8.GetString(bytes, 0, end).Split('\n'))
        {
            number++;
            if (text.Length == 0) continue;
            try
            {
                if (JsonNode.Parse(text)?["custom_id"] is JsonValue v && v.TryGetValue(out string? id)) { done.Add(id); continue; }
            }
            catch (JsonException) { }
            throw new InvalidDataException($"--output {path}:{number}: not a batch result line (no custom_id). Is it the output of another job? Choose a new --output or repair the file.");
        }
        return done;
    }

    private static async Task WriteLines(string path, int syncEvery, ChannelReader<string> reader)
    {
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        int unsynced = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
                await file.WriteAsync(bytes).ConfigureAwait(false);
                if (++unsynced >= syncEvery) { file.Flush(flushToDisk: true); unsynced = 0; }
            }
            if (unsynced > 0) { file.Flush(flushToDisk: true); unsynced = 0; }   // the queue drained: make what we have durable
        }
    }
}
