// `loom data curate` and `loom data dedup-merge`: the curation pipeline of Loom.Data from the
// command line. Without --shard the whole run (map over all cores, then merge) happens here; with
// --shard i/n only that slice is mapped, so any launcher can spread the shards over machines that
// share the output folder, and `loom data dedup-merge --output DIR` joins them.
using System.CommandLine;
using System.Text.Json.Nodes;
using Loom.Data.Pipeline;
using Loom.Data.Reporting;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class DataCommands
{
    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("data", "Curate a corpus: clean, filter, redact and de-duplicate, with an audit.");
        group.Subcommands.Add(Curate(console));
        group.Subcommands.Add(Merge(console));
        return group;
    }

    private static Command Curate(IAnsiConsole console)
    {
        var input = new Option<string[]>("--input") { Description = "Files, folders or globs (.txt, .jsonl, .csv, optionally .gz).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var output = new Option<string?>("--output") { Description = "Output folder: kept.jsonl, removed.jsonl, report.json, report.html." };
        var config = new Option<FileInfo?>("--config") { Description = "Pipeline YAML (see docs/DATA.md); without it the default pipeline runs." };
        var field = new Option<string?>("--field") { Description = "JSONL field or CSV column holding the text (default: text)." };
        var shard = new Option<string?>("--shard") { Description = "Map only slice i/n (0-based) and stop; join the slices with `loom data dedup-merge`." };
        var threads = new Option<int?>("--threads") { Description = "Parallel shards (default: the number of cores)." };
        var gzip = new Option<bool>("--gzip") { Description = "Write kept.jsonl.gz and removed.jsonl.gz." };
        var cmd = new Command("curate", "Run the curation pipeline over a corpus.") { input, output, config, field, shard, threads, gzip };
        cmd.SetAction(parse =>
        {
            JsonNode? root = null;
            var file = parse.GetValue(config);
            if (file != null)
            {
                if (!file.Exists) throw new FileNotFoundException($"Pipeline file {file.FullName} does not exist.");
                root = TrainCommand.YamlToJson(File.ReadAllText(file.FullName), file.FullName);
            }
            var cfg = CurationConfig.FromJson(root, file?.FullName ?? "(defaults)");
            var inputs = parse.GetValue(input)!;
            if (inputs.Length > 0) cfg = cfg with { Input = [.. inputs] };
            if (parse.GetValue(output) is { } o) cfg = cfg with { Output = o };
            if (parse.GetValue(field) is { } f) cfg = cfg with { Reader = cfg.Reader with { Field = f } };
            if (parse.GetValue(gzip)) cfg = cfg with { Gzip = true };
            ShardSpec? only = parse.GetValue(shard) is { } s ? ShardSpec.Parse(s) : null;
            CurationReport? report = null;
            console.Progress().Columns(new TaskDescriptionColumn(), new SpinnerColumn(), new ElapsedTimeColumn()).Start(ctx =>
            {
                var task = ctx.AddTask("reading");
                task.IsIndeterminate = true;
                var progress = new Progress(p => task.Description = p.Phase == "map" ? $"map: {p.Documents:N0} documents, {p.Bytes / 1e6:F1} M characters" : p.Phase);
                report = Curator.Run(cfg, only, parse.GetValue(threads), progress);
                task.StopTask();
            });
            if (report is null)
            {
                console.MarkupLine($"shard {only!.Value.Index}/{only.Value.Count} mapped into {Markup.Escape(Path.Combine(cfg.Output, "shards"))}; run `loom data dedup-merge --output {Markup.Escape(cfg.Output)}` when every shard is done.");
                return 0;
            }
            Print(console, report, cfg.Output);
            return 0;
        });
        return cmd;
    }

    private static Command Merge(IAnsiConsole console)
    {
        var output = new Option<string>("--output") { Description = "The output folder the shards were mapped into.", Required = true };
        var cmd = new Command("dedup-merge", "Join mapped shards: exact and near de-duplication, then kept/removed/report.") { output };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            Print(console, Curator.Merge(dir), dir);
            return 0;
        });
        return cmd;
    }

    private static void Print(IAnsiConsole console, CurationReport r, string output)
    {
        foreach (var changed in r.ChangedInputs) console.MarkupLine($"[yellow]note:[/] {Markup.Escape(changed)} changed since the earlier run into {Markup.Escape(output)}; every shard was mapped again.");
        foreach (var skipped in r.SkippedInputs) console.MarkupLine($"[yellow]warning:[/] skipped {Markup.Escape(skipped.Path)}: {Markup.Escape(skipped.Reason)}.");
        if (r.Quarantined > 0) console.MarkupLine($"[yellow]warning:[/] {r.Quarantined:N0} record(s) could not be read as documents and were quarantined; see {Markup.Escape(Path.Combine(output, "quarantine.jsonl"))}.");
        if (r.LoneSurrogates > 0) console.MarkupLine($"[yellow]warning:[/] {r.LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800) were read as U+FFFD.");
        if (r.Documents == 0) console.MarkupLine("[yellow]warning:[/] the input holds no documents.");
        var table = new Table().AddColumns("stage", "removed");
        foreach (var s in r.Stages) table.AddRow(s, r.RemovedByStage.GetValueOrDefault(s).ToString("N0"));
        console.Write(table);
        if (r.Redactions.Count > 0) console.MarkupLine("redacted: " + string.Join(", ", r.Redactions.Select(kv => $"{kv.Key} {kv.Value:N0}")));
        console.MarkupLine($"kept [bold]{r.Kept:N0}[/] of {r.Documents:N0} documents; {r.Quarantined:N0} malformed records quarantined, {r.InvalidUtf8:N0} invalid UTF-8 sequences replaced; " +
                           $"wrote {Markup.Escape(output)}/kept, removed, report.json and report.html");
        console.MarkupLine($"de-duplication index: {r.IndexBytesPerDocument} B per document in memory, sort tables {r.SortBytesPerDocument} B per document" +
                           (r.SortSpills > 0 ? $" ({r.SortSpills} sorted runs spilled to disk)" : "") + $", signatures {r.SignatureBytesPerDocument} B per document on disk; " +
                           $"map {r.MapSeconds:F1} s, merge {r.MergeSeconds:F1} s");
    }

    private sealed class Progress(Action<CurationProgress> report) : IProgress<CurationProgress>
    {
        public void Report(CurationProgress value) => report(value);
    }
}
