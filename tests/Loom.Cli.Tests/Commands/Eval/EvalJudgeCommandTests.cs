// `loom eval judge` against a fake OpenAI-compatible judge (Kestrel on loopback) that answers
// deterministically: pairwise, it picks the answer containing "GOOD" and otherwise always the answer
// shown first (a pure position bias, which the swap must turn into a tie); single, it rates by the
// answer's word count. Expected statistics are derived by hand from those rules.
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Loom.Cli.Tests.Commands.Eval;

public sealed class EvalJudgeCommandTests
{
    private static async Task<WebApplication> FakeJudgeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-judge", @object = "model" } } }));
        app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
        {
            var body = JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync())!;
            string user = body["messages"]![1]!["content"]!.GetValue<string>();
            string reply;
            if (user.Contains("[The Start of Assistant A's Answer]", StringComparison.Ordinal))
            {
                string a = Regex.Match(user, @"Assistant A's Answer\]\n(.*?)\n\[The End", RegexOptions.Singleline).Groups[1].Value;
                string b = Regex.Match(user, @"Assistant B's Answer\]\n(.*?)\n\[The End", RegexOptions.Singleline).Groups[1].Value;
                reply = "Comparing them. " + (a.Contains("GOOD") ? "[[A]]" : b.Contains("GOOD") ? "[[B]]" : "[[A]]");
            }
            else
            {
                string answer = Regex.Match(user, @"Assistant's Answer\]\n(.*?)\n\[The End", RegexOptions.Singleline).Groups[1].Value;
                reply = $"Explanation. Rating: [[{Math.Min(10, answer.Split(' ').Length)}]]";
            }
            return Results.Json(new { id = "x", @object = "chat.completion", choices = new[] { new { index = 0, message = new { role = "assistant", content = reply }, finish_reason = "stop" } } });
        });
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task PairwiseSwapsPositionsAndReportsAgreement()
    {
        await using var app = await FakeJudgeAsync();
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(input,
        [
            """{"id": "1", "prompt": "q1", "response_a": "a GOOD answer", "response_b": "meh", "human": "A"}""",
            """{"id": "2", "prompt": "q2", "response_a": "meh", "response_b": "GOOD one", "human": "B"}""",
            """{"id": "3", "prompt": "q3", "response_a": "x", "response_b": "y", "human": "A"}""",
        ]);
        var r = CliRunner.Run("eval", "judge", "--endpoint", app.Urls.First() + "/v1", "--input", input);
        Assert.True(r.Code == 0, r.Console);
        var s = JsonNode.Parse(r.Output)!;
        Assert.Equal(1, s["wins_a"]!.GetValue<int>());
        Assert.Equal(1, s["wins_b"]!.GetValue<int>());
        Assert.Equal(1, s["ties"]!.GetValue<int>());                       // item 3: A then (swapped) B → inconsistent → tie
        Assert.Equal(2.0 / 3, s["position_consistency"]!.GetValue<double>(), 12);
        Assert.Equal(4.0 / 6, s["first_position_preference"]!.GetValue<double>(), 12);   // 1:first,second 2:second,first 3:first,first
        Assert.Equal(2.0 / 3, s["human_agreement"]!.GetValue<double>(), 12);
        // judge [A, B, tie] vs human [A, B, A]: p_o = 2/3, p_e = (1·2 + 1·1 + 1·0)/9 = 1/3 → κ = 0.5
        Assert.Equal(0.5, s["human_cohen_kappa"]!.GetValue<double>(), 12);
        var transcript = File.ReadAllLines(Path.Combine(dir, "judgments.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(6, transcript.Count);
        Assert.All(transcript, t => Assert.Contains("[User Question]", t["user"]!.GetValue<string>()));
        Assert.Equal(["AB", "BA"], transcript.Where(t => t["id"]!.GetValue<string>() == "3").Select(t => t["order"]!.GetValue<string>()));
        Assert.Equal("B", transcript.Single(t => t["id"]!.GetValue<string>() == "3" && t["order"]!.GetValue<string>() == "BA")["verdict"]!.GetValue<string>());
    }

    [Fact]
    public async Task SingleGradesOnTheRubric()
    {
        await using var app = await FakeJudgeAsync();
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "answers.jsonl");
        File.WriteAllLines(input,
        [
            """{"id": "a", "prompt": "q", "response": "one two three", "human": "3"}""",
            """{"id": "b", "prompt": "q", "response": "one", "human": "2"}""",
        ]);
        string rubric = Path.Combine(dir, "rubric.txt");
        File.WriteAllText(rubric, "Reward brevity; penalise rambling.");
        string transcript = Path.Combine(dir, "t.jsonl");
        var r = CliRunner.Run("eval", "judge", "--endpoint", app.Urls.First(), "--input", input, "--mode", "single", "--rubric", rubric, "--transcript", transcript);
        Assert.True(r.Code == 0, r.Console);
        var s = JsonNode.Parse(r.Output)!;
        Assert.Equal(2.0, s["mean_rating"]!.GetValue<double>(), 12);   // ratings 3 and 1
        Assert.Equal(0.5, s["human_agreement"]!.GetValue<double>(), 12);
        var lines = File.ReadAllLines(transcript);
        Assert.Equal(2, lines.Length);
        Assert.Contains("Reward brevity", lines[0]);
    }

    [Fact]
    public void ModeMismatchIsOneError()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "answers.jsonl");
        File.WriteAllText(input, """{"id": "a", "prompt": "q", "response": "r"}""" + "\n");
        var r = CliRunner.Run("eval", "judge", "--endpoint", "http://127.0.0.1:9/v1", "--input", input, "--mode", "pairwise");
        Assert.Equal(1, r.Code);
        Assert.Contains("use --mode single", r.Console);
    }
}
