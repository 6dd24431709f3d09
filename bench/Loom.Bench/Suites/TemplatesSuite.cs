// Chat-template rendering: renders per second of real Hugging Face templates (the fixtures of
// tests/Loom.Inference.Tests/Fixtures/chat_templates) on one conversation each, on one thread, and the
// time to parse a template. Anchor: Python's jinja2 in transformers' environment (bench/python/
// chat_template_anchor.py, run with /usr/bin/python3 when it and python3-jinja2 are installed) on the same
// template and conversation, on the same clock (--cpu-time: process CPU time in both); the rendered text
// must have the same length.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Bench.Suites;

internal static class TemplatesSuite
{
    // (template, conversation, tools) cases from templates.json: a short chat and the longest tool chats.
    private static readonly (string Template, string Conversation, bool Tools)[] Cases =
    [
        ("chatml", "system_multi_turn", false),
        ("llama2", "system_multi_turn", false),
        ("gemma2", "multi_turn", false),
        ("mistral_v03", "tool_calls", true),
        ("llama31", "tool_calls", true),
        ("qwen25", "tool_calls", true),
        ("qwen3", "tool_calls", true),
    ];

    public static void Run(BenchContext ctx)
    {
        string dir = Path.Combine(BenchPaths.RepoRoot, "tests", "Loom.Inference.Tests", "Fixtures", "chat_templates");
        var all = (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "templates.json")))!["cases"]!;
        string anchorScript = Path.Combine(BenchPaths.RepoRoot, "bench", "python", "chat_template_anchor.py");
        bool anchor = File.Exists("/usr/bin/python3");
        if (!anchor) Console.WriteLine("anchor: /usr/bin/python3 not found (apt-get install python3-jinja2) — no ratio");
        foreach (var (name, conversation, tools) in Cases)
        {
            string caseName = $"render {name}/{conversation}{(tools ? "+tools" : "")}";
            if (!ctx.Selected(caseName)) continue;
            var c = all.Select(x => (JsonObject)x!).First(x => x["template"]!.GetValue<string>() == name
                && x["conversation"]!.GetValue<string>() == conversation && (x["tools"] is JsonArray) == tools
                && x["add_generation_prompt"]!.GetValue<bool>() && x["expected"] is not null);
            string path = Path.Combine(dir, "templates", name + ".jinja");
            string source = File.ReadAllText(path);

            var sw = Stopwatch.StartNew();
            var template = ChatTemplate.Parse(source, name);
            double parseMicros = sw.Elapsed.TotalMicroseconds;
            var messages = (JsonArray)c["messages"]!;
            var options = new ChatTemplateOptions
            {
                AddGenerationPrompt = true,
                Tools = c["tools"] as JsonArray,
                Variables = ((JsonObject)c["variables"]!).ToDictionary(p => p.Key, p => p.Value),
            };
            string text = template.Render(messages, options);
            if (text != c["expected"]!.GetValue<string>()) throw new InvalidOperationException($"{caseName}: Loom's rendering differs from jinja2's fixture.");
            // Warm-up for half the measuring time, so the JIT's later tiers are in place before timing.
            for (double w = ctx.Now(); ctx.Now() - w < ctx.SecondsPerCase / 2;) template.Render(messages, options);
            long n = 0;
            double start = ctx.Now();
            do { template.Render(messages, options); n++; } while (ctx.Now() - start < ctx.SecondsPerCase);
            double perSecond = n / (ctx.Now() - start);
            var row = new BenchRow(caseName, "renders_per_s", Math.Round(perSecond), "renders/s");
            string extra = "";
            if (anchor && Python(anchorScript, path, c, ctx.SecondsPerCase, ctx.CpuTime) is { } py)
            {
                double pyRate = py.GetProperty("renders_per_second").GetDouble();
                if (py.GetProperty("chars").GetInt32() != text.Length) throw new InvalidOperationException($"{caseName}: jinja2 rendered {py.GetProperty("chars")} characters, Loom {text.Length}.");
                row = row with { Anchor = Math.Round(pyRate), AnchorName = "python3 jinja2", Ratio = Math.Round(perSecond / pyRate, 2) };
                extra = $"  jinja2 {pyRate,8:F0}/s (compile {py.GetProperty("compile_seconds").GetDouble() * 1e3:F1} ms)  ratio {perSecond / pyRate:F2}";
            }
            ctx.Rows.Add(row);
            Console.WriteLine($"{caseName,-44} {perSecond,8:F0}/s  {1e6 / perSecond,7:F1} µs/render  {text.Length,5} chars  parse {parseMicros / 1e3:F2} ms{extra}");
        }
    }

    private static JsonElement? Python(string script, string template, JsonObject c, double seconds, bool cpuTime)
    {
        string casePath = Path.GetTempFileName();
        try
        {
            File.WriteAllText(casePath, new JsonObject
            {
                ["messages"] = c["messages"]!.DeepClone(),
                ["tools"] = c["tools"]?.DeepClone(),
                ["add_generation_prompt"] = true,
                ["variables"] = c["variables"]!.DeepClone(),
            }.ToJsonString());
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { script, template, casePath, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), cpuTime ? "cpu" : "wall" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                Console.WriteLine($"anchor failed: {error.Trim().Split('\n').LastOrDefault()}");
                return null;
            }
            return JsonDocument.Parse(output).RootElement.Clone();
        }
        finally
        {
            File.Delete(casePath);
        }
    }
}
