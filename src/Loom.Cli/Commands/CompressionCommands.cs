// `loom prune` and `loom compress lowrank`: thin over Loom.Compression. Both write a new model
// directory (crash-safe: staged, fsynced, renamed) and print what each projection became; `loom eval`
// and `loom generate` open the results (a pruned model is a normal model directory with zeros; a
// low-rank one carries low_rank.json, docs/COMPRESSION.md).
using System.CommandLine;
using Loom.Compression.LowRank;
using Loom.Compression.Pruning;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class CompressionCommands
{
    private sealed class ConsoleProgress(IAnsiConsole console) : IProgress<string>
    {
        public void Report(string value) => console.MarkupLine(Markup.Escape(value));
    }

    public static Command Prune(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (GPT-2 or Llama): config.json, model.safetensors and a tokenizer.", Required = true };
        var method = new Option<string>("--method") { Description = "magnitude | wanda | sparsegpt.", DefaultValueFactory = _ => "sparsegpt" };
        var sparsity = new Option<double?>("--sparsity") { Description = "Unstructured: the fraction of each layer's weights set to zero (default 0.5)." };
        var pattern = new Option<string?>("--pattern") { Description = "Semi-structured N:M instead: N zeros in every M consecutive inputs (2:4, 4:8)." };
        var calibration = new Option<FileInfo?>("--calibration") { Description = "UTF-8 text for the calibration activations (wanda, sparsegpt), tokenized with the model's tokenizer." };
        var samples = new Option<int>("--samples") { Description = "Calibration windows of n_positions tokens, spread over the file.", DefaultValueFactory = _ => 64 };
        var blockSize = new Option<int>("--block-size") { Description = "SparseGPT's lazy-update and mask-selection block (columns).", DefaultValueFactory = _ => 128 };
        var dampening = new Option<double>("--dampening") { Description = "SparseGPT's Hessian dampening, a fraction of its mean diagonal.", DefaultValueFactory = _ => 0.01 };
        var output = new Option<DirectoryInfo>("--output") { Description = "New model directory to write (must not exist or be empty).", Required = true };
        var cmd = new Command("prune", "Prune a model's layer projections (magnitude, Wanda or SparseGPT; unstructured or N:M) and write a model directory with zeros.")
            { model, method, sparsity, pattern, calibration, samples, blockSize, dampening, output };
        cmd.SetAction(parse =>
        {
            var m = parse.GetValue(method)!.ToLowerInvariant() switch
            {
                "magnitude" => PruningMethod.Magnitude,
                "wanda" => PruningMethod.Wanda,
                "sparsegpt" => PruningMethod.SparseGpt,
                var other => throw new ArgumentException($"--method \"{other}\" is not a pruning method; use magnitude, wanda or sparsegpt."),
            };
            if (parse.GetValue(sparsity) is not null && parse.GetValue(pattern) is not null)
                throw new ArgumentException("Give --sparsity (unstructured) or --pattern N:M, not both.");
            var p = parse.GetValue(pattern) is { } text ? SparsityPattern.Parse(text) : SparsityPattern.Unstructured(parse.GetValue(sparsity) ?? 0.5);
            var options = new PruneOptions { Method = m, Pattern = p, Samples = parse.GetValue(samples), BlockSize = parse.GetValue(blockSize), Dampening = parse.GetValue(dampening) };
            options.Validate();
            string dir = parse.GetValue(model)!.FullName, outDir = parse.GetValue(output)!.FullName;
            var started = System.Diagnostics.Stopwatch.StartNew();
            var report = ModelPruner.PruneDirectory(dir, outDir, options, parse.GetValue(calibration)?.FullName, new ConsoleProgress(console));
            var table = new Table().AddColumns("layer", "projection", "weights", "zero");
            foreach (var r in report.Projections)
                table.AddRow(r.Layer.ToString(), Markup.Escape(r.Path), r.Weights.ToString("N0"), $"{r.Sparsity * 100:F2}%");
            console.Write(table);
            console.MarkupLine($"{report.Method} {Markup.Escape(report.Pattern)}: {report.Projections.Count} projections, {report.Sparsity * 100:F2}% of their weights zero"
                + (report.CalibrationWindows > 0 ? $", calibrated {report.Calibration}ly on {report.CalibrationWindows} windows ({report.CalibrationTokens:N0} tokens)" : "")
                + $", {started.Elapsed.TotalSeconds:F1} s → {Markup.Escape(outDir)}");
            return 0;
        });
        return cmd;
    }

    public static Command CreateCompressGroup(IAnsiConsole console)
    {
        var group = new Command("compress", "Compress a model's projections.");
        group.Subcommands.Add(LowRank(console));
        return group;
    }

    private static Command LowRank(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (GPT-2 or Llama).", Required = true };
        var rank = new Option<int?>("--rank") { Description = "The same rank r for every layer projection (clamped to min(in, out))." };
        var energy = new Option<double?>("--energy") { Description = "Per projection, the smallest rank keeping this fraction of Σσ² (0 < F ≤ 1)." };
        var output = new Option<DirectoryInfo>("--output") { Description = "New model directory to write (must not exist or be empty).", Required = true };
        var cmd = new Command("lowrank", "Replace layer projections by truncated-SVD factors (W ≈ B·A) and write a low-rank model directory.") { model, rank, energy, output };
        cmd.SetAction(parse =>
        {
            var options = new LowRankOptions { Rank = parse.GetValue(rank), Energy = parse.GetValue(energy) };
            options.Validate();
            string dir = parse.GetValue(model)!.FullName, outDir = parse.GetValue(output)!.FullName;
            var report = LowRankModels.Factorize(dir, outDir, options, new ConsoleProgress(console));
            var table = new Table().AddColumns("projection", "out×in", "rank", "weights", "‖W−W_r‖/‖W‖");
            foreach (var r in report.Projections)
                table.AddRow(Markup.Escape(r.Path), $"{r.OutFeatures}×{r.InFeatures}", r.Rank == 0 ? "dense" : r.Rank.ToString(), $"{r.DenseParameters:N0} → {r.Parameters:N0}", r.Rank == 0 ? "0" : r.RelativeError.ToString("F4"));
            console.Write(table);
            long saved = report.ModelParametersBefore - report.ModelParametersAfter;
            console.MarkupLine($"parameters {report.ModelParametersBefore:N0} → {report.ModelParametersAfter:N0} ({100.0 * saved / report.ModelParametersBefore:F1}% saved) → {Markup.Escape(outDir)}");
            return 0;
        });
        return cmd;
    }
}
