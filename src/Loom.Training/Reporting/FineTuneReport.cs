// report.html of a fine-tuning run, self-contained (inline SVG, no script, no network), in
// TrainingReport's style and with its chart: the training loss and learning rate, every validation
// metric over the steps, the best model's confusion matrix (single-label), its reliability diagram
// (Loom.Evaluation.Calibration: sklearn's calibration_curve bins, Guo et al. 2017's top-label form
// beyond two classes), the worst-classified validation examples (highest loss: text excerpt, true and
// predicted label, probabilities), and how many texts were truncated to max_length.
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Evaluation.Calibration;
using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Training.Reporting;

/// <summary>Writes a fine-tuning run's report.html.</summary>
public static class FineTuneReport
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

    public static void Write(string path, FineTuneResult result, ClassificationDataset validation, LabelSet labels, FineTuneOptions options, object modelConfig, int truncatedTrain)
    {
        var inv = CultureInfo.InvariantCulture;
        var ev = result.Evaluation;
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Loom fine-tuning report</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}table{border-collapse:collapse}")
          .Append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:1em}")
          .Append(".legend span{margin-right:1.5em}td.num{text-align:right}</style></head><body>");
        sb.Append("<h1>Loom fine-tuning report</h1>");
        sb.Append("<table><tr><th>steps</th><th>best step</th><th>").Append(H(result.Metric)).Append(" (best)</th><th>stopped early</th><th>time</th><th>train / validation examples</th><th>truncated to max_length (train / validation)</th></tr><tr>")
          .Append($"<td>{result.Steps} / {result.MaxSteps}</td><td>{result.BestStep}</td><td>{result.BestMetric.ToString("G6", inv)}</td><td>{(result.StoppedEarly ? "yes" : "no")}</td>")
          .Append($"<td>{result.Seconds:F1} s</td><td>{result.TrainExamples} / {validation.Examples.Count}</td><td>{truncatedTrain} / {validation.TruncatedCount}</td></tr></table>");
        sb.Append("<h2>Validation metrics of the saved model</h2><table><tr><th>metric</th><th>value</th></tr>");
        foreach (var (k, v) in ev.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append($"<tr><td>{H(k)}</td><td class=\"num\">{v.ToString("F4", inv)}</td></tr>");
        sb.Append("</table>");

        sb.Append("<h2>Loss</h2><div class=\"legend\"><span style=\"color:#1f77b4\">■ train</span><span style=\"color:#d62728\">■ validation</span></div>");
        var trainLoss = result.TrainHistory.Select(h => ((double)h.Step, h.Loss)).ToList();
        var valLoss = result.EvalHistory.Where(e => e.Metrics.ContainsKey("loss")).Select(e => ((double)e.Step, e.Metrics["loss"])).ToList();
        sb.Append(TrainingReport.Chart([(trainLoss, "#1f77b4"), (valLoss, "#d62728")], "step", "loss"));
        sb.Append("<h2>Learning rate</h2>");
        sb.Append(TrainingReport.Chart([(result.TrainHistory.Select(h => ((double)h.Step, h.LearningRate)).ToList(), "#2ca02c")], "step", "learning rate"));

        var names = result.EvalHistory.SelectMany(e => e.Metrics.Keys).Distinct().Where(k => k != "loss" && !FineTuneOptions.IsLossLike(k) && k is not ("mse" or "mae"))
            .Order(StringComparer.Ordinal).Where(k => k is "accuracy" or "f1" or "f1_macro" or "mcc" or "roc_auc" or "pr_auc" or "subset_accuracy" or "r2" or "pearson" || k == result.Metric).Take(Palette.Length).ToList();
        if (names.Count > 0)
        {
            sb.Append("<h2>Validation metrics</h2><div class=\"legend\">");
            for (int i = 0; i < names.Count; i++) sb.Append($"<span style=\"color:{Palette[i]}\">■ {H(names[i])}</span>");
            sb.Append("</div>");
            sb.Append(TrainingReport.Chart(names.Select((n, i) => (result.EvalHistory.Where(e => e.Metrics.ContainsKey(n)).Select(e => ((double)e.Step, e.Metrics[n])).ToList(), Palette[i])).ToList(), "step", "metric"));
        }

        if (ev.Classification is { } cls)
        {
            sb.Append("<h2>Confusion matrix</h2><p>Rows: true label; columns: predicted label.</p><table><tr><th></th>");
            foreach (var n in cls.LabelNames) sb.Append($"<th>{H(n)}</th>");
            sb.Append("</tr>");
            long max = Math.Max(1, cls.ConfusionMatrix.SelectMany(r => r).Max());
            for (int r = 0; r < cls.LabelNames.Length; r++)
            {
                sb.Append($"<tr><th>{H(cls.LabelNames[r])}</th>");
                for (int c = 0; c < cls.LabelNames.Length; c++)
                {
                    long v = cls.ConfusionMatrix[r][c];
                    int shade = 255 - (int)(160.0 * v / max);
                    sb.Append($"<td class=\"num\" style=\"background:rgb({shade},{shade},255)\">{v}</td>");
                }
                sb.Append("</tr>");
            }
            sb.Append("</table>");
            if (cls.Calibration is { } cal) sb.Append("<h2>Calibration (reliability diagram)</h2>").Append(Reliability(cal, cls.LabelNames.Length == 2));
        }

        if (options.WorstExamples > 0 && ev.Losses.Length > 0)
        {
            sb.Append($"<h2>Worst-classified validation examples</h2><p>The {Math.Min(options.WorstExamples, ev.Losses.Length)} highest losses of the saved model.</p>");
            sb.Append("<table><tr><th>line</th><th>text</th><th>true</th><th>predicted</th><th>probability (predicted / true)</th><th>loss</th></tr>");
            int k = labels.Count;
            foreach (int i in Enumerable.Range(0, ev.Losses.Length).OrderByDescending(i => ev.Losses[i]).ThenBy(i => i).Take(options.WorstExamples))
            {
                var t = validation.Texts[i];
                string text = t.Pair is null ? t.Text : t.Text + " ‖ " + t.Pair;
                if (text.Length > 300) text = text[..300] + "…";
                string truth, predicted, prob;
                if (labels.ProblemType == ProblemType.SingleLabel)
                {
                    int y = validation.Examples[i].Class, p = ev.Predictions[i];
                    truth = labels.Names[y];
                    predicted = labels.Names[p];
                    prob = $"{ev.Outputs[i * k + p].ToString("F3", inv)} / {ev.Outputs[i * k + y].ToString("F3", inv)}";
                }
                else if (labels.ProblemType == ProblemType.MultiLabel)
                {
                    truth = string.Join(", ", t.Labels);
                    predicted = string.Join(", ", Enumerable.Range(0, k).Where(j => ev.Outputs[i * k + j] > 0.5).Select(j => labels.Names[j]));
                    prob = string.Join(", ", Enumerable.Range(0, k).Select(j => ev.Outputs[i * k + j].ToString("F2", inv)));
                }
                else
                {
                    truth = string.Join(", ", validation.Examples[i].Targets!.Select(v => v.ToString("G4", inv)));
                    predicted = string.Join(", ", Enumerable.Range(0, k).Select(j => ev.Outputs[i * k + j].ToString("G4", inv)));
                    prob = "";
                }
                sb.Append($"<tr><td>{H(Path.GetFileName(t.Source))}:{t.Line}</td><td>{H(text)}</td><td>{H(truth)}</td><td>{H(predicted)}</td><td>{prob}</td><td class=\"num\">{ev.Losses[i].ToString("F3", inv)}</td></tr>");
            }
            sb.Append("</table>");
        }
        sb.Append("<h2>Settings</h2><pre>")
          .Append(H(JsonSerializer.Serialize(new { train = options, labels = labels.Names, model = modelConfig }, new JsonSerializerOptions { WriteIndented = true })))
          .Append("</pre></body></html>");
        DurableFile.WriteAllText(path, sb.ToString());
    }

    // Mean predicted probability (x) against the observed fraction of positives (y) per bin, with the diagonal.
    private static string Reliability(CalibrationCurve cal, bool binary)
    {
        var inv = CultureInfo.InvariantCulture;
        const int S = 320, M = 40;
        string X(double v) => (M + v * (S - 2 * M)).ToString("F1", inv);
        string Y(double v) => (S - M - v * (S - 2 * M)).ToString("F1", inv);
        var sb = new StringBuilder($"<p>{(binary ? "Probability of the positive class" : "Top-label confidence (Guo et al. 2017)")}; expected calibration error {cal.ExpectedCalibrationError.ToString("F4", inv)}. The dashed diagonal is perfect calibration.</p>");
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{S}\" height=\"{S}\" viewBox=\"0 0 {S} {S}\">");
        sb.Append($"<rect x=\"{M}\" y=\"{M}\" width=\"{S - 2 * M}\" height=\"{S - 2 * M}\" fill=\"none\" stroke=\"#999\"/>");
        sb.Append($"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(1)}\" y2=\"{Y(1)}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double v = i / 4.0;
            sb.Append($"<text x=\"{X(v)}\" y=\"{S - M + 16}\" font-size=\"11\" text-anchor=\"middle\">{v.ToString("G2", inv)}</text>");
            sb.Append($"<text x=\"{M - 6}\" y=\"{Y(v)}\" font-size=\"11\" text-anchor=\"end\">{v.ToString("G2", inv)}</text>");
        }
        sb.Append($"<text x=\"{S / 2}\" y=\"{S - 6}\" font-size=\"12\" text-anchor=\"middle\">mean predicted probability</text>");
        sb.Append($"<text x=\"12\" y=\"{S / 2}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 12 {S / 2})\">fraction positive</text>");
        var pts = string.Join(" ", cal.ProbabilityPredicted.Select((p, i) => $"{X(p)},{Y(cal.ProbabilityTrue[i])}"));
        sb.Append($"<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"{pts}\"/>");
        for (int i = 0; i < cal.ProbabilityPredicted.Length; i++)
            sb.Append($"<circle cx=\"{X(cal.ProbabilityPredicted[i])}\" cy=\"{Y(cal.ProbabilityTrue[i])}\" r=\"3\" fill=\"#1f77b4\"><title>{cal.Counts[i]} examples</title></circle>");
        return sb.Append("</svg>").ToString();
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);
}
