// The resource limits of a render (ChatTemplateOptions.MaxOutputLength, MaxValueLength, MaxSteps): the
// hostile templates of the 2026-12-02 adversarial pass, which hung or ran out of memory before, now fail
// with a TemplateException naming the line and the limit; the counts are exact (a template that takes N
// steps renders with MaxSteps = N and fails with N - 1, counted by hand below), and every real template
// still renders byte-identically (RendersLikeJinja2 / ChatTemplateTests over the jinja2 fixtures).
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Tests.Templates;

public sealed class JinjaBudgetTests
{
    private static readonly JsonArray NoMessages = new();

    [Theory]
    // String and list repetition built whole ('x' * n was string.Concat(Enumerable.Repeat(...))).
    [InlineData("a\n{{ 'abcdefgh' * 2000000000 }}", 2, "MaxValueLength")]
    [InlineData("a\nb\n{{ ([1,2,3,4,5,6,7,8] * 400000000)|length }}", 3, "MaxValueLength")]
    [InlineData("{{ 2000000000 * 'ab' }}", 1, "MaxValueLength")]
    // 10^10 iterations: MAX_RANGE bounds each range, not the product.
    [InlineData("x\n{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", 2, "MaxSteps")]
    // Two nested range() calls that are never looped over still build 10^10 items.
    [InlineData("{% for i in range(99999) %}{% if range(99999)|length %}{% endif %}{% endfor %}", 1, "MaxSteps")]
    // 2^40 macro calls: the 200-level depth cap does not bound fan-out.
    [InlineData("{% macro f(n) %}{% if n < 40 %}{{ f(n+1) }}{{ f(n+1) }}{% endif %}{% endmacro %}\n{{ f(0) }}", 1, "MaxSteps")]
    // Doubling a namespace string 64 times ended in a raw OutOfMemoryException after 54 s.
    [InlineData("{% set ns = namespace(s='a') %}\n{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", 2, "MaxValueLength")]
    [InlineData("{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", 1, "MaxValueLength")]
    [InlineData("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", 1, "MaxValueLength")]
    // A filter whose size is known only afterwards: bounded when it returns, by the same limit.
    [InlineData("{% set s = 'a' * 3000000 %}{{ s|replace('a', 'aa') }}", 1, "MaxValueLength")]
    // Many small outputs adding up.
    [InlineData("{% for i in range(99999) %}0123456789012345678901234567890123456789012345678901234567890123456789{% endfor %}", 1, "MaxOutputLength")]
    public void HostileTemplatesFailNamingTheLineAndTheLimit(string source, int line, string limit)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source, "hostile.jinja").Render(NoMessages));
        Assert.Equal(line, e.Line);
        Assert.Contains("hostile.jinja line " + line, e.Message);
        Assert.Contains("ChatTemplateOptions." + limit, e.Message);
        Assert.Contains("raise it", e.Message);
        Assert.False(e.RaisedByTemplate);
    }

    [Fact]
    public void StepsAreCountedExactly()
    {
        // range(3): 3 items; outer loop: 3 iterations; range(4) three times: 12 items; inner loop: 12
        // iterations; macro g called 3 times; the if-filtered loop tests 5 range items and iterates the
        // 2 kept: 3 + 3 + 12 + 12 + 3 + (5 + 5 + 2) = 45.
        const string source =
            "{% macro g() %}m{% endmacro %}" +
            "{% for i in range(3) %}{{ g() }}{% for j in range(4) %}x{% endfor %}{% endfor %}" +
            "{% for k in range(5) if k > 2 %}{{ k }}{% endfor %}";
        var template = ChatTemplate.Parse(source, "count.jinja");
        string expected = string.Concat(Enumerable.Repeat("mxxxx", 3)) + "34";
        Assert.Equal(expected, template.Render(NoMessages, new ChatTemplateOptions { MaxSteps = 45 }));
        var e = Assert.Throws<TemplateException>(() => template.Render(NoMessages, new ChatTemplateOptions { MaxSteps = 44 }));
        Assert.Contains("more than 44 steps", e.Message);
    }

    [Fact]
    public void ValueAndOutputLimitsAreInclusiveAndCheckedBeforeBuilding()
    {
        var repeat = ChatTemplate.Parse("{{ 'abc' * 4 }}", "r");
        Assert.Equal("abcabcabcabc", repeat.Render(NoMessages, new ChatTemplateOptions { MaxValueLength = 12 }));
        var e = Assert.Throws<TemplateException>(() => repeat.Render(NoMessages, new ChatTemplateOptions { MaxValueLength = 11 }));
        Assert.Contains("12 characters", e.Message);

        var list = ChatTemplate.Parse("{{ ([1, 2] * 3)|length }}", "l");
        Assert.Equal("6", list.Render(NoMessages, new ChatTemplateOptions { MaxValueLength = 6 }));
        Assert.Contains("6 items", Assert.Throws<TemplateException>(() => list.Render(NoMessages, new ChatTemplateOptions { MaxValueLength = 5 })).Message);

        // count × length beyond a long is refused, not overflowed into a small number.
        var huge = ChatTemplate.Parse("{{ 'ab' * 9223372036854775807 }}", "h");
        Assert.Contains("MaxValueLength", Assert.Throws<TemplateException>(() => huge.Render(NoMessages)).Message);
        // Empty values repeated any number of times are empty, as in Python, and cost nothing.
        Assert.Equal("|0", ChatTemplate.Parse("{{ '' * 9223372036854775807 }}|{{ ([] * 9223372036854775807)|length }}").Render(NoMessages));

        var output = ChatTemplate.Parse("{% for i in range(5) %}ab{% endfor %}", "o");
        Assert.Equal("ababababab", output.Render(NoMessages, new ChatTemplateOptions { MaxOutputLength = 10 }));
        Assert.Contains("MaxOutputLength", Assert.Throws<TemplateException>(() => output.Render(NoMessages, new ChatTemplateOptions { MaxOutputLength = 9 })).Message);
    }

    [Fact]
    public void LimitsBelowOneAreRefusedByName()
    {
        var t = ChatTemplate.Parse("x");
        Assert.Contains("MaxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => t.Render(NoMessages, new ChatTemplateOptions { MaxSteps = 0 })).Message);
        Assert.Contains("MaxValueLength", Assert.Throws<ArgumentOutOfRangeException>(() => t.Render(NoMessages, new ChatTemplateOptions { MaxValueLength = -1 })).Message);
        Assert.Contains("MaxOutputLength", Assert.Throws<ArgumentOutOfRangeException>(() => t.Render(NoMessages, new ChatTemplateOptions { MaxOutputLength = 0 })).Message);
    }

    [Fact]
    public void DeeplyNestedMessageJsonIsAnArgumentErrorNamingThePlace()
    {
        // 5,000 nested arrays inside the first message's content: System.Text.Json stops at 64 levels.
        string json = "[{\"role\": \"user\", \"content\": " + new string('[', 5000) + new string(']', 5000) + "}]";
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.ChatML.Render(json));
        Assert.Contains("messages is not valid JSON", e.Message);
        Assert.Contains("$[0].content", e.Message);
        Assert.Contains("64", e.Message);
        Assert.Equal("messagesJson", e.ParamName);
    }
}
