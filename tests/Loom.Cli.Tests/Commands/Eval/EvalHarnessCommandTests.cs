// `loom eval harness` end to end on the fixture model: --model and --endpoint (a real LoomServer on
// loopback serving the same directory) give the same generations, log-likelihoods and scores; the results
// file has the documented schema and `loom eval compare` reads two of them; the shipped tasks load.
using System.Text.Json.Nodes;
using Loom.Serving.Hosting;

namespace Loom.Cli.Tests.Commands.Eval;

public sealed class EvalHarnessCommandTests
{
    private static string ModelDir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "model");
    private static string TestData => Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "test.jsonl");

    private static string GenerativeTask(string dir)
    {
        string path = Path.Combine(dir, "qa.yaml");
        File.WriteAllText(path, $"task: qa\noutput_type: generate_until\ndataset:\n  test: {TestData}\ndoc_to_text: \"Q: {{{{question}}}}\\nA:\"\ndoc_to_target: \"{{{{answer}}}}\"\n" +
            "generation_kwargs:\n  max_new_tokens: 6\n  until: [\"\\n\"]\nmetrics: [exact_match, f1]\n");
        return path;
    }

    [Fact]
    public async Task EndpointScoresEqualLocalModelScores()
    {
        string dir = CliRunner.TempDir();
        string task = GenerativeTask(dir);
        var local = CliRunner.Run("eval", "harness", "--model", ModelDir, "--tasks", task, "--output", Path.Combine(dir, "local"), "--bootstrap", "50");
        Assert.True(local.Code == 0, local.Console);
        await using var server = LoomServer.Create(new ServerOptions { ModelDirectory = ModelDir, Port = 0, KvCacheMegabytes = 4 });
        await server.StartAsync();
        var remote = CliRunner.Run("eval", "harness", "--endpoint", server.BaseAddress!.ToString(), "--tasks", task, "--output", Path.Combine(dir, "remote"), "--bootstrap", "50");
        Assert.True(remote.Code == 0, remote.Console);

        var a = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "local", "results.json")))!;
        var b = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "remote", "results.json")))!;
        Assert.Equal("loom.eval.harness/1", a["schema"]!.GetValue<string>());
        Assert.Equal(a["tasks"]!["qa"]!["metrics"]!.ToJsonString(), b["tasks"]!["qa"]!["metrics"]!.ToJsonString());
        // The same text generated for every document (greedy, same tokens in), not just the same score.
        var la = File.ReadAllLines(Path.Combine(dir, "local", "samples_qa.jsonl")).Select(l => JsonNode.Parse(l)!["output"]!.GetValue<string>()).ToList();
        var lb = File.ReadAllLines(Path.Combine(dir, "remote", "samples_qa.jsonl")).Select(l => JsonNode.Parse(l)!["output"]!.GetValue<string>()).ToList();
        Assert.Equal(8, la.Count);
        Assert.Equal(la, lb);
        Assert.Contains(la, s => s.Length > 0);
        Assert.True(File.Exists(Path.Combine(dir, "local", "report.html")));

        var cmp = CliRunner.Run("eval", "compare", Path.Combine(dir, "local", "results.json"), Path.Combine(dir, "remote", "results.json"));
        Assert.True(cmp.Code == 0, cmp.Console);
        var rows = JsonNode.Parse(cmp.Output)!["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(0, r!["difference"]!.GetValue<double>()));
    }

    [Fact]
    public async Task EndpointMultipleChoiceEqualsLocalModel()
    {
        // The fixture multiple-choice task through `loom serve`'s echo + logprobs (lm-eval's
        // local-completions) against --model: the same log-likelihood of every choice of every
        // document (1e-4), the same greedy flags, and the same acc / acc_norm — the PyTorch fixture's.
        string dir = CliRunner.TempDir();
        string task = Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "task.yaml");
        var local = CliRunner.Run("eval", "harness", "--model", ModelDir, "--tasks", task, "--output", Path.Combine(dir, "local"), "--bootstrap", "50");
        Assert.True(local.Code == 0, local.Console);
        await using var server = LoomServer.Create(new ServerOptions { ModelDirectory = ModelDir, Port = 0, KvCacheMegabytes = 4 });
        await server.StartAsync();
        var remote = CliRunner.Run("eval", "harness", "--endpoint", server.BaseAddress!.ToString(), "--tasks", task, "--output", Path.Combine(dir, "remote"), "--bootstrap", "50");
        Assert.True(remote.Code == 0, remote.Console);

        var la = File.ReadAllLines(Path.Combine(dir, "local", "samples_fixture_mc.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        var lb = File.ReadAllLines(Path.Combine(dir, "remote", "samples_fixture_mc.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(la.Count, lb.Count);
        Assert.True(la.Count > 0);
        for (int i = 0; i < la.Count; i++)
        {
            var x = la[i]["loglikelihoods"]!.AsArray();
            var y = lb[i]["loglikelihoods"]!.AsArray();
            Assert.Equal(x.Count, y.Count);
            for (int c = 0; c < x.Count; c++) Assert.Equal(x[c]!.GetValue<double>(), y[c]!.GetValue<double>(), 1e-4);
            Assert.Equal(la[i]["is_greedy"]!.ToJsonString(), lb[i]["is_greedy"]!.ToJsonString());
        }
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "expected.json")))!;
        var m = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "remote", "results.json")))!["tasks"]!["fixture_mc"]!["metrics"]!;
        Assert.Equal(expected["acc"]!.GetValue<double>(), m["acc"]!["value"]!.GetValue<double>(), 12);
        Assert.Equal(expected["acc_norm"]!.GetValue<double>(), m["acc_norm"]!["value"]!.GetValue<double>(), 12);
    }

    [Fact]
    public void MultipleChoiceOnTheModelWritesResults()
    {
        var r = CliRunner.Run("eval", "harness", "--model", ModelDir, "--tasks", Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "task.yaml"), "--bootstrap", "50");
        Assert.True(r.Code == 0, r.Console);
        var m = JsonNode.Parse(r.Output)!["tasks"]!["fixture_mc"]!["metrics"]!;
        // The PyTorch fixture's acc and acc_norm (expected.json).
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness", "expected.json")))!;
        Assert.Equal(expected["acc"]!.GetValue<double>(), m["acc"]!["value"]!.GetValue<double>(), 12);
        Assert.Equal(expected["acc_norm"]!.GetValue<double>(), m["acc_norm"]!["value"]!.GetValue<double>(), 12);
        Assert.True(m["acc_norm"]!["ci_lower"]!.GetValue<double>() <= m["acc_norm"]!["value"]!.GetValue<double>());
    }

    [Theory]
    [InlineData("gsm8k")]
    [InlineData("squad2")]
    [InlineData("sms_spam")]
    [InlineData("lambada_wikitext2")]
    public void ShippedTasksLoadAndTheirDataReads(string name)
    {
        var t = Loom.Evaluation.Harness.TaskLoader.Load(Loom.Evaluation.Harness.TaskLoader.Resolve(name));
        var (train, test) = Loom.Evaluation.Harness.TaskRunner.LoadSplits(t, 1234);
        Assert.True(test.Count >= 100);
        for (int i = 0; i < test.Count; i++) t.DocToText.Render(test[i], $"doc {i}");
        if (t.NumFewshot > 0) Assert.True(train.Count >= t.NumFewshot);
    }

    [Fact]
    public void ImdbTaskNeedsTheUsersCopy()
    {
        var r = CliRunner.Run("eval", "harness", "--model", ModelDir, "--tasks", "imdb_sentiment");
        Assert.Equal(1, r.Code);
        Assert.Contains("--var IMDB_DIR=PATH", r.Console);
    }

    [Fact]
    public void OverlapWithTrainingDataIsWarned()
    {
        string dir = CliRunner.TempDir();
        string task = GenerativeTask(dir);
        string train = Path.Combine(dir, "train.txt");
        File.WriteAllLines(train, ["Q: Is the sky blue?\nA:".Replace("\n", " "), "unrelated text about lobsters in the Atlantic ocean and their claws"]);
        var r = CliRunner.Run("eval", "harness", "--model", ModelDir, "--tasks", task, "--train-data", train, "--bootstrap", "20");
        Assert.True(r.Code == 0, r.Console);
        Assert.Contains("1 of 8 test documents of task qa overlap the training data train.txt (1 exact", r.Console.Replace("\n", ""));
    }
}
