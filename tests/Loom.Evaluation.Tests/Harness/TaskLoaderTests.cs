// Task files: a valid file loads with lm-eval's defaults; mistakes are errors naming the file, the
// line and the fix. The few-shot context is built as lm-eval builds it.
using System.Text.Json.Nodes;
using Loom.Evaluation.Harness;

namespace Loom.Evaluation.Tests.Harness;

public sealed class TaskLoaderTests
{
    private static string Write(string yaml, string? data = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-task-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "test.jsonl"), data ?? "{\"q\": \"2+2\", \"a\": \"4\"}\n{\"q\": \"3+3\", \"a\": \"6\"}\n{\"q\": \"1+1\", \"a\": \"2\"}\n");
        File.WriteAllText(Path.Combine(dir, "task.yaml"), yaml);
        return Path.Combine(dir, "task.yaml");
    }

    [Fact]
    public void LoadsWithDefaults()
    {
        var t = TaskLoader.Load(Write("task: add\noutput_type: generate_until\ndataset:\n  test: test.jsonl\ndoc_to_text: \"Q: {{q}}\\nA:\"\ndoc_to_target: \"{{a}}\"\n"));
        Assert.Equal("add", t.Name);
        Assert.Equal(" ", t.TargetDelimiter);
        Assert.Equal("\n\n", t.FewshotDelimiter);
        Assert.Equal(["exact_match"], t.EffectiveMetrics);
        Assert.Equal("Q: 2+2\nA:", t.DocToText.Render(new JsonObject { ["q"] = "2+2" }, "doc"));
    }

    [Theory]
    [InlineData("task: x\noutput_type: generate_until\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\nbogus: 1\n", "task.yaml:7: unknown key bogus")]
    [InlineData("task: x\noutput_type: ranking\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n", "task.yaml:2: output_type is \"ranking\"")]
    [InlineData("task: x\noutput_type: multiple_choice\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n", "doc_to_choice is missing")]
    [InlineData("task: x\noutput_type: generate_until\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{ q | upper }}\"\ndoc_to_target: \"{{a}}\"\n", "is not a field path")]
    [InlineData("task: x\noutput_type: multiple_choice\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: [a, b]\ndoc_to_target: \"{{a}}\"\nmetrics: [f1]\n", "metric \"f1\" is not available for output_type multiple_choice")]
    [InlineData("task: x\noutput_type: generate_until\ndataset:\n  test: ${NO_SUCH_LOOM_VAR}/t.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n", "--var NO_SUCH_LOOM_VAR=PATH")]
    public void MistakesNameTheLineAndTheFix(string yaml, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => TaskLoader.Load(Write(yaml)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task FewShotContextIsLmEvalsLayout()
    {
        var path = Write("task: add\noutput_type: generate_until\ndataset:\n  test: test.jsonl\n  holdout:\n    test_fraction: 0.34\ndoc_to_text: \"Q: {{q}}\\nA:\"\ndoc_to_target: \"{{a}}\"\ndescription: \"Sums.\\n\\n\"\n");
        var task = TaskLoader.Load(path);
        var model = new EchoModel();
        var r = await TaskRunner.RunAsync(task, model, new HarnessOptions { Shots = 2, BootstrapResamples = 10 });
        // 3 documents, test fraction 0.34 → 2 train + 1 test; 2 shots use both training documents.
        Assert.Single(r.Samples);
        string prompt = r.Samples[0]["prompt"]!.GetValue<string>();
        Assert.StartsWith("Sums.\n\nQ: ", prompt);
        Assert.Equal(4, prompt.Split("Q: ").Length);   // description + 2 examples + the question
        Assert.Matches(@"^Sums\.\n\nQ: \d\+\d\nA: \d\n\nQ: \d\+\d\nA: \d\n\nQ: \d\+\d\nA:$", prompt);
    }

    // Answers every prompt with the digit its last question sums to: exact match 1.
    private sealed class EchoModel : ITaskModel
    {
        public string Name => "echo";
        public bool SupportsLogLikelihood => false;
        public Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<string>> GenerateAsync(IReadOnlyList<GenerationTaskRequest> requests, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<string>>(requests.Select(r => { var q = r.Prompt[(r.Prompt.LastIndexOf("Q: ", StringComparison.Ordinal) + 3)..]; return " " + (q[0] - '0' + (q[2] - '0')) + "\n\nQ: junk"; }).ToList());
    }

    [Fact]
    public async Task GenerationIsCutAtStopAndScored()
    {
        var task = TaskLoader.Load(Write("task: add\noutput_type: generate_until\ndataset:\n  test: test.jsonl\ndoc_to_text: \"Q: {{q}}\\nA:\"\ndoc_to_target: \"{{a}}\"\nmetrics: [exact_match, f1]\n"));
        var r = await TaskRunner.RunAsync(task, new EchoModel(), new HarnessOptions { BootstrapResamples = 10 });
        Assert.Equal(1, r.Metrics["exact_match"].Value);
        Assert.Equal(1, r.Metrics["f1"].Value);
        Assert.Equal(" 4", r.Samples[0]["output"]!.GetValue<string>());
    }

    [Fact]
    public async Task LogLikelihoodTasksAreRefusedForAModelWithout()
    {
        var task = TaskLoader.Load(Write("task: add\noutput_type: loglikelihood\ndataset:\n  test: test.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n"));
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => TaskRunner.RunAsync(task, new EchoModel(), new HarnessOptions()));
        Assert.Contains("needs log-likelihoods", e.Message);
    }
}
