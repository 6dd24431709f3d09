// The SQLite request log: one row per request whatever its status, written off the request path and
// complete after a graceful shutdown; the key id is a hash prefix, never the key; text only with
// --log-content; token counts equal the usage the client got.
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Serving.Http;
using Microsoft.Data.Sqlite;

namespace Loom.Serving.Tests.Logging;

public sealed class RequestLogTests
{
    private static readonly string Dir = TestServer.MakeModelDir();

    private static JsonObject Chat(bool stream = false) => new()
    {
        ["model"] = "tiny-gpt2", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "where is the cat" }),
        ["max_tokens"] = 5, ["temperature"] = 0, ["stream"] = stream,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryRequestIsARowAndContentOnlyWhenAsked(bool logContent)
    {
        string db = Path.Combine(Path.GetTempPath(), "loom-log-" + Guid.NewGuid().ToString("N") + ".db");
        const string Key = "sk-secret-key-123";
        JsonNode answer;
        await using (var server = await TestServer.StartAsync(Dir, o => o with { ApiKeys = [Key], LogDatabasePath = db, LogContent = logContent }))
        {
            using var http = TestServer.Http(server, Key);
            answer = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/chat/completions", Chat())).Content.ReadAsStringAsync())!;
            await http.PostAsJsonAsync("/v1/chat/completions", Chat(stream: true));
            await http.PostAsJsonAsync("/v1/chat/completions", new JsonObject { ["model"] = "tiny-gpt2", ["messages"] = new JsonArray() });
            using var anonymous = TestServer.Http(server);
            await anonymous.GetAsync("/v1/models");   // 401
        }
        using var connection = new SqliteConnection($"Data Source={db};Pooling=false");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT key_id, endpoint, model, status, prompt_tokens, completion_tokens, ttft_ms, latency_ms, finish_reason, prompt, output FROM requests ORDER BY id";
        using var reader = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read()) { var row = new object?[reader.FieldCount]; reader.GetValues(row!); rows.Add(row.Select(v => v is DBNull ? null : v).ToArray()); }
        Assert.Equal(4, rows.Count);
        Assert.Equal([200L, 200L, 400L, 401L], rows.Select(r => (long)r[3]!));
        Assert.All(rows.Take(3), r => Assert.Equal(ApiGate.KeyId(Key), r[0]));
        Assert.Null(rows[3][0]);
        Assert.DoesNotContain(rows.SelectMany(r => r), v => v is string s && s.Contains(Key));
        Assert.Equal((long)(int)answer["usage"]!["prompt_tokens"]!, rows[0][4]);
        Assert.Equal((long)(int)answer["usage"]!["completion_tokens"]!, rows[0][5]);
        Assert.Equal("tiny-gpt2", rows[0][2]);
        Assert.NotNull(rows[0][6]);
        Assert.True((double)rows[0][7]! >= (double)rows[0][6]!);
        Assert.Equal((string?)answer["choices"]![0]!["finish_reason"], rows[0][8]);
        if (logContent)
        {
            Assert.Contains("where is the cat", (string?)rows[0][9]);
            Assert.Equal((string?)answer["choices"]![0]!["message"]!["content"], rows[0][10]);
        }
        else Assert.All(rows, r => { Assert.Null(r[9]); Assert.Null(r[10]); });
    }
}
