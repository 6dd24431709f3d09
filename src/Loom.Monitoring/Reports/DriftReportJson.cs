// report.json: the whole DriftReport, numbers as JSON numbers (non-finite ones as null), names in snake_case.
using System.Text;
using System.Text.Json;

namespace Loom.Monitoring.Reports;

/// <summary>Writes a <see cref="DriftReport"/> as JSON.</summary>
public static class DriftReportJson
{
    /// <summary>The report as indented JSON text.</summary>
    public static string Serialize(DriftReport report)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("reference", report.Reference);
            w.WriteString("current", report.Current);
            w.WriteNumber("reference_rows", report.ReferenceRows);
            w.WriteNumber("current_rows", report.CurrentRows);
            w.WriteNumber("drift_share", report.DriftShare);
            w.WriteNumber("drift_share_threshold", report.DriftShareThreshold);
            w.WriteBoolean("dataset_drift", report.DatasetDrift);
            w.WriteStartArray("drifted_features");
            foreach (var n in report.DriftedFeatures) w.WriteStringValue(n);
            w.WriteEndArray();
            if (report.Embedder != null) w.WriteString("embedder", report.Embedder);
            if (report.Vocabulary != null) w.WriteString("vocabulary", report.Vocabulary);
            w.WriteStartArray("features");
            foreach (var f in report.Features)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("column", f.Column);
                w.WriteString("role", f.Role.ToString().ToLowerInvariant());
                w.WriteString("drift_kind", f.Role switch { Data.ColumnRole.Prediction => "prediction", Data.ColumnRole.Label => "label", _ => "data" });
                w.WriteString("type", f.Kind.ToString().ToLowerInvariant());
                w.WriteString("test", f.Test);
                Number(w, "statistic", f.Statistic);
                if (f.PValue is double p) Number(w, "p_value", p); else w.WriteNull("p_value");
                Number(w, "score", f.Score);
                Number(w, "threshold", f.Threshold);
                w.WriteBoolean("drifted", f.Drifted);
                w.WriteNumber("reference_count", f.ReferenceCount);
                w.WriteNumber("current_count", f.CurrentCount);
                if (f.Detail != null) w.WriteString("detail", f.Detail);
                if (f.Bins != null)
                {
                    w.WriteStartObject("bins");
                    w.WriteStartArray("labels"); foreach (var l in f.Bins.Labels) w.WriteStringValue(l); w.WriteEndArray();
                    w.WriteStartArray("reference"); foreach (var v in f.Bins.Reference) w.WriteNumberValue(v); w.WriteEndArray();
                    w.WriteStartArray("current"); foreach (var v in f.Bins.Current) w.WriteNumberValue(v); w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (report.Concept is { } c)
            {
                w.WriteStartObject("concept_drift");
                w.WriteString("prediction_column", c.PredictionColumn);
                w.WriteString("label_column", c.LabelColumn);
                Number(w, "reference_accuracy", c.ReferenceAccuracy);
                Number(w, "current_accuracy", c.CurrentAccuracy);
                w.WriteString("detector", "ddm");
                w.WriteStartArray("ddm_detections"); foreach (var i in c.DdmDetections) w.WriteNumberValue(i); w.WriteEndArray();
                w.WriteStartArray("adwin_detections"); foreach (var i in c.AdwinDetections) w.WriteNumberValue(i); w.WriteEndArray();
                w.WriteBoolean("drifted", c.Drifted);
                w.WriteEndObject();
            }
            w.WriteStartArray("time_series");
            foreach (var p in report.TimeSeries)
            {
                w.WriteStartObject();
                w.WriteNumber("window", p.Index);
                if (p.Start is { } s) w.WriteString("start", s.UtcDateTime.ToString("O")); else w.WriteNull("start");
                if (p.End is { } e) w.WriteString("end", e.UtcDateTime.ToString("O")); else w.WriteNull("end");
                w.WriteNumber("rows", p.Rows);
                Number(w, "drift_share", p.DriftShare);
                w.WriteStartArray("drifted_features"); foreach (var n in p.DriftedFeatures) w.WriteStringValue(n); w.WriteEndArray();
                if (p.Accuracy is double a) Number(w, "accuracy", a); else w.WriteNull("accuracy");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }
}
