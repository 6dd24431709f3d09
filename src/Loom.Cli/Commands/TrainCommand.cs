// `loom train --config train.yaml [--set key=value]... [--resume [CHECKPOINT]]`.
using Loom.Core.IO;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Models;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML file mirroring the training configuration (see docs/TRAINING.md)." };
        var set = new Option<string[]>("--set") { Description = "Override a setting: key=value, e.g. train.max_steps=200 or model.n_layer=6.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var resume = new Option<string?>("--resume") { Description = "Continue from a checkpoint directory, or from the latest under the run's output when given no value.", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("train", "Train a GPT-2 or Llama model from a YAML configuration.") { config, set, resume };
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(config);
            JsonNode? root = null;
            string source = file?.FullName ?? "(defaults)";
            if (file != null)
            {
                if (!file.Exists) throw new FileNotFoundException($"Configuration {file.FullName} does not exist.");
                root = YamlToJson(File.ReadAllText(file.FullName), file.FullName);
            }
            var cfg = TrainConfig.FromJson(root, parse.GetValue(set)!, source);
            string? resumeFrom = null;
            if (parse.GetResult(resume) is not null)
            {
                resumeFrom = parse.GetValue(resume) ?? TrainingCheckpoint.List(Path.Combine(cfg.Output, "checkpoints")).LastOrDefault()
                    ?? throw new FileNotFoundException($"--resume: no checkpoint under {Path.Combine(cfg.Output, "checkpoints")}.");
            }
            return Run(console, cfg, resumeFrom);
        });
        return cmd;
    }

    private static int Run(IAnsiConsole console, TrainConfig cfg, string? resumeFrom)
    {
        if (cfg.Data.Count == 0) throw new ArgumentException("No training data: set data: [files...] in the configuration or --set data=[\"file.txt\"].");
        var tokenizer = TokenizerLoader.Load(cfg.Tokenizer);
        var modelNode = cfg.Model.DeepClone().AsObject();
        if (cfg.InitFrom != null)
            modelNode = JsonNode.Parse(File.ReadAllText(Path.Combine(cfg.InitFrom, "config.json")))!.AsObject();
        else if (modelNode["vocab_size"] is null || modelNode["vocab_size"]!.GetValue<int>() == 0)
            modelNode["vocab_size"] = tokenizer.VocabularySize;
        using var model = cfg.InitFrom != null ? ModelCommands.LoadModel(cfg.InitFrom, ModelOptions.Default) : CausalLanguageModels.Create(modelNode, "model");
        if (cfg.InitFrom == null) model.InitializeWeights(cfg.Seed);
        // Print and save the resolved model config (every field, defaults included).
        cfg = cfg with { Model = JsonSerializer.SerializeToNode(model.Configuration, model.Configuration.GetType())!.AsObject() };
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but model.vocab_size is {model.VocabularySize}.");
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(cfg, TrainConfig.Json));
        Directory.CreateDirectory(cfg.Output);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "train_config.json"), JsonSerializer.Serialize(cfg, TrainConfig.Json));

        var documents = TrainingData.Load(cfg.Data, cfg.Field, tokenizer, cfg.Tokenizer, asDocuments: cfg.Batching == "documents");
        IBatchSource train, validation;
        string summary;
        var o = cfg.Train;
        if (cfg.Batching == "documents")
        {
            int cut = Math.Clamp((int)Math.Round(documents.Count * (1 - cfg.ValidationFraction)), 1, documents.Count - 1);
            if (documents.Count < 2) throw new ArgumentException($"Documents batching needs at least two documents (one for validation); the data holds {documents.Count}.");
            int pad = tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot) ? eot : 0;
            train = new DocumentBatches(documents.Take(cut), o.BatchSize, o.SequenceLength, cfg.BucketWidth, pad, o.Seed);
            validation = new DocumentBatches(documents.Skip(cut), o.BatchSize, o.SequenceLength, cfg.BucketWidth, pad, seed: 0);
            summary = $"{cut:N0} train and {documents.Count - cut:N0} validation documents ({documents.Take(cut).Sum(d => (long)d.Length):N0} and {documents.Skip(cut).Sum(d => (long)d.Length):N0} tokens)";
        }
        else
        {
            int[] tokens = documents.Count == 1 ? documents[0] : documents.SelectMany(d => d).ToArray();
            int cut = (int)(tokens.Length * (1 - cfg.ValidationFraction));
            train = new WindowBatches(tokens[..cut], o.BatchSize, o.SequenceLength, o.Seed);
            validation = new WindowBatches(tokens[cut..], o.BatchSize, o.SequenceLength, seed: 0);
            summary = $"{cut:N0} train and {tokens.Length - cut:N0} validation tokens";
        }
        console.MarkupLine($"{summary}; {model.Parameters.Count / 1e6:F2}M parameters ({Markup.Escape(CausalLanguageModels.Describe(model.Configuration))}), {o.Precision.ToString().ToLowerInvariant()}" +
                           (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: cfg.Train.MaxSteps);
            var progress = new InlineProgress<StepMetrics>(s =>
            {
                task.Value = s.Step;
                task.Description = $"step {s.Step}/{s.MaxSteps} loss {s.Loss:F3} lr {s.LearningRate:E1} {s.TokensPerSecond:F0} tok/s" + (s.Applied ? "" : " (skipped: fp16 overflow)");
            });
            result = LanguageModelTraining.Train(model, train, validation, cfg.Train, cfg.Output, progress, default, resumeFrom);
        });
        model.Save(cfg.Output);
        if (File.Exists(cfg.Tokenizer) || Directory.Exists(cfg.Tokenizer) || TiktokenEncodings.IsKnown(cfg.Tokenizer))
            HuggingFaceTokenizerJson.Save(tokenizer, Path.Combine(cfg.Output, "tokenizer.json"));
        console.MarkupLine($"step {result.Steps}: train loss {result.LastTrainLoss:F4}, [bold]validation loss {result.ValidationLoss:F4}[/] (perplexity {Math.Exp(result.ValidationLoss):F2}); " +
                           $"wrote {Markup.Escape(Path.Combine(cfg.Output, "report.html"))} and the model");
        return 0;
    }

    // YAML → JSON tree: mappings become objects, sequences arrays, and scalars numbers, booleans or strings.
    internal static JsonNode? YamlToJson(string yaml, string source)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlDotNet.Core.YamlException e) { throw new FormatException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e); }
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);

        static JsonNode? Convert(YamlDotNet.RepresentationModel.YamlNode node) => node switch
        {
            YamlDotNet.RepresentationModel.YamlMappingNode m => new JsonObject(m.Children.Select(kv =>
                KeyValuePair.Create(((YamlDotNet.RepresentationModel.YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
            YamlDotNet.RepresentationModel.YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
            YamlDotNet.RepresentationModel.YamlScalarNode sc => Scalar(sc),
            _ => null,
        };

        static JsonNode? Scalar(YamlDotNet.RepresentationModel.YamlScalarNode s)
        {
            string v = s.Value ?? "";
            if (s.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) return JsonValue.Create(v);
            if (v is "" or "~" or "null") return null;
            if (v is "true" or "false") return JsonValue.Create(v == "true");
            if (long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long l)) return JsonValue.Create(l);
            if (double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)) return JsonValue.Create(d);
            return JsonValue.Create(v);
        }
    }

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
