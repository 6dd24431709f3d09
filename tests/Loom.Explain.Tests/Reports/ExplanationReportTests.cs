// The JSON and HTML renderings: every segment of the text appears (escaped), weights colour the words
// that have them, and the JSON reads back with the same top words.
using System.Text.Json.Nodes;
using Loom.Explain.Classifiers;
using Loom.Explain.Lime;
using Loom.Explain.Reports;

namespace Loom.Explain.Tests.Reports;

public sealed class ExplanationReportTests
{
    [Fact]
    public async Task HtmlHighlightsWeightedWordsAndJsonRoundTrips()
    {
        var model = new BagOfWordsLogisticClassifier(new Dictionary<string, double> { ["great"] = 2, ["<b>bad</b>"] = -1, ["bad"] = -1.5 }, 0);
        var e = await new LimeTextExplainer(model, new LimeTextOptions { Samples = 300, Features = 3 }).ExplainAsync("a great film, <b>bad</b> ending");
        string html = ExplanationReport.ToHtml(e);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("&lt;b&gt;", html);
        Assert.DoesNotContain("<b>bad", html);
        Assert.Contains("rgba(46,160,67,0.800)\">great</span>", html);   // the strongest positive word at full colour
        var json = JsonNode.Parse(ExplanationReport.ToJson(e))!;
        Assert.Equal("lime", (string)json["method"]!);
        var top = json["classes"]![1]!["top"]!.AsArray().Select(t => (string)t!["word"]!).ToList();
        Assert.Equal(e.Classes[1].Top.Select(t => t.Word), top);
        string dir = Path.Combine(Path.GetTempPath(), "loom-explain-" + Guid.NewGuid().ToString("N"));
        var (jp, hp) = ExplanationReport.Write(e, dir);
        Assert.True(File.Exists(jp) && File.Exists(hp));
    }
}
