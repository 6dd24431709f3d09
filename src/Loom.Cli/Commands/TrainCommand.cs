// `loom train --config train.yaml [--set key=value]... [--resume [CHECKPOINT]]`.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Models.Gpt2;
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
        var cmd = new Command("train", "Train a GPT-2-family model from a YAML configuration.") { config, set, resume };
        cmd.SetAction(parse => TokenizerCommandsGuard.Run(console, () =>
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
        }));
        return cmd;
    }

    private static int Run(IAnsiConsole console, TrainConfig cfg, string? resumeFrom)
    {
        if (cfg.Data.Count == 0) throw new ArgumentException("No training data: set data: [files...] in the configuration or --set data=[\"file.txt\"].");
        var tokenizer = TokenizerLoader.Load(cfg.Tokenizer);
        var tokens = new List<int>();
        foreach (var path in cfg.Data)
        {
            if (Directory.Exists(path) || path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            {
                IEnumerable<string> files = Directory.Exists(path) ? Directory.GetFiles(path, "shard_*.bin").Order(StringComparer.Ordinal) : [path];
                foreach (var f in files)
                {
                    using var shard = TokenShard.Open(f);
                    if (!shard.Header.Fingerprint.AsSpan().SequenceEqual(TokenShardHeader.FingerprintOf(tokenizer)))
                        throw new InvalidDataException($"{f} was tokenized with {shard.Header.TokenizerName}, not with the configured tokenizer {cfg.Tokenizer}.");
                    var buf = new int[shard.Count];
                    shard.CopyTo(0, buf);
                    tokens.AddRange(buf);
                }
            }
            else
            {
                if (!File.Exists(path)) throw new FileNotFoundException($"Training data {path} does not exist.");
                foreach (var chunk in TextChunks.Read(path, cfg.Field))
                    tokens.AddRange(tokenizer.Encode(chunk, SpecialTokenPolicy.PlainText));
            }
        }
        int cut = (int)(tokens.Count * (1 - cfg.ValidationFraction));
        int[] train = tokens.GetRange(0, cut).ToArray(), val = tokens.GetRange(cut, tokens.Count - cut).ToArray();
        var modelConfig = cfg.Model.VocabSize == 0 ? cfg.Model with { VocabSize = tokenizer.VocabularySize } : cfg.Model;
        if (cfg.InitFrom != null) modelConfig = Gpt2Config.Load(Path.Combine(cfg.InitFrom, "config.json"));
        cfg = cfg with { Model = modelConfig };
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(cfg, TrainConfig.Json));
        Directory.CreateDirectory(cfg.Output);
        File.WriteAllText(Path.Combine(cfg.Output, "train_config.json"), JsonSerializer.Serialize(cfg, TrainConfig.Json));
        using var model = cfg.InitFrom != null ? ModelCommands.LoadModel(cfg.InitFrom) : new Gpt2Model(modelConfig);
        if (cfg.InitFrom == null) model.InitializeWeights(cfg.Seed);
        if (tokenizer.VocabularySize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but model.vocab_size is {model.Config.VocabSize}.");
        console.MarkupLine($"{train.Length:N0} train and {val.Length:N0} validation tokens; {model.Parameters.Count / 1e6:F2}M parameters" +
                           (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: cfg.Train.MaxSteps);
            var progress = new InlineProgress<StepMetrics>(s =>
            {
                task.Value = s.Step;
                task.Description = $"step {s.Step}/{s.MaxSteps} loss {s.Loss:F3} lr {s.LearningRate:E1} {s.TokensPerSecond:F0} tok/s";
            });
            result = LanguageModelTraining.Train(model, train, val, cfg.Train, cfg.Output, progress, default, resumeFrom);
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
