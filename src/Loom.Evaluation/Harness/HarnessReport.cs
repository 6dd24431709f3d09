// report.html of a harness run: one self-contained page (no scripts, no external assets) with a
// table per task — each metric, its value and its bootstrap interval drawn as a bar on [0, 1] for
// bounded metrics.
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Loom.Evaluation.Harness;

/// <summary>Renders results objects as HTML.</summary>
public static class HarnessReport
{
    public static string Html(JsonObject results)
    {
        var sb = new StringBuilder();
        string model = results["model"]?.GetValue<string>() ?? "";
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Loom harness: ").Append(WebUtility.HtmlEncode(model)).Append("</title>");
        sb.Append("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}")
          .Append(".bar{position:relative;width:200px;height:12px;background:#eee}.ci{position:absolute;height:12px;background:#9bc}.pt{position:absolute;width:2px;height:12px;background:#024}</style></head><body>");
        sb.Append("<h1>Harness results</h1><p>model <b>").Append(WebUtility.HtmlEncode(model)).Append("</b>, ")
          .Append(WebUtility.HtmlEncode(results["created"]?.GetValue<string>() ?? "")).Append(", config <code>")
          .Append(WebUtility.HtmlEncode(results["config"]?.ToJsonString() ?? "")).Append("</code></p>");
        foreach (var (name, node) in (JsonObject)results["tasks"]!)
        {
            var t = (JsonObject)node!;
            sb.Append("<h2>").Append(WebUtility.HtmlEncode(name)).Append("</h2><p>").Append(WebUtility.HtmlEncode(t["output_type"]?.GetValue<string>() ?? ""))
              .Append(", ").Append(t["documents"]).Append(" documents, ").Append(t["num_fewshot"]).Append("-shot</p>");
            sb.Append("<table><tr><th>metric</th><th>value</th><th>interval</th><th></th></tr>");
            foreach (var (metric, mNode) in (JsonObject)t["metrics"]!)
            {
                var m = (JsonObject)mNode!;
                double v = m["value"]!.GetValue<double>(), lo = m["ci_lower"]!.GetValue<double>(), hi = m["ci_upper"]!.GetValue<double>();
                sb.Append("<tr><td>").Append(WebUtility.HtmlEncode(metric)).Append("</td><td>").Append(F(v)).Append("</td><td>[")
                  .Append(F(lo)).Append(", ").Append(F(hi)).Append("] at ").Append(F(m["confidence"]!.GetValue<double>() * 100)).Append("%</td><td>");
                if (lo >= 0 && hi <= 1)
                    sb.Append("<div class=\"bar\"><div class=\"ci\" style=\"left:").Append(F(lo * 200)).Append("px;width:").Append(F(Math.Max(1, (hi - lo) * 200)))
                      .Append("px\"></div><div class=\"pt\" style=\"left:").Append(F(v * 200)).Append("px\"></div></div>");
                sb.Append("</td></tr>");
            }
            sb.Append("</table>");
            if (t["warnings"] is JsonArray w && w.Count > 0)
            {
                sb.Append("<ul>");
                foreach (var x in w) sb.Append("<li>warning: ").Append(WebUtility.HtmlEncode(x?.GetValue<string>() ?? "")).Append("</li>");
                sb.Append("</ul>");
            }
        }
        return sb.Append("</body></html>\n").ToString();
    }

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
