// `loom eval review --input FILE --output sheet.html|sheet.csv`: a rating sheet for human raters
// (Loom.Evaluation/Review/ReviewSheet). `loom eval review --ratings FILE...`: reads raters' CSV files
// back and prints agreement (Cohen's kappa per pair, Fleiss' kappa over all raters) as one JSON object.
using System.CommandLine;
using System.Text.Json;
using Loom.Evaluation.Review;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalReviewCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var input = new Option<FileInfo?>("--input") { Description = "JSONL items: {id, prompt, response} or {id, prompt, response_a, response_b}." };
        var output = new Option<FileInfo?>("--output") { Description = "The sheet: .html (self-contained, raters download their CSV from it) or .csv (for a spreadsheet)." };
        var scale = new Option<string?>("--scale") { Description = "Rating choices, comma-separated (default 1,2,3,4,5; pairwise A,B,tie)." };
        var ratings = new Option<FileInfo[]>("--ratings") { Description = "Raters' CSV files (id,rater,rating[,comment]) to read back.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var cmd = new Command("review", "Write a rating sheet for human raters (HTML or CSV), or read their ratings back with Cohen's and Fleiss' kappa.") { input, output, scale, ratings };
        cmd.SetAction(parse =>
        {
            var files = parse.GetValue(ratings)!;
            if (files.Length > 0)
            {
                if (parse.GetValue(input) != null || parse.GetValue(output) != null)
                    throw new ArgumentException("--ratings reads ratings back; it does not combine with --input/--output (write the sheet in a separate run).");
                var summary = RatingsSummary.Read(files.Select(f => f.FullName)).ToJson();
                console.MarkupLine($"{summary["raters"]!.AsArray().Count} rater(s), {summary["items_rated_by_all"]} item(s) rated by all" +
                    (summary["fleiss_kappa"] is { } fk ? $", Fleiss' kappa [bold]{fk.GetValue<double>():0.####}[/]" : ""));
                parse.InvocationConfiguration.Output.WriteLine(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var inFile = parse.GetValue(input) ?? throw new ArgumentException("Give --input FILE.jsonl and --output sheet.html|sheet.csv to write a sheet, or --ratings FILE... to read ratings back.");
            var outFile = parse.GetValue(output) ?? throw new ArgumentException("--output is missing: a sheet path ending in .html or .csv.");
            var items = ReviewSheet.ReadItems(inFile.FullName);
            string ext = Path.GetExtension(outFile.FullName).ToLowerInvariant();
            var choices = (parse.GetValue(scale) ?? (items[0].IsPairwise ? "A,B,tie" : "1,2,3,4,5")).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (choices.Length < 2) throw new ArgumentException($"--scale needs at least two choices; got \"{parse.GetValue(scale)}\".");
            string text = ext switch
            {
                ".html" or ".htm" => ReviewSheet.Html(items, choices),
                ".csv" => ReviewSheet.Csv(items),
                _ => throw new ArgumentException($"--output {outFile.FullName}: end it in .html or .csv."),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(outFile.FullName)!);
            Loom.Core.IO.DurableFile.WriteAllText(outFile.FullName, text);
            console.MarkupLine($"wrote a {(ext == ".csv" ? "CSV" : "HTML")} sheet of {items.Count} item(s) to {Markup.Escape(outFile.FullName)}");
            return 0;
        });
        return cmd;
    }
}
