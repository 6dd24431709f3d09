// /metrics reports prefix caching: two completions of the same prompt of more than one whole KV block
// (16 positions) — the second one's whole blocks come from the cache, counted in
// loom_prefix_cache_hit_tokens_total and equal to the engine's own count; with --prefix-caching off
// (ServerOptions.PrefixCaching = false) the counter stays 0; both answer the same tokens.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Loom.Serving.Tests.Metrics;

public sealed class PrefixCacheMetricsTests
{
    private static readonly string Dir = TestServer.MakeModelDir();

    [Fact]
    public async Task HitsAreCountedOnlyWithPrefixCaching()
    {
        string prompt = TestServer.Text + TestServer.Text;
        var texts = new Dictionary<bool, List<string>>();
        foreach (bool on in new[] { true, false })
        {
            await using var server = await TestServer.StartAsync(Dir, o => o with { PrefixCaching = on });
            using var http = TestServer.Http(server);
            texts[on] = new();
            for (int i = 0; i < 2; i++)
            {
                var json = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = prompt, ["max_tokens"] = 4, ["temperature"] = 0 })).Content.ReadAsStringAsync())!;
                texts[on].Add((string)json["choices"]![0]!["text"]!);
            }
            int promptTokens = server.Engine.EncodePrompt(new Loom.Inference.Engine.GenerationRequest(prompt)).Length;
            Assert.True(promptTokens > 17, $"the prompt should span more than one whole block; it has {promptTokens} tokens");
            long want = on ? (promptTokens - 1) / 16 * 16 : 0;
            string text = await http.GetStringAsync("/metrics");
            Assert.Equal(want, Sample(text, "loom_prefix_cache_hit_tokens_total"));
            Assert.Equal(want, server.Engine.Statistics.PrefixCacheHitTokens);
            Assert.Equal(0, Sample(text, "loom_kv_blocks_used"));
            Assert.Equal(on ? promptTokens / 16 : 0, Sample(text, "loom_kv_blocks_cached"));   // every whole prompt block is registered
        }
        Assert.Equal(texts[false], texts[true]);
    }

    private static long Sample(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal)) return (long)double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        throw new Xunit.Sdk.XunitException($"/metrics has no {name} sample");
    }
}
