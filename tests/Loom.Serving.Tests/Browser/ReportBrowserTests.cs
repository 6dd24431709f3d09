// A self-contained HTML report Loom writes (a run's report.html from TrainingReport, the writer
// `loom train` and `loom finetune` share) opened from disk in headless Chromium: it loads with no
// console errors and its charts are real SVG geometry the browser laid out (issue 17 asked for a
// real-browser check of the reports; the unit tests only read the HTML as text).
using OpenQA.Selenium;
using Loom.Training.Loop;
using Loom.Training.Reporting;

namespace Loom.Serving.Tests.Browser;

[Collection(nameof(BrowserCollection))]
public sealed class ReportBrowserTests
{
    [BrowserFact]
    public void ATrainingReportRendersItsChartsWithNoConsoleErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-report-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "report.html");
        var history = Enumerable.Range(0, 20).Select(s => new StepMetrics(s, 5f - 0.2f * s, LearningRateSchedule.WarmupCosine(s, 4, 20, 1e-3f, 1e-4f), 1f, 1000, s, 20)).ToList();
        var evals = new[] { new EvalMetrics(9, 3.5f), new EvalMetrics(19, 1.5f) };
        TrainingReport.Write(path, new TrainResult(20, history[^1].Loss, 1.5f, history, evals, 2.0), new TrainOptions { MaxSteps = 20 }, new { layers = 2 });

        using var driver = Chromium.Start();
        driver.Navigate().GoToUrl(new Uri(path));
        Assert.Equal("Loom training report", driver.Title);
        var js = (IJavaScriptExecutor)driver;
        // Every chart: its laid-out size, and its curves' rendered lengths in user units.
        var charts = (IReadOnlyCollection<object>)js.ExecuteScript(
            "return [...document.querySelectorAll('svg')].map(s => { const b = s.getBoundingClientRect();" +
            " return [b.width, b.height, [...s.querySelectorAll('polyline')].map(p => p.getTotalLength())]; });")!;
        Assert.Equal(2, charts.Count); // loss (train + validation) and learning rate
        foreach (var chart in charts.Cast<IReadOnlyList<object>>())
        {
            Assert.True(Convert.ToDouble(chart[0]) > 100 && Convert.ToDouble(chart[1]) > 100, $"an SVG chart laid out at {chart[0]}×{chart[1]} px");
            var lengths = ((IReadOnlyCollection<object>)chart[2]).Select(Convert.ToDouble).ToList();
            Assert.NotEmpty(lengths);
            Assert.All(lengths, l => Assert.True(l > 10, $"a curve renders {l} units long"));
        }
        Assert.Empty(Chromium.ConsoleErrors(driver));
    }
}
