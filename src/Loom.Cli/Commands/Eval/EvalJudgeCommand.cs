// `loom eval judge --endpoint URL --input FILE [--mode pairwise|single] [--rubric FILE]`: a model
// judge through an OpenAI-compatible endpoint (Loom.Evaluation/Judging). Every judge call (prompt,
// reply, verdict) goes to --transcript (JSONL, default judgments.jsonl next to the input); the
// summary with agreement statistics is printed on stdout as one JSON object.
using System.CommandLine;
using System.Text.Json;
using Loom.Evaluation.Endpoints;
using Loom.Evaluation.Judging;
using Loom.Evaluation.Review;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalJudgeCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The judge: an OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1.", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key for --endpoint." };
        var judgeModel = new Option<string?>("--judge-model") { Description = "Model name sent to the endpoint (default: the first of GET /v1/models)." };
        var input = new Option<FileInfo>("--input") { Description = "JSONL items: {id, prompt, response_a, response_b} (pairwise) or {id, prompt, response} (single), optional \"human\" verdict/score.", Required = true };
        var mode = new Option<string>("--mode") { Description = "pairwise (A vs B, asked in both orders) or single (rating on a rubric).", DefaultValueFactory = _ => "pairwise" };
        var rubric = new Option<FileInfo?>("--rubric") { Description = "A text file with the grading criteria put into the judge's instructions." };
        var scale = new Option<int>("--scale") { Description = "Single mode: ratings run from 1 to this.", DefaultValueFactory = _ => 10 };
        var transcript = new Option<FileInfo?>("--transcript") { Description = "Where every judge prompt and verdict is saved (JSONL; default: judgments.jsonl next to --input)." };
        var seed = new Option<int>("--seed") { Description = "Seed sent with each judge request.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("judge", "Grade answers with a model judge (pairwise with position swap, or single-answer on a rubric); agreement statistics; every prompt and verdict saved.")
            { endpoint, apiKey, judgeModel, input, mode, rubric, scale, transcript, seed };
        cmd.SetAction(parse =>
        {
            var m = parse.GetValue(mode) switch
            {
                "pairwise" => JudgeMode.Pairwise,
                "single" => JudgeMode.Single,
                var other => throw new ArgumentException($"--mode {other}: choose pairwise or single."),
            };
            int max = parse.GetValue(scale);
            if (max < 2) throw new ArgumentException($"--scale must be ≥ 2; got {max}.");
            string inputPath = parse.GetValue(input)!.FullName;
            var items = ReviewSheet.ReadItems(inputPath);
            string? rubricText = null;
            if (parse.GetValue(rubric) is { } r)
                rubricText = r.Exists ? File.ReadAllText(r.FullName).Trim() : throw new FileNotFoundException($"--rubric {r.FullName}: no such file.");
            string outPath = parse.GetValue(transcript)?.FullName ?? Path.Combine(Path.GetDirectoryName(inputPath)!, "judgments.jsonl");
            using var client = new OpenAIEndpoint(parse.GetValue(endpoint)!, parse.GetValue(apiKey), parse.GetValue(judgeModel));
            var options = new JudgeOptions { Mode = m, Rubric = rubricText, ScaleMax = max, Seed = parse.GetValue(seed) };
            System.Text.Json.Nodes.JsonObject summary = null!;
            List<System.Text.Json.Nodes.JsonObject> calls = null!;
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var bar = ctx.AddTask("judge calls");
                var progress = new Progress<(int Done, int Total)>(p => { bar.MaxValue = Math.Max(1, p.Total); bar.Value = p.Done; });
                (summary, calls) = JudgeRunner.RunAsync(client, items, options, progress).GetAwaiter().GetResult();
            });
            Loom.Core.IO.DurableFile.WriteAllText(outPath, string.Concat(calls.Select(t => t.ToJsonString() + "\n")));
            console.MarkupLine($"{calls.Count} judge call(s) saved to {Markup.Escape(outPath)}");
            parse.InvocationConfiguration.Output.WriteLine(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }
}
