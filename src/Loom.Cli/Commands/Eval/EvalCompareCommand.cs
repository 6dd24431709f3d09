// `loom eval compare A.json B.json`: two harness results files side by side (Loom.Evaluation/Harness/
// ResultComparison): a table on the console, the comparison as JSON on stdout.
using System.CommandLine;
using System.Text.Json;
using Loom.Evaluation.Harness;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalCompareCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var a = new Argument<FileInfo>("a") { Description = "The first results.json (the baseline)." };
        var b = new Argument<FileInfo>("b") { Description = "The second results.json." };
        var cmd = new Command("compare", "Compare two `loom eval harness` results files: values, B − A, and whether the bootstrap intervals overlap.") { a, b };
        cmd.SetAction(parse =>
        {
            var ra = HarnessResults.Read(parse.GetValue(a)!.FullName);
            var rb = HarnessResults.Read(parse.GetValue(b)!.FullName);
            var rows = ResultComparison.Compare(ra, rb);
            var table = new Table().AddColumns("task", "metric", "A", "B", "B − A", "intervals");
            foreach (var r in rows)
                table.AddRow(Markup.Escape(r.Task), Markup.Escape(r.Metric), F(r.A), F(r.B), F(r.Difference),
                    r.IntervalsOverlap is null ? "—" : r.IntervalsOverlap.Value ? "overlap" : "[bold]disjoint[/]");
            console.Write(table);
            parse.InvocationConfiguration.Output.WriteLine(ResultComparison.ToJson(ra, rb, rows).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    private static string F(double? v) => v is double d ? d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "—";
}
