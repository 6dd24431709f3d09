// The JSON shape of every evaluation report: snake_case names (as the rest of Loom's run files and
// Hugging Face's), indented, enums as snake_case strings, null for an undefined metric.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Evaluation.Reports;

internal static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // A NaN that slips through is written as "NaN" rather than failing the whole report.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static double? Defined(double value) => double.IsNaN(value) ? null : value;
}
