// The JSON line `loom classify` and `loom-run classify` print for one text: {"label": name,
// "probabilities": {name: p, ...}} for single-label models (softmax), {"labels": [names with p > 0.5],
// "probabilities": {...}} for multi-label ones (sigmoid), {"score": x} (or "scores": [...]) for
// regression. Probabilities are rounded to 6 digits. One writer for both commands, so their outputs are
// equal by construction; Utf8JsonWriter needs no reflection, so the NativeAOT runner can use it as is.
using System.Text;
using System.Text.Json;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>Formats one classifier output as the classify commands' JSON line.</summary>
public static class PredictionLine
{
    /// <summary>The JSON object (no newline) for the raw scores <paramref name="z"/> (logits, or regression outputs) of one text.</summary>
    public static string Format(ProblemType type, IReadOnlyList<string> names, ReadOnlySpan<double> z)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (type == ProblemType.Regression)
            {
                if (z.Length == 1) w.WriteNumber("score", z[0]);
                else { w.WriteStartArray("scores"); foreach (var v in z) w.WriteNumberValue(v); w.WriteEndArray(); }
            }
            else
            {
                var p = new double[z.Length];
                if (type == ProblemType.SingleLabel)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    foreach (var v in z) max = Math.Max(max, v);
                    for (int i = 0; i < z.Length; i++) sum += p[i] = Math.Exp(z[i] - max);
                    for (int i = 0; i < z.Length; i++) p[i] /= sum;
                    int best = 0;
                    for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
                    w.WriteString("label", names[best]);
                }
                else
                {
                    for (int i = 0; i < z.Length; i++) p[i] = 1 / (1 + Math.Exp(-z[i]));
                    w.WriteStartArray("labels");
                    for (int i = 0; i < p.Length; i++) if (p[i] > 0.5) w.WriteStringValue(names[i]);
                    w.WriteEndArray();
                }
                w.WriteStartObject("probabilities");
                for (int i = 0; i < p.Length; i++) w.WriteNumber(names[i], Math.Round(p[i], 6));
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
