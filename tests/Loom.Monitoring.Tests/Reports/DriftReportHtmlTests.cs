// report.html checked structurally (no headless browser on this machine: neither chromium nor chromium-browser is
// installed): every <svg> block parses as XML, each histogram has a reference and a current bar per bin, the
// feature table has one row per feature, nothing is loaded from outside the page, and data text is escaped.
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;

namespace Loom.Monitoring.Tests.Reports;

public sealed class DriftReportHtmlTests
{
    [Fact]
    public async Task Html_is_self_contained_with_well_formed_svg_plots_and_one_table_row_per_feature()
    {
        var reference = new Table("ref<1>", [
            new Column("x", Enumerable.Range(0, 200).Select(i => (i % 37).ToString()).ToArray<string?>(), Enumerable.Range(0, 200).Select(i => (double?)(i % 37)).ToArray()),
            new Column("cat", Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? "<b>a</b>" : "b").ToArray<string?>(), new double?[200])], 200);
        var current = new Table("cur", [
            new Column("x", Enumerable.Range(0, 100).Select(i => (i % 37 + 9).ToString()).ToArray<string?>(), Enumerable.Range(0, 100).Select(i => (double?)(i % 37 + 9)).ToArray()),
            new Column("cat", Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? "<b>a</b>" : "b").ToArray<string?>(), new double?[100])], 100);
        var report = await DriftAnalyzer.AnalyzeAsync(reference, current);
        string html = DriftReportHtml.Render(report);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex("(src|href)\\s*=\\s*\"(https?:)?//"), html);
        Assert.DoesNotContain("<b>a</b>", html);                    // escaped
        Assert.Contains("&lt;b&gt;a&lt;/b&gt;", html);
        Assert.Contains("ref&lt;1&gt;", html);

        var svgs = Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline).Select(m => XElement.Parse(m.Value)).ToList();
        var hists = svgs.Where(s => (string?)s.Attribute("class") == "hist").ToList();
        Assert.Equal(report.Features.Count(f => f.Bins != null), hists.Count);
        foreach (var (svg, f) in hists.Zip(report.Features.Where(f => f.Bins != null)))
        {
            var rects = svg.Elements().Where(e => e.Name.LocalName == "rect").ToList();
            Assert.Equal(f.Bins!.Labels.Count, rects.Count(r => (string?)r.Attribute("data-series") == "reference"));
            Assert.Equal(f.Bins.Labels.Count, rects.Count(r => (string?)r.Attribute("data-series") == "current"));
            Assert.All(rects, r => Assert.True(double.Parse((string)r.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture) >= 0));
        }
        Assert.Single(svgs, s => (string?)s.Attribute("class") == "share");
        var series = Assert.Single(svgs, s => (string?)s.Attribute("class") == "series");
        Assert.Equal(report.TimeSeries.Count, series.Elements().Count(e => e.Name.LocalName == "circle"));

        var table = Regex.Match(html, "<table id=\"features\">(.*?)</table>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(report.Features.Count + 1, Regex.Matches(table, "<tr>").Count);
        Assert.Contains("Dataset drift detected", html);           // both features shifted
        Assert.Equal(["cat", "x"], report.DriftedFeatures.Order());
    }

    [Fact]
    public async Task Json_report_round_trips_the_verdicts()
    {
        var (reference, _, mixed) = PlantedCase.Build();
        var report = await DriftAnalyzer.AnalyzeAsync(reference, mixed, new MonitorOptions { EmbeddingDrift = false });
        using var doc = System.Text.Json.JsonDocument.Parse(DriftReportJson.Serialize(report));
        var root = doc.RootElement;
        Assert.Equal(report.DatasetDrift, root.GetProperty("dataset_drift").GetBoolean());
        Assert.Equal(report.Features.Count, root.GetProperty("features").GetArrayLength());
        Assert.Equal(report.DriftedFeatures, root.GetProperty("drifted_features").EnumerateArray().Select(e => e.GetString()!));
        Assert.All(root.GetProperty("features").EnumerateArray(), f => Assert.Equal("data", f.GetProperty("drift_kind").GetString()));
    }
}
