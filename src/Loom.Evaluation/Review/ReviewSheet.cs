// The sheet human raters fill in: a self-contained HTML page (inline CSS and a few lines of inline
// script, no network) with each item, a choice of ratings and a comment box; "Download ratings"
// saves the rater's answers as CSV (id,rater,rating,comment) which `loom eval review --ratings` reads
// back. The CSV form is for raters who work in a spreadsheet: id, prompt, response(s), and empty
// rating and comment columns to fill.
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Evaluation.Review;

/// <summary>Reads review items and writes rating sheets.</summary>
public static class ReviewSheet
{
    /// <summary>Items from JSONL: {id, prompt, response} or {id, prompt, response_a, response_b}, optionally "human" (a verdict or score).</summary>
    public static List<ReviewItem> ReadItems(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--input {path}: no such file.", path);
        var items = new List<ReviewItem>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonObject o;
            try { o = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{path}:{line}: not a JSON object."); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: not valid JSON ({e.Message.Split(" Path:")[0]}).", e); }
            string Str(string key) => o[key] is JsonValue v && v.TryGetValue(out string? s) ? s : o[key]?.ToJsonString() ?? "";
            string id = o.ContainsKey("id") ? Str("id") : (items.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!ids.Add(id)) throw new InvalidDataException($"{path}:{line}: id \"{id}\" appears twice; every item needs its own id.");
            bool pair = o.ContainsKey("response_a") || o.ContainsKey("response_b");
            if (pair && !(o.ContainsKey("response_a") && o.ContainsKey("response_b")))
                throw new InvalidDataException($"{path}:{line}: a pairwise item needs both response_a and response_b.");
            if (!pair && !o.ContainsKey("response"))
                throw new InvalidDataException($"{path}:{line}: no \"response\" (or response_a + response_b); each item is {{id, prompt, response}} or {{id, prompt, response_a, response_b}}.");
            string? human = o.ContainsKey("human") ? Str("human") : null;
            items.Add(pair ? new ReviewItem(id, Str("prompt"), null, Str("response_a"), Str("response_b"), human) : new ReviewItem(id, Str("prompt"), Str("response"), null, null, human));
        }
        if (items.Count == 0) throw new InvalidDataException($"{path} holds no items.");
        return items;
    }

    /// <summary>The CSV sheet: id, prompt, response (or response_a, response_b), rating, comment.</summary>
    public static string Csv(IReadOnlyList<ReviewItem> items)
    {
        bool pair = items[0].IsPairwise;
        var sb = new StringBuilder();
        sb.Append(Review.Csv.Row(pair ? ["id", "prompt", "response_a", "response_b", "rating", "comment"] : ["id", "prompt", "response", "rating", "comment"])).Append("\r\n");
        foreach (var it in items)
            sb.Append(Review.Csv.Row(pair ? [it.Id, it.Prompt, it.ResponseA!, it.ResponseB!, "", ""] : [it.Id, it.Prompt, it.Response!, "", ""])).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>The HTML sheet with <paramref name="scale"/> as the rating choices.</summary>
    public static string Html(IReadOnlyList<ReviewItem> items, IReadOnlyList<string> scale, string title = "Loom review sheet", string? instructions = null)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}.item{border:1px solid #ccc;padding:1em;margin:1em 0}")
          .Append("pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}.pair{display:flex;gap:1em}.pair>div{flex:1}label{margin-right:1em}")
          .Append("</style></head><body><h1>").Append(E(title)).Append("</h1>");
        sb.Append("<p>").Append(E(instructions ?? (items[0].IsPairwise
            ? "For each item, choose which response is better (A or B), or tie. Then press Download ratings and send the file back."
            : "For each item, rate the response. Then press Download ratings and send the file back."))).Append("</p>");
        sb.Append("<p><label>Your name <input id=\"rater\" required></label></p><form id=\"sheet\">");
        foreach (var it in items)
        {
            string id = E(it.Id);
            sb.Append("<div class=\"item\" data-id=\"").Append(id).Append("\"><h3>").Append(id).Append("</h3><pre>").Append(E(it.Prompt)).Append("</pre>");
            if (it.IsPairwise)
                sb.Append("<div class=\"pair\"><div><b>A</b><pre>").Append(E(it.ResponseA!)).Append("</pre></div><div><b>B</b><pre>").Append(E(it.ResponseB!)).Append("</pre></div></div>");
            else sb.Append("<b>Response</b><pre>").Append(E(it.Response!)).Append("</pre>");
            foreach (var s in scale)
                sb.Append("<label><input type=\"radio\" name=\"r-").Append(id).Append("\" value=\"").Append(E(s)).Append("\"> ").Append(E(s)).Append("</label>");
            sb.Append("<br><label>Comment <input name=\"c-").Append(id).Append("\" size=\"60\"></label></div>");
        }
        sb.Append("</form><button id=\"save\">Download ratings</button><script>")
          .Append("function q(s){s=String(s);return /[\",\\r\\n]/.test(s)?'\"'+s.replace(/\"/g,'\"\"')+'\"':s}")
          .Append("document.getElementById('save').onclick=function(){var r=document.getElementById('rater').value.trim();if(!r){alert('Enter your name first.');return}")
          .Append("var rows=['id,rater,rating,comment'];document.querySelectorAll('.item').forEach(function(d){var id=d.dataset.id;")
          .Append("var c=d.querySelector('input[type=radio]:checked');var m=d.querySelector('input[name=\"c-'+CSS.escape(id)+'\"]');")
          .Append("rows.push([id,r,c?c.value:'',m?m.value:''].map(q).join(','))});")
          .Append("var a=document.createElement('a');a.href=URL.createObjectURL(new Blob([rows.join('\\r\\n')+'\\r\\n'],{type:'text/csv'}));")
          .Append("a.download='ratings-'+r.replace(/[^A-Za-z0-9_-]/g,'_')+'.csv';a.click()};</script></body></html>\n");
        return sb.ToString();
    }
}
