// report.html: one self-contained page (no script, no external file; inline CSS and SVG) — the verdict and drift
// share as a bar, a table of every feature's test, statistic, p-value, threshold and verdict, an overlaid histogram
// per feature (reference and current proportions per bin, drawn over each other), concept drift, and the time
// series of drift share (and accuracy) per window. Every text from the data is HTML-escaped.
using System.Globalization;
using System.Net;
using System.Text;

namespace Loom.Monitoring.Reports;

/// <summary>Renders a <see cref="DriftReport"/> as a self-contained HTML page.</summary>
public static class DriftReportHtml
{
    private const string RefColor = "#1f77b4", CurColor = "#ff7f0e";

    /// <summary>The page.</summary>
    public static string Render(DriftReport report)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Loom drift report</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}")
          .Append("td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}")
          .Append(".drift{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}.grid{display:flex;flex-wrap:wrap;gap:16px}")
          .Append(".card{border:1px solid #ddd;border-radius:6px;padding:8px}.small{font-size:12px;color:#555}")
          .Append("</style></head><body>\n");
        sb.Append("<h1>Drift report</h1>\n<p class=\"small\">reference: ").Append(E(report.Reference)).Append(" (").Append(report.ReferenceRows)
          .Append(" rows) · current: ").Append(E(report.Current)).Append(" (").Append(report.CurrentRows).Append(" rows)</p>\n");
        sb.Append("<h2 id=\"verdict\">").Append(report.DatasetDrift ? "<span class=\"drift\">Dataset drift detected</span>" : "<span class=\"ok\">No dataset drift</span>")
          .Append("</h2>\n<p>").Append(report.Features.Count(f => f.Drifted)).Append(" of ").Append(report.Features.Count)
          .Append(" features drifted (share ").Append(F(report.DriftShare)).Append("; the dataset drifts at ").Append(F(report.DriftShareThreshold)).Append(").</p>\n");
        sb.Append(ShareBar(report.DriftShare, report.DriftShareThreshold));
        if (report.Embedder != null) sb.Append("<p class=\"small\">embeddings: ").Append(E(report.Embedder)).Append("</p>\n");
        if (report.Vocabulary != null) sb.Append("<p class=\"small\">OOV vocabulary: ").Append(E(report.Vocabulary)).Append("</p>\n");

        sb.Append("<h2>Features</h2>\n<table id=\"features\"><tr><th>feature</th><th>drift kind</th><th>type</th><th>test</th><th>statistic</th><th>p-value</th><th>score</th><th>threshold</th><th>drift</th><th>detail</th></tr>\n");
        foreach (var f in report.Features)
        {
            string kind = f.Role switch { Data.ColumnRole.Prediction => "prediction", Data.ColumnRole.Label => "label", _ => "data" };
            sb.Append("<tr><td>").Append(E(f.Name)).Append("</td><td>").Append(kind).Append("</td><td>").Append(f.Kind.ToString().ToLowerInvariant())
              .Append("</td><td>").Append(E(f.Test)).Append("</td><td>").Append(F(f.Statistic)).Append("</td><td>").Append(f.PValue is double p ? F(p) : "—")
              .Append("</td><td>").Append(F(f.Score)).Append("</td><td>").Append(F(f.Threshold)).Append("</td><td>")
              .Append(f.Drifted ? "<span class=\"drift\">yes</span>" : "<span class=\"ok\">no</span>").Append("</td><td class=\"small\">").Append(E(f.Detail ?? "")).Append("</td></tr>\n");
        }
        sb.Append("</table>\n");

        sb.Append("<h2>Distributions</h2>\n<p class=\"small\"><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"").Append(RefColor)
          .Append("\" fill-opacity=\"0.5\"/></svg> reference <svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"").Append(CurColor)
          .Append("\" fill-opacity=\"0.5\"/></svg> current (share of rows per bin)</p>\n<div class=\"grid\">\n");
        foreach (var f in report.Features.Where(f => f.Bins != null))
            sb.Append("<div class=\"card\"><div>").Append(E(f.Name)).Append(f.Drifted ? " <span class=\"drift\">drift</span>" : "").Append("</div>")
              .Append(Histogram(f.Bins!)).Append("</div>\n");
        sb.Append("</div>\n");

        if (report.Concept is { } c)
        {
            sb.Append("<h2>Concept drift</h2>\n<p>").Append(E(c.PredictionColumn)).Append(" vs ").Append(E(c.LabelColumn)).Append(": accuracy ")
              .Append(F(c.ReferenceAccuracy)).Append(" on the reference, ").Append(F(c.CurrentAccuracy)).Append(" now. DDM ")
              .Append(c.Drifted ? $"<span class=\"drift\">signalled drift at current rows {string.Join(", ", c.DdmDetections.Take(20))}</span>" : "<span class=\"ok\">signalled no drift</span>")
              .Append("; ADWIN shrank its window at ").Append(c.AdwinDetections.Count).Append(" checks.</p>\n");
        }
        if (report.TimeSeries.Count > 0)
        {
            sb.Append("<h2>Time series</h2>\n<p class=\"small\">drift share per window of current rows");
            if (report.TimeSeries.Any(p => p.Accuracy != null)) sb.Append(" (orange: accuracy)");
            sb.Append("</p>\n").Append(TimeSeries(report.TimeSeries));
            sb.Append("<table id=\"windows\"><tr><th>window</th><th>start</th><th>rows</th><th>drift share</th><th>accuracy</th><th>drifted features</th></tr>\n");
            foreach (var p in report.TimeSeries)
                sb.Append("<tr><td>").Append(p.Index).Append("</td><td>").Append(p.Start is { } s ? s.UtcDateTime.ToString("u", CultureInfo.InvariantCulture) : "—")
                  .Append("</td><td>").Append(p.Rows).Append("</td><td>").Append(F(p.DriftShare)).Append("</td><td>").Append(p.Accuracy is double a ? F(a) : "—")
                  .Append("</td><td class=\"small\">").Append(E(string.Join(", ", p.DriftedFeatures))).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string ShareBar(double share, double threshold)
    {
        const int W = 400, H = 18;
        return $"<svg class=\"share\" width=\"{W}\" height=\"{H + 14}\" viewBox=\"0 0 {W} {H + 14}\" xmlns=\"http://www.w3.org/2000/svg\">"
            + $"<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#eee\"/>"
            + $"<rect x=\"0\" y=\"0\" width=\"{N(W * share)}\" height=\"{H}\" fill=\"{(share >= threshold ? "#b00020" : "#1b7f3b")}\"/>"
            + $"<line x1=\"{N(W * threshold)}\" y1=\"0\" x2=\"{N(W * threshold)}\" y2=\"{H + 4}\" stroke=\"#000\" stroke-dasharray=\"3,2\"/>"
            + $"<text x=\"{N(W * threshold)}\" y=\"{H + 13}\" font-size=\"10\" text-anchor=\"middle\">threshold</text></svg>\n";
    }

    // Overlaid bars: each bin's reference and current proportion drawn at the same x, semi-transparent.
    private static string Histogram(Statistics.Histogram h)
    {
        int bins = Math.Min(h.Labels.Count, 30);
        const int W = 300, H = 140, Pad = 24;
        double max = 1e-12;
        for (int i = 0; i < bins; i++) max = Math.Max(max, Math.Max(h.Reference[i], h.Current[i]));
        double bw = (W - 2.0 * Pad) / bins;
        var sb = new StringBuilder();
        sb.Append($"<svg class=\"hist\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append($"<line x1=\"{Pad}\" y1=\"{H - Pad}\" x2=\"{W - Pad}\" y2=\"{H - Pad}\" stroke=\"#888\"/>");
        for (int i = 0; i < bins; i++)
        {
            double x = Pad + i * bw;
            foreach (var (v, color, series) in new[] { (h.Reference[i], RefColor, "reference"), (h.Current[i], CurColor, "current") })
            {
                double bh = (H - 2.0 * Pad) * v / max;
                sb.Append($"<rect data-series=\"{series}\" x=\"{N(x + 1)}\" y=\"{N(H - Pad - bh)}\" width=\"{N(Math.Max(bw - 2, 1))}\" height=\"{N(bh)}\" fill=\"{color}\" fill-opacity=\"0.5\"><title>{E(h.Labels[i])}: {series} {F(v)}</title></rect>");
            }
        }
        sb.Append($"<text x=\"{Pad}\" y=\"{H - 6}\" font-size=\"10\">{E(Short(h.Labels[0]))}</text>");
        sb.Append($"<text x=\"{W - Pad}\" y=\"{H - 6}\" font-size=\"10\" text-anchor=\"end\">{E(Short(h.Labels[bins - 1]))}</text>");
        sb.Append($"<text x=\"{Pad}\" y=\"{Pad - 8}\" font-size=\"10\">max {F(max)}</text></svg>");
        return sb.ToString();
    }

    private static string TimeSeries(IReadOnlyList<WindowPoint> points)
    {
        const int W = 600, H = 180, Pad = 30;
        var sb = new StringBuilder();
        sb.Append($"<svg class=\"series\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append($"<line x1=\"{Pad}\" y1=\"{H - Pad}\" x2=\"{W - Pad}\" y2=\"{H - Pad}\" stroke=\"#888\"/><line x1=\"{Pad}\" y1=\"{Pad}\" x2=\"{Pad}\" y2=\"{H - Pad}\" stroke=\"#888\"/>");
        sb.Append($"<text x=\"4\" y=\"{Pad + 4}\" font-size=\"10\">1</text><text x=\"4\" y=\"{H - Pad + 4}\" font-size=\"10\">0</text>");
        double X(int i) => Pad + (points.Count == 1 ? (W - 2.0 * Pad) / 2 : i * (W - 2.0 * Pad) / (points.Count - 1));
        double Y(double v) => H - Pad - v * (H - 2.0 * Pad);
        sb.Append("<polyline data-series=\"drift_share\" fill=\"none\" stroke=\"").Append(RefColor).Append("\" stroke-width=\"2\" points=\"")
          .Append(string.Join(" ", points.Select((p, i) => $"{N(X(i))},{N(Y(p.DriftShare))}"))).Append("\"/>");
        foreach (var (p, i) in points.Select((p, i) => (p, i)))
            sb.Append($"<circle cx=\"{N(X(i))}\" cy=\"{N(Y(p.DriftShare))}\" r=\"3\" fill=\"{RefColor}\"><title>window {p.Index}: drift share {F(p.DriftShare)}, {p.Rows} rows</title></circle>");
        var acc = points.Select((p, i) => (p, i)).Where(t => t.p.Accuracy != null).ToList();
        if (acc.Count > 0)
            sb.Append("<polyline data-series=\"accuracy\" fill=\"none\" stroke=\"").Append(CurColor).Append("\" stroke-width=\"2\" points=\"")
              .Append(string.Join(" ", acc.Select(t => $"{N(X(t.i))},{N(Y(t.p.Accuracy!.Value))}"))).Append("\"/>");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Short(string s) => s.Length <= 24 ? s : s[..23] + "…";
    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string F(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : (double.IsNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞");
    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
