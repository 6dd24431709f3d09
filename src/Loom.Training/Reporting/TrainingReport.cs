// A self-contained report.html for a run: loss and learning-rate curves as inline SVG (no script,
// no network), an objective's own statistics read back from metrics.jsonl (DPO's rewards/chosen,
// rewards/rejected, rewards/margins and rewards/accuracies as TRL logs them; distillation's ce), train and
// validation, and the run's settings.
using Loom.Core.IO;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Loom.Training.Loop;

namespace Loom.Training.Reporting;

public static class TrainingReport
{
    public static void Write(string path, TrainResult result, TrainOptions options, object modelConfig, string? metricsPath = null)
    {
        var train = result.History.Select(h => (X: (double)h.Step, Y: (double)h.Loss)).ToList();
        var val = result.Evaluations.Select(e => (X: (double)e.Step, Y: (double)e.ValidationLoss)).ToList();
        var lr = result.History.Select(h => (X: (double)h.Step, Y: (double)h.LearningRate)).ToList();
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Loom training report</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}table{border-collapse:collapse}")
          .Append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}pre{background:#f6f6f6;padding:1em}")
          .Append(".legend span{margin-right:1.5em}</style></head><body>");
        sb.Append("<h1>Loom training report</h1>");
        sb.Append("<table><tr><th>steps</th><th>final train loss</th><th>final validation loss</th><th>time</th></tr><tr>")
          .Append($"<td>{result.Steps}</td><td>{F(result.LastTrainLoss)}</td><td>{F(result.ValidationLoss)}</td><td>{result.Seconds:F1} s</td></tr></table>");
        sb.Append("<h2>Loss</h2><div class=\"legend\"><span style=\"color:#1f77b4\">■ train</span><span style=\"color:#d62728\">■ validation</span></div>");
        sb.Append(Chart([(train, "#1f77b4"), (val, "#d62728")], "step", "loss"));
        if (metricsPath != null && File.Exists(metricsPath)) sb.Append(ObjectiveStatistics(metricsPath));
        sb.Append("<h2>Learning rate</h2>");
        sb.Append(Chart([(lr, "#2ca02c")], "step", "learning rate"));
        sb.Append("<h2>Settings</h2><pre>")
          .Append(WebUtility.HtmlEncode(JsonSerializer.Serialize(new { train = options, model = modelConfig }, new JsonSerializerOptions { WriteIndented = true })))
          .Append("</pre></body></html>");
        DurableFile.WriteAllText(path, sb.ToString());
    }

    private static string F(float v) => v.ToString("F4", CultureInfo.InvariantCulture);

    private static readonly HashSet<string> Standard = ["type", "step", "loss", "lr", "grad_norm", "tokens_per_s", "loss_scale", "val_loss", "reason"];
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    /// <summary>
    /// Charts of the statistics an objective adds to metrics.jsonl (every numeric field beyond the loop's own):
    /// DPO's rewards (chosen, rejected, margins: train and validation) and reward accuracy; any other
    /// statistic (e.g. distillation's ce) train against validation. The whole file, so a resumed run shows all steps.
    /// </summary>
    public static string ObjectiveStatistics(string metricsPath)
    {
        var train = new Dictionary<string, List<(double X, double Y)>>(StringComparer.Ordinal);
        var valid = new Dictionary<string, List<(double X, double Y)>>(StringComparer.Ordinal);
        var order = new List<string>();
        var lastStep = new Dictionary<string, double>();
        using var reader = new StreamReader(new FileStream(metricsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));   // the loop's log is still open
        for (string? line; (line = reader.ReadLine()) != null;)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); } catch (JsonException) { continue; }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("step", out var s) || s.ValueKind != JsonValueKind.Number) continue;
                string type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
                if (type is not ("train" or "eval")) continue;
                double step = s.GetDouble();
                foreach (var p in root.EnumerateObject())
                {
                    if (Standard.Contains(p.Name) || p.Value.ValueKind != JsonValueKind.Number) continue;
                    bool isVal = type == "eval" && p.Name.StartsWith("val_", StringComparison.Ordinal);
                    string name = isVal ? p.Name[4..] : p.Name;
                    if (!order.Contains(name)) order.Add(name);
                    var series = isVal ? valid : train;
                    if (!series.TryGetValue(name, out var list)) series[name] = list = [];
                    // A resumed run appends the steps after its checkpoint again: keep the later line of a step.
                    string key = (isVal ? "v:" : "t:") + name;
                    if (lastStep.TryGetValue(key, out double last) && step <= last) list.RemoveAll(q => q.X >= step);
                    lastStep[key] = step;
                    list.Add((step, p.Value.GetDouble()));
                }
            }
        }
        if (order.Count == 0) return "";
        var sb = new StringBuilder();
        List<(double X, double Y)> T(string n) => train.GetValueOrDefault(n) ?? [];
        List<(double X, double Y)> V(string n) => valid.GetValueOrDefault(n) ?? [];
        string[] rewards = ["rewards/chosen", "rewards/rejected", "rewards/margins"];
        if (rewards.Any(order.Contains))
        {
            sb.Append("<h2>Preference rewards (DPO)</h2><p>β·(log π − log π_ref) of the chosen and rejected answers and their margin, per step (solid) and on validation (dashed points).</p><div class=\"legend\">");
            var lines = new List<(List<(double X, double Y)>, string)>();
            for (int i = 0; i < rewards.Length; i++)
            {
                sb.Append($"<span style=\"color:{Palette[i]}\">■ {rewards[i]}</span>");
                lines.Add((T(rewards[i]), Palette[i]));
                lines.Add((V(rewards[i]), Palette[i]));
            }
            sb.Append("</div>").Append(Chart(lines, "step", "reward"));
        }
        foreach (var name in order.Where(n => !rewards.Contains(n)))
        {
            sb.Append($"<h2>{WebUtility.HtmlEncode(name)}</h2><div class=\"legend\"><span style=\"color:#1f77b4\">■ train</span><span style=\"color:#d62728\">■ validation (val_{WebUtility.HtmlEncode(name)})</span></div>");
            sb.Append(Chart([(T(name), "#1f77b4"), (V(name), "#d62728")], "step", name));
        }
        sb.Append("<h2>Final statistics</h2><table><tr><th>statistic</th><th>last train step</th><th>validation</th></tr>");
        foreach (var name in order)
            sb.Append($"<tr><td>{WebUtility.HtmlEncode(name)}</td><td>{Last(T(name))}</td><td>{Last(V(name))}</td></tr>");
        return sb.Append("</table>").ToString();

        static string Last(List<(double X, double Y)> s) => s.Count == 0 ? "" : s[^1].Y.ToString("G5", CultureInfo.InvariantCulture);
    }

    /// <summary>An SVG line chart of several series on shared axes.</summary>
    public static string Chart(IReadOnlyList<(List<(double X, double Y)> Points, string Color)> series, string xLabel, string yLabel)
    {
        const int W = 720, H = 300, L = 70, R = 20, Top = 20, Bottom = 40;
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        if (all.Count == 0) return "<p>(no data)</p>";
        double x0 = all.Min(p => p.X), x1 = Math.Max(all.Max(p => p.X), x0 + 1);
        double y0 = all.Min(p => p.Y), y1 = all.Max(p => p.Y);
        if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
        string Px(double x) => (L + (x - x0) / (x1 - x0) * (W - L - R)).ToString("F1", CultureInfo.InvariantCulture);
        string Py(double y) => (Top + (1 - (y - y0) / (y1 - y0)) * (H - Top - Bottom)).ToString("F1", CultureInfo.InvariantCulture);
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">");
        sb.Append($"<rect x=\"{L}\" y=\"{Top}\" width=\"{W - L - R}\" height=\"{H - Top - Bottom}\" fill=\"none\" stroke=\"#999\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double y = y0 + (y1 - y0) * i / 4, x = x0 + (x1 - x0) * i / 4;
            sb.Append($"<text x=\"{L - 6}\" y=\"{Py(y)}\" font-size=\"11\" text-anchor=\"end\">{y.ToString("G4", CultureInfo.InvariantCulture)}</text>");
            // Steps are integers: label the ticks as such once the range is wide enough.
            string xText = x1 - x0 >= 8 ? Math.Round(x).ToString(CultureInfo.InvariantCulture) : x.ToString("G5", CultureInfo.InvariantCulture);
            sb.Append($"<text x=\"{Px(x)}\" y=\"{H - Bottom + 16}\" font-size=\"11\" text-anchor=\"middle\">{xText}</text>");
        }
        sb.Append($"<text x=\"{(L + W - R) / 2}\" y=\"{H - 6}\" font-size=\"12\" text-anchor=\"middle\">{WebUtility.HtmlEncode(xLabel)}</text>");
        sb.Append($"<text x=\"14\" y=\"{(Top + H - Bottom) / 2}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {(Top + H - Bottom) / 2})\">{WebUtility.HtmlEncode(yLabel)}</text>");
        foreach (var (points, color) in series)
        {
            var pts = points.Where(p => double.IsFinite(p.Y)).ToList();
            if (pts.Count == 0) continue;
            // At most ~1000 points per line keeps the file small for long runs.
            int stride = Math.Max(1, pts.Count / 1000);
            var path = string.Join(" ", pts.Where((_, i) => i % stride == 0 || i == pts.Count - 1).Select(p => $"{Px(p.X)},{Py(p.Y)}"));
            sb.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{path}\"/>");
            if (pts.Count < 50) foreach (var p in pts) sb.Append($"<circle cx=\"{Px(p.X)}\" cy=\"{Py(p.Y)}\" r=\"2.5\" fill=\"{color}\"/>");
        }
        return sb.Append("</svg>").ToString();
    }
}
