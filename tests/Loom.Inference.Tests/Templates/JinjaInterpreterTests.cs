// Single language rules of the Jinja interpreter, each checked against Python's jinja2 on the same small
// template (Fixtures/chat_templates/interpreter.json from make_fixtures.py): precedence, whitespace control,
// trim_blocks/lstrip_blocks, loop variables, set scoping inside loops versus namespace(), undefined values,
// string escapes, Python's printing of values, filters, tests, sandbox refusals and syntax errors.
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Tests.Templates;

public sealed class JinjaInterpreterTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in ChatTemplateFixtures.Cases("interpreter.json")) data.Add(c!["name"]!.GetValue<string>());
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void RendersLikeJinja2(string name)
    {
        var c = (JsonObject)ChatTemplateFixtures.Cases("interpreter.json").First(x => x!["name"]!.GetValue<string>() == name)!;
        string source = c["template"]!.GetValue<string>();
        var variables = ((JsonObject)c["variables"]!).ToDictionary(p => p.Key, p => p.Value?.DeepClone());
        var failure = ChatTemplateFixtures.Check(name, c, () =>
        {
            // Messages are a template variable like any other here; Render always binds "messages", so
            // a case's own "messages" replaces it through Variables.
            var template = ChatTemplate.Parse(source, name);
            return template.Render(new JsonArray(), new ChatTemplateOptions { Variables = variables, Clock = new ChatTemplateFixtures.FixedClock() });
        });
        Assert.True(failure is null, failure);
    }

    [Fact]
    public void AnErrorNamesTheSourceAndTheLine()
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("line one\n{% for x in y %}\n{{ x }}\n", "my.jinja"));
        Assert.Contains("my.jinja line 2", e.Message);
        Assert.Contains("endfor", e.Message);

        var t = ChatTemplate.Parse("a\nb\n{{ messages[0].role.upper() }}\n{{ nope.attr }}", "t.jinja");
        var r = Assert.Throws<TemplateException>(() => t.Render(new JsonArray(new JsonObject { ["role"] = "user" })));
        Assert.Equal(4, r.Line);
        Assert.Contains("'nope' is undefined", r.Message);
        Assert.False(r.RaisedByTemplate);
    }

    [Fact]
    public void RaiseExceptionCarriesTheTemplatesMessageAndIsAnExpectedErrorType()
    {
        var t = ChatTemplate.Parse("{% if messages|length == 0 %}{{ raise_exception('No messages!') }}{% endif %}", "x");
        var e = Assert.Throws<TemplateException>(() => t.Render(new JsonArray()));
        Assert.True(e.RaisedByTemplate);
        Assert.Equal("No messages!", e.Reason);
        // CommandGuard reports InvalidOperationException as a one-line user error, not a crash.
        Assert.IsAssignableFrom<InvalidOperationException>(e);
    }

    [Theory]
    [InlineData("brackets")]
    [InlineData("deep")]
    public void HostileNestingIsAnErrorNotAStackOverflow(string kind)
    {
        int n = 5000;
        string source = kind == "deep"
            ? string.Concat(Enumerable.Repeat("{% if true %}", n)) + string.Concat(Enumerable.Repeat("{% endif %}", n))
            : "{{ " + new string('(', n) + "1" + new string(')', n) + " }}" + "{{ " + string.Concat(Enumerable.Repeat("not ", n)) + "1 }}";
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source, "hostile"));
        Assert.Contains("nests more than", e.Message);
        // Shallow nesting is fine.
        Assert.Equal("1", ChatTemplate.Parse("{{ ((((1)))) }}").Render(new JsonArray()));
    }
}
