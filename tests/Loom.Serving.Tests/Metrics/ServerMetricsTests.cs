// GET /metrics: valid Prometheus text (every sample line "name{labels} value" with a declared TYPE,
// histogram buckets cumulative and ending at +Inf = _count), and the counters agree with what the
// clients saw: requests by status, tokens in and out summed from the usage of each answer.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Loom.Serving.Tests.Metrics;

public sealed class ServerMetricsTests
{
    private static readonly string Dir = TestServer.MakeModelDir();

    [Fact]
    public async Task CountersMatchTheAnswersAndTheTextIsValidPrometheus()
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        int prompt = 0, completion = 0;
        for (int i = 0; i < 3; i++)
        {
            var json = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = "the cat", ["max_tokens"] = 4 + i, ["temperature"] = 0 })).Content.ReadAsStringAsync())!;
            prompt += (int)json["usage"]!["prompt_tokens"]!;
            completion += (int)json["usage"]!["completion_tokens"]!;
        }
        await http.PostAsJsonAsync("/v1/completions", new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = "the", ["max_tokens"] = 0 });
        string text = await http.GetStringAsync("/metrics");

        var types = new Dictionary<string, string>();
        var samples = new Dictionary<string, double>();
        var line = new Regex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$");
        foreach (string l in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (l.StartsWith("# TYPE ")) { var p = l.Split(' '); types[p[2]] = p[3]; continue; }
            if (l.StartsWith("# HELP ")) continue;
            var m = line.Match(l);
            Assert.True(m.Success, $"not a Prometheus sample line: {l}");
            string name = m.Groups[1].Value;
            string family = Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(types.ContainsKey(name) || types.ContainsKey(family), $"{name} has no TYPE line");
            samples[name + m.Groups[2].Value] = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        }
        Assert.Equal(3, samples["loom_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"]);
        Assert.Equal(1, samples["loom_requests_total{endpoint=\"/v1/completions\",status=\"400\"}"]);
        Assert.Equal(prompt, samples["loom_prompt_tokens_total"]);
        Assert.Equal(completion, samples["loom_generation_tokens_total"]);
        Assert.Equal(0, samples["loom_kv_blocks_used"]);
        Assert.Equal(server.Engine.Statistics.TotalBlocks, samples["loom_kv_blocks_total"]);
        Assert.Equal(0, samples["loom_requests_in_flight"]);
        // One first token per answered request; one inter-token gap per token after the first.
        Assert.Equal(3, samples["loom_time_to_first_token_seconds_count"]);
        Assert.Equal(completion - 3, samples["loom_inter_token_latency_seconds_count"]);
        Assert.Equal(samples["loom_time_to_first_token_seconds_count"], samples["loom_time_to_first_token_seconds_bucket{le=\"+Inf\"}"]);
        var buckets = samples.Where(p => p.Key.StartsWith("loom_inter_token_latency_seconds_bucket")).Select(p => p.Value).ToList();
        Assert.Equal(buckets.Order(), buckets);   // cumulative
    }
}
