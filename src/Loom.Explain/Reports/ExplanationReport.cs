// An explanation written for people and programs: explanation.json (the TextExplanation record,
// snake_case) and explanation.html — self-contained, one highlighted copy of the text per explained
// class (green: toward the class, red: against it; opacity ∝ |weight| / the largest |weight| of
// that class) and a table of its top words.
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Loom.Explain.Reports;

/// <summary>JSON and HTML renderings of a <see cref="TextExplanation"/>.</summary>
public static class ExplanationReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The explanation as indented JSON.</summary>
    public static string ToJson(TextExplanation e) => JsonSerializer.Serialize(e, Json);

    /// <summary>A self-contained HTML page.</summary>
    public static string ToHtml(TextExplanation e, string? title = null)
    {
        var sb = new StringBuilder();
        string method = e.Method == "lime" ? "LIME (Ribeiro et al. 2016)" : "Integrated gradients (Sundararajan et al. 2017)";
        sb.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(Enc(title ?? "Loom explanation")).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.7;color:#222}")
          .Append(".text{border:1px solid #ddd;padding:1rem;border-radius:6px;white-space:pre-wrap}.text span{border-radius:3px}")
          .Append("table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
          .Append(".pos{color:#1a7f37}.neg{color:#c0392b}small{color:#666}</style></head><body>");
        sb.Append("<h1>").Append(Enc(title ?? "Why this prediction?")).Append("</h1><p><small>").Append(Enc(method));
        foreach (var (k, v) in e.Details) sb.Append(" · ").Append(Enc(k)).Append(' ').Append(Num(v));
        sb.Append("</small></p>");
        foreach (var c in e.Classes)
        {
            double max = c.SegmentWeights.Select(Math.Abs).DefaultIfEmpty(0).Max();
            sb.Append("<h2>").Append(Enc(c.Label)).Append(" <small>p = ").Append(Num(c.Probability)).Append("</small></h2><div class=\"text\">");
            for (int i = 0; i < e.Segments.Count; i++)
            {
                double w = c.SegmentWeights[i];
                string seg = Enc(e.Segments[i]) + (e.Method == "lime" ? "" : " ");
                if (w == 0 || max == 0) { sb.Append(seg); continue; }
                double a = Math.Abs(w) / max * 0.8;
                string rgb = w > 0 ? "46,160,67" : "214,48,49";
                sb.Append("<span title=\"").Append(Num(w)).Append("\" style=\"background:rgba(").Append(rgb).Append(',').Append(a.ToString("F3", CultureInfo.InvariantCulture)).Append(")\">").Append(seg).Append("</span>");
            }
            sb.Append("</div><table><tr><th>word</th><th>weight</th></tr>");
            foreach (var t in c.Top)
                sb.Append("<tr><td>").Append(Enc(t.Word)).Append("</td><td class=\"n ").Append(t.Weight >= 0 ? "pos" : "neg").Append("\">").Append(Num(t.Weight)).Append("</td></tr>");
            sb.Append("</table>");
            if (e.Method == "lime" && c.Score is { } r2) sb.Append("<p><small>local model: intercept ").Append(Num(c.Intercept ?? 0)).Append(", weighted R² ").Append(Num(r2)).Append(", prediction at the text ").Append(Num(c.LocalPrediction ?? 0)).Append("</small></p>");
            if (e.Method != "lime" && c.Score is { } d) sb.Append("<p><small>Σ attributions ").Append(Num(c.LocalPrediction ?? 0)).Append(" vs logit(x) − logit(baseline) ").Append(Num(d)).Append("</small></p>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    /// <summary>Writes explanation.json and explanation.html into <paramref name="directory"/>; returns their paths.</summary>
    public static (string Json, string Html) Write(TextExplanation e, string directory)
    {
        Directory.CreateDirectory(directory);
        string json = Path.Combine(directory, "explanation.json"), html = Path.Combine(directory, "explanation.html");
        Loom.Core.IO.DurableFile.WriteAllText(json, ToJson(e));
        Loom.Core.IO.DurableFile.WriteAllText(html, ToHtml(e));
        return (json, html);
    }

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
    private static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
