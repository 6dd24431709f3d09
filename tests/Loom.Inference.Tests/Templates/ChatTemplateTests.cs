// Real models' chat templates rendered by Loom against Python's jinja2 (the environment transformers uses)
// on the fixtures of make_fixtures.py: every conversation (system or not, multi-turn, unicode, tool calls,
// bad role order, empty), with and without add_generation_prompt and tools, must give the same bytes, and
// the cases where jinja2 raises must raise (raise_exception with the same message).
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Tests.Templates;

public sealed class ChatTemplateTests
{
    public static TheoryData<string> TemplateNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in ChatTemplateFixtures.Cases("templates.json").Select(c => c!["template"]!.GetValue<string>()).Distinct()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void RendersLikeJinja2OnEveryConversation(string name)
    {
        string path = Path.Combine(ChatTemplateFixtures.Directory, "templates", name + ".jinja");
        var template = ChatTemplate.Parse(File.ReadAllText(path), name);
        var failures = new List<string>();
        int count = 0, raised = 0;
        foreach (var node in ChatTemplateFixtures.Cases("templates.json"))
        {
            var c = (JsonObject)node!;
            if (c["template"]!.GetValue<string>() != name) continue;
            count++;
            if (c["error"] is not null) raised++;
            var variables = ((JsonObject)c["variables"]!).ToDictionary(p => p.Key, p => p.Value?.DeepClone());
            var options = new ChatTemplateOptions
            {
                AddGenerationPrompt = c["add_generation_prompt"]!.GetValue<bool>(),
                Tools = c["tools"]?.DeepClone() as JsonArray,
                Variables = variables,
                Clock = new ChatTemplateFixtures.FixedClock(),
            };
            var messages = (JsonArray)c["messages"]!.DeepClone();
            string label = $"{name}/{c["conversation"]} agp={options.AddGenerationPrompt} tools={(options.Tools is null ? "none" : "yes")} vars={string.Join(",", variables.Keys)}";
            var failure = ChatTemplateFixtures.Check(label, c, () => template.Render(messages, options));
            if (failure is not null) failures.Add(failure);
        }
        Assert.True(count > 0, $"no fixture cases for {name}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} cases differ from jinja2:\n" + string.Join("\n", failures.Take(8)));
    }

    [Fact]
    public void TheFixturesCoverRaisingAndToolCases()
    {
        var cases = ChatTemplateFixtures.Cases("templates.json").Select(c => (JsonObject)c!).ToList();
        // A fixture set where nothing raises or no tool is rendered would not test those paths.
        Assert.Contains(cases, c => c["error"]?.GetValue<string>() == "TemplateError");
        Assert.Contains(cases, c => c["error"]?.GetValue<string>() == "UndefinedError");
        Assert.Contains(cases, c => c["tools"] is JsonArray && c["expected"]?.GetValue<string>().Contains("get_current_weather") == true);
        Assert.Contains(cases, c => c["expected"]?.GetValue<string>().Contains("05 Mar 2026") == true);
    }
}
