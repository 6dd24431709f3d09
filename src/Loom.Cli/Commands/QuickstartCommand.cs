// `loom quickstart`: the whole life in one command, on the shipped tiny Shakespeare text —
// train a byte-level BPE tokenizer, tokenize, train a small GPT for a few minutes, report the
// validation loss, write the model, metrics and report.html, and print a generated sample.
// What it trains and how is QuickstartRecipe (overridable with --set).
using System.CommandLine;
using Loom.Core.IO;
using Loom.Core.Threading;
using Loom.Inference.Generation;
using Loom.Models.Gpt2;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class QuickstartCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var minutes = new Option<double>("--minutes") { Description = "Training time budget in minutes; the learning-rate schedule is fitted to it unless --steps is given.", DefaultValueFactory = _ => 3.0 };
        var steps = new Option<int?>("--steps") { Description = "Train exactly this many optimizer steps (the schedule spans them; the run is then the same on any machine), still within --minutes. Default: as many as fit in --minutes (~1,500 on 2 cores)." };
        var set = new Option<string[]>("--set") { Description = "Override a recipe setting: key=value, e.g. train.learning_rate=3e-3 or model.n_layer=6 (keys as in loom train; docs/TRAINING.md).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var data = new Option<FileInfo?>("--data") { Description = "Text file to train on (default: the shipped data/tinyshakespeare/input.txt)." };
        var output = new Option<DirectoryInfo>("--output") { Description = "Run directory.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "quickstart")) };
        var seed = new Option<int>("--seed") { Description = "Seed for data order, initialisation and sampling.", DefaultValueFactory = _ => 1337 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete an earlier run in the output directory and start afresh." };
        var cmd = new Command("quickstart", "Train a tokenizer and a small GPT on tiny Shakespeare, report validation loss, write report.html and print a sample.")
        {
            minutes, steps, data, output, seed, overwrite, set,
        };
        cmd.SetAction(parse =>
        {
            double m = parse.GetValue(minutes);
            if (!(m > 0 && m <= 600)) throw new ArgumentException($"--minutes must be more than 0 and at most 600; got {m}.");
            int? n = parse.GetValue(steps);
            if (n < 1) throw new ArgumentException($"--steps must be at least 1; got {n}.");
            // A bad --set fails here, before the tokenizer is trained.
            var recipe = QuickstartRecipe.Create(m, n, parse.GetValue(seed), parse.GetValue(set)!);
            string? path = parse.GetValue(data)?.FullName ?? FindShippedData();
            if (path is null) throw new FileNotFoundException("The shipped training text data/tinyshakespeare/input.txt was not found; run from the repository root or pass --data FILE.");
            path = InputFiles.RequireFile(path, "--data");     // a directory, a missing path, a FIFO (which would block) or a dangling link: one clear error
            string outDir = parse.GetValue(output)!.FullName;
            // Never mix with or silently replace an earlier run (the same rule as `loom train`).
            RunDirectory.CheckFresh(outDir, parse.GetValue(overwrite), [path]);   // deletes nothing yet
            return Run(console, path, recipe, outDir, parse.GetValue(seed), parse.GetValue(overwrite));
        });
        return cmd;
    }

    private static string? FindShippedData()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                string p = Path.Combine(d.FullName, "data", "tinyshakespeare", "input.txt");
                if (File.Exists(p)) return p;
            }
        return null;
    }

    private static int Run(IAnsiConsole console, string dataPath, QuickstartRecipe recipe, string outDir, int seed, bool overwrite)
    {
        string text = File.ReadAllText(dataPath);
        // nanoGPT's split: the first 90% trains, the last 10% validates.
        int cut = (int)(text.Length * 0.9);
        cut = text.IndexOf('\n', cut) + 1 is > 0 and var c ? c : cut;
        string trainText = text[..cut], valText = text[cut..];
        console.MarkupLine($"[bold]1/4 tokenizer[/]: byte-level BPE, {QuickstartRecipe.VocabularySize} ids, trained on {trainText.Length:N0} chars of {Markup.Escape(Path.GetFileName(dataPath))}");
        var bpe = BpeTrainer.Train([trainText], new BpeTrainerOptions { VocabularySize = QuickstartRecipe.VocabularySize, SpecialTokens = ["<|endoftext|>"] });
        var tokenizer = bpe.Tokenizer;
        int[] trainTokens = tokenizer.Encode(trainText, SpecialTokenPolicy.PlainText);
        int[] valTokens = tokenizer.Encode(valText, SpecialTokenPolicy.PlainText);
        // Windows of T + 1 tokens must fit in each split; checked before an earlier run is replaced.
        var options = recipe.Train;
        int window = options.SequenceLength + 1;
        if (trainTokens.Length < window || valTokens.Length < window)
            throw new ArgumentException($"--data {dataPath} is too short: {trainTokens.Length} train and {valTokens.Length} validation tokens, and the quickstart needs at least {window} of each (about {window * 23:N0} characters of text in all).");
        RunDirectory.PrepareFresh(outDir, overwrite);
        Directory.CreateDirectory(outDir);
        HuggingFaceTokenizerJson.Save(tokenizer, Path.Combine(outDir, "tokenizer.json"), bpe.Merges);
        console.MarkupLine($"[bold]2/4 tokenize[/]: {trainTokens.Length:N0} train and {valTokens.Length:N0} validation tokens ({(double)trainText.Length / trainTokens.Length:F2} chars/token)");

        var config = recipe.Model with { VocabSize = tokenizer.VocabularySize };
        using var model = new Gpt2Model(config, WorkerPool.Shared);
        model.InitializeWeights(seed);
        double budget = options.TimeBudgetSeconds ?? double.PositiveInfinity;
        string length = options.FitScheduleToTimeBudget
            ? $"as many steps as fit in {budget / 60:0.##} min (the {options.Schedule} schedule is fitted to the budget after the {options.WarmupSteps}-step warmup)"
            : $"{options.MaxSteps} steps ({options.Schedule} schedule) within {budget / 60:0.##} min";
        console.MarkupLine($"[bold]3/4 train[/]: GPT-2 architecture, {config.Layers} layers × {config.Embedding} wide, {config.Heads} heads, context {config.MaxPositions}; " +
                           $"{model.Parameters.Count / 1e6:F2}M parameters; batch {options.BatchSize}×{options.SequenceLength}, learning rate {options.LearningRate:G3}; " +
                           $"{length} on {WorkerPool.Shared.ThreadCount} threads");
        TrainResult result = null!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: 1000);
                var progress = new SyncProgress<StepMetrics>(s =>
                {
                    // Whichever ends first, the schedule's steps (once known) or the time, drives the bar.
                    bool known = !options.FitScheduleToTimeBudget || s.MaxSteps < options.MaxSteps;
                    double done = Math.Max(known ? (double)s.Step / s.MaxSteps : 0, s.ElapsedSeconds / budget);
                    task.Value = 1000 * Math.Min(1, done);
                    task.Description = $"step {s.Step}{(known ? $"/{s.MaxSteps}" : "")} loss {s.Loss:F3} lr {s.LearningRate:E1} {s.TokensPerSecond:F0} tok/s";
                });
                result = LanguageModelTraining.Train(model, trainTokens, valTokens, options, outDir, progress);
                task.Value = task.MaxValue;
            });
        model.Save(outDir);
        if (result.FittedScheduleSteps is { } fitted)
            console.MarkupLine($"schedule fitted to the budget: {fitted} steps" + (result.FittedSecondsPerStep is { } sps ? $" ({sps * 1000:F0} ms per step measured in the warmup" : "")
                + (result.RefitStep is { } at ? $", {result.WarmupFittedScheduleSteps} steps at its end; re-fitted after step {at} at {result.RefitSecondsPerStep!.Value * 1000:F0} ms per step with evaluations" : "")
                + (result.FittedSecondsPerStep is null ? "" : ")"));
        console.MarkupLine($"trained {result.Steps} steps in {result.Seconds:F0} s: train loss {result.LastTrainLoss:F3}, [bold]validation loss {result.ValidationLoss:F3}[/] " +
                           $"(started at {result.Evaluations[0].ValidationLoss:F3}; uniform guessing is {Math.Log(config.VocabSize):F3})");

        console.MarkupLine("[bold]4/4 sample[/] (temperature 0.8, top-k 40):");
        var generator = new TextGenerator(model, tokenizer);
        var sample = new System.Text.StringBuilder("ROMEO:");
        foreach (var piece in generator.Generate("ROMEO:", new SamplingOptions { MaxNewTokens = 120, Temperature = 0.8f, TopK = 40, Seed = seed }))
            sample.Append(piece);
        console.WriteLine(sample.ToString());
        console.MarkupLine($"wrote {Markup.Escape(Path.Combine(outDir, "report.html"))}, metrics.jsonl, model.safetensors, config.json, tokenizer.json");
        return 0;
    }

    // Progress<T> posts to the thread pool; the bar wants updates in order, on the training thread.
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
