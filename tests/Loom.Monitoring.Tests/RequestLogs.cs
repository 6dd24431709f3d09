// Request logs written with the server's own RequestLog (Loom.Serving), so the tests break if its schema moves.
using Loom.Serving.Logging;

namespace Loom.Monitoring.Tests;

internal static class RequestLogs
{
    public static async Task<string> WriteAsync(string dir, IEnumerable<(DateTimeOffset Time, string Prompt, string Output, int Status)> rows)
    {
        string path = Path.Combine(dir, "requests.db");
        await using (var log = RequestLog.Open(path))
        {
            foreach (var (time, prompt, output, status) in rows)
                log.Append(new RequestLogEntry
                {
                    Time = time, Endpoint = "/v1/chat/completions", Model = "m", Status = status, PromptTokens = prompt.Length / 4 + 1,
                    CompletionTokens = output.Length / 4 + 1, LatencyMs = 12.5, FinishReason = "stop", Prompt = prompt, Output = output,
                });
        }
        return path;
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-monitor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
