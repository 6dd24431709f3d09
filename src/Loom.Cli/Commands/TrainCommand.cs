// `loom train --config train.yaml [--set key=value]... [--resume [CHECKPOINT]]`.
using Loom.Core.IO;
using System.CommandLine;
using Loom.Models.Adapters;
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
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete an earlier run in the output directory (checkpoints, metrics, model) and start afresh." };
        var distributed = new Option<bool>("--distributed") { Description = "Data-parallel over MPI: start with mpirun -np N (or srun); distributed.strategy picks ddp, zero1, zero2 or zero3 (docs/DISTRIBUTED.md)." };
        var cmd = new Command("train", "Train a GPT-2 or Llama model (causal LM) or a BERT model (masked LM) from a YAML configuration.") { config, set, resume, overwrite, distributed };
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(config);
            JsonNode? root = null;
            string source = file?.FullName ?? "(defaults)";
            if (file != null)
            {
                if (Directory.Exists(file.FullName)) throw new ArgumentException($"--config {file.FullName} is a directory; pass a YAML file.");
                if (!file.Exists) throw new FileNotFoundException($"Configuration {file.FullName} does not exist.");
                root = YamlToJson(File.ReadAllText(file.FullName), file.FullName);
            }
            var cfg = TrainConfig.FromJson(root, parse.GetValue(set)!.Select(FlowToJson).ToArray(), source);
            bool fresh = parse.GetResult(resume) is null;
            if (!fresh && parse.GetValue(overwrite))
                throw new ArgumentException("--resume continues the run in the output directory and --overwrite deletes it; pass one of them.");
            string? resumeFrom = null;
            if (!fresh)
            {
                string checkpoints = Path.Combine(cfg.Output, "checkpoints");
                resumeFrom = parse.GetValue(resume) ?? TrainingCheckpoint.Latest(checkpoints)
                    ?? throw new FileNotFoundException($"--resume: no checkpoint under {checkpoints}; start a fresh run without --resume.");
            }
            if (!parse.GetValue(distributed)) return Run(console, cfg, resumeFrom, parse.GetValue(overwrite));
            return RunDistributed(console, cfg, resumeFrom, parse.GetValue(overwrite));
        });
        return cmd;
    }

    // One rank of `mpirun -np N loom train --distributed`: the same run on every rank, rank 0 alone printing
    // and writing. Any failure on any rank (a bad setting included) ends the whole job naming the rank,
    // since the others would otherwise wait in their next collective forever.
    private static int RunDistributed(IAnsiConsole console, TrainConfig cfg, string? resumeFrom, bool overwrite)
    {
        Loom.Distributed.Communication.MpiLauncher.EnsureLaunched();
        // N ranks on one node share its cores: unless LOOM_THREADS says otherwise, each takes its share
        // (read by the worker pool at first use, which is later than this).
        if (Environment.GetEnvironmentVariable("LOOM_THREADS") is null && int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int local) && local > 0)
            Environment.SetEnvironmentVariable("LOOM_THREADS", Math.Max(1, Environment.ProcessorCount / local).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var comm = Loom.Distributed.Communication.MpiCommunicator.Create();
        try
        {
            if (MaskedLanguageModelTraining.MaskedFamily(cfg) is not null)
                throw new ArgumentException("--distributed trains causal language models (model_type gpt2 or llama); masked-LM pre-training (bert) runs in one process.");
            var strategy = Enum.Parse<Loom.Distributed.DataParallel.DataParallelStrategy>(cfg.Distributed.Strategy, ignoreCase: true);
            int code = Run(comm.Rank == 0 ? console : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }), cfg, resumeFrom, overwrite,
                model => new Loom.Distributed.DataParallel.DataParallelism(comm, model, strategy, cfg.Train.LearningRate, cfg.Train.WeightDecay, cfg.Distributed.CpuOffload),
                comm.Rank, comm.Size);
            comm.Dispose();   // MPI_Finalize: collective, after every rank has finished
            return code;
        }
        catch (Exception e)
        {
            comm.Fail(e);
            throw;
        }
    }

    private static int Run(IAnsiConsole console, TrainConfig cfg, string? resumeFrom, bool overwrite,
        Func<ILanguageModel, Loom.Distributed.DataParallel.DataParallelism>? parallelFor = null, int rank = 0, int ranks = 1)
    {
        bool writer = rank == 0;
        if (cfg.Data.Count == 0) throw new ArgumentException("No training data: set data: [files...] in the configuration or --set data=[\"file.txt\"].");
        // Encoders (model_type bert) pre-train with the masked-LM objective: their own data and tokenizer path.
        if (MaskedLanguageModelTraining.MaskedFamily(cfg) is { } masked) return MaskedLanguageModelTraining.Run(console, cfg, masked, resumeFrom, overwrite);
        // Encoder-decoders (model_type t5) pre-train with span corruption: their own tokenizer and batches.
        if (SpanCorruptionTraining.IsEncoderDecoder(cfg)) return SpanCorruptionTraining.Run(console, cfg, resumeFrom, overwrite);
        var tokenizer = TokenizerLoader.Load(cfg.Tokenizer);
        // The model's config, checked (fields named model.n_layer, ...) and sized before anything is allocated.
        object modelConfig;
        if (cfg.InitFrom != null) modelConfig = CausalLanguageModels.ReadConfig(cfg.InitFrom);
        else
        {
            var modelNode = cfg.Model.DeepClone().AsObject();
            // 0 or absent: the tokenizer's size. Compared as JSON text, since the node may hold an int (the built-in
            // default) or a long (from YAML), and TryGetValue<long> is false for a boxed int.
            if (modelNode["vocab_size"] is null || modelNode["vocab_size"]!.ToJsonString() is "0" or "0.0")
                modelNode["vocab_size"] = tokenizer.VocabularySize;
            modelConfig = CausalLanguageModels.ParseConfig(modelNode, "model");
        }
        TrainingMemory.EnsureFits(modelConfig, cfg.Train);
        var fixedSettings = FixedSettings(cfg, tokenizer);
        if (resumeFrom != null)
        {
            // Checked here too, before train_config.json is rewritten, so a refused resume changes nothing.
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, TrainingCheckpoint.ReadState(resumeFrom), LanguageModelTraining.FixedSettings(cfg.Train, fixedSettings));
            TrainingCheckpoint.EnsureSameModel(resumeFrom, modelConfig);
        }
        else if (writer)
            RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, .. cfg.Data]);   // deletes nothing yet
        var lora = cfg.Lora?.ToOptions(cfg.InitFrom, cfg.Seed);
        using var model = lora != null ? CreateLoraModel(cfg.InitFrom!, modelConfig, lora, cfg.Lora!)
            : cfg.InitFrom != null ? ModelCommands.LoadModel(cfg.InitFrom, ModelOptions.Default) : CausalLanguageModels.Create(modelConfig);
        if (cfg.InitFrom == null) model.InitializeWeights(cfg.Seed);
        // Print and save the resolved model config (every field, defaults included).
        cfg = cfg with { Model = JsonSerializer.SerializeToNode(model.Configuration, model.Configuration.GetType())!.AsObject() };
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but model.vocab_size is {model.VocabularySize}.");
        if (cfg.Train.SequenceLength > model.ContextLength)
            throw new ArgumentException($"train.sequence_length is {cfg.Train.SequenceLength} but the model's context (model.n_positions / max_position_embeddings) is {model.ContextLength}; lower one or raise the other.");
        if (cfg.Lora?.BaseFormat() is { } bq)
            console.MarkupLine($"QLoRA: the base's projection weights are held in {Loom.Core.Kernels.Quantized.QuantFormatInfo.Name(bq)} ({(cfg.Lora.DoubleQuant() ? 4.13 : Loom.Core.Kernels.Quantized.QuantFormatInfo.BitsPerWeight(bq)):F2} bits/weight{(cfg.Lora.DoubleQuant() ? ", double-quantized scales" : "")}) and frozen; gradients reach the adapter through them");
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(cfg, TrainConfig.Json));

        var repaired = new InputCounters();
        var documents = TrainingData.Load(cfg.Data, cfg.Field, tokenizer, cfg.Tokenizer, asDocuments: cfg.Batching == "documents", repaired);
        if (repaired.Warning("the training data") is { } warning) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
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
        // Only now, with the settings, model and data checked and loaded, may an earlier run be replaced.
        if (writer)
        {
            if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
            Directory.CreateDirectory(cfg.Output);
            DurableFile.WriteAllText(Path.Combine(cfg.Output, "train_config.json"), JsonSerializer.Serialize(cfg, TrainConfig.Json));
        }
        using var parallel = parallelFor?.Invoke(model);
        if (parallel != null)
            console.MarkupLine($"distributed: {ranks} ranks, strategy {cfg.Distributed.Strategy}; each rank takes {cfg.Train.BatchSize / (double)ranks:0.##} of the {cfg.Train.BatchSize} rows of every micro-batch (global batch {cfg.Train.BatchSize} × {cfg.Train.GradientAccumulation})" +
                               (cfg.Distributed.CpuOffload ? "; cpu_offload: optimizer state in host memory (all memory is host memory on a CPU)" : ""));
        console.MarkupLine($"{summary}; {model.Parameters.Count / 1e6:F2}M parameters ({Markup.Escape(CausalLanguageModels.Describe(model.Configuration))}), {o.Precision.ToString().ToLowerInvariant()}" +
                           (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: cfg.Train.MaxSteps);
            var progress = new InlineProgress<StepMetrics>(s =>
            {
                task.MaxValue = s.MaxSteps;   // the schedule's length: train.max_steps, or fitted to train.time_budget_seconds
                task.Value = s.Step;
                task.Description = $"step {s.Step}/{s.MaxSteps} loss {s.Loss:F3} lr {s.LearningRate:E1} {s.TokensPerSecond:F0} tok/s" + (s.Applied ? "" : " (skipped: fp16 overflow)");
            });
            result = LanguageModelTraining.Train(model, train, validation, cfg.Train, cfg.Output, progress, default, resumeFrom, fixedSettings, parallel);
        });
        parallel?.MaterializeParameters();   // ZeRO-3: the whole model, for the files below
        if (parallel != null)
        {
            var memory = parallel.Memory;
            console.MarkupLine($"rank 0 held {memory.Parameters / 1e6:F1} MB parameters, {memory.Gradients / 1e6:F1} MB gradients, {memory.OptimizerState / 1e6:F1} MB optimizer state between steps");
        }
        if (!writer) return 0;
        if (lora != null) LoraAdapters.Save(model.Parameters, modelConfig, lora, cfg.Output);   // PEFT's adapter files, not the model
        else model.Save(cfg.Output);
        if (File.Exists(cfg.Tokenizer) || Directory.Exists(cfg.Tokenizer) || TiktokenEncodings.IsKnown(cfg.Tokenizer))
            HuggingFaceTokenizerJson.Save(tokenizer, Path.Combine(cfg.Output, "tokenizer.json"));
        console.MarkupLine($"step {result.Steps}: train loss {result.LastTrainLoss:F4}, [bold]validation loss {result.ValidationLoss:F4}[/] (perplexity {Math.Exp(result.ValidationLoss):F2}); " +
                           $"wrote {Markup.Escape(Path.Combine(cfg.Output, "report.html"))} and the {(lora != null ? $"LoRA adapter ({model.Parameters.TrainableCount:N0} trainable parameters)" : "model")}");
        return 0;
    }

    // init_from's weights frozen under a fresh adapter (A Kaiming-uniform, B zero, as PEFT initialises it).
    // The lora: section is passed whole so every task reads base_quantization and base_double_quant the same
    // way (a finetune task that passed only the format once ignored base_double_quant silently).
    internal static ICausalLanguageModel CreateLoraModel(string initFrom, object modelConfig, LoraOptions lora, TrainLoraConfig settings)
    {
        bool doubleQuant = settings.DoubleQuant();
        if (settings.BaseFormat() is { } format)
        {
            // QLoRA (Dettmers et al., 2023): the base is read in f32 (no gradient block), its projection
            // weights quantized into the new model's frozen projections, LoRA wrapped around them; the
            // f32 copy is then dropped, so the run holds the base at ~4.5 bits/weight (nf4).
            using var f32 = CausalLanguageModels.Load(initFrom, ModelOptions.Inference);
            var options = LoraAdapters.CreateModelOptions(lora, modelConfig, Loom.Models.Quantization.QuantizedModels.OptionsFrom(f32, format, ModelOptions.Default, doubleQuant: doubleQuant));
            var q = CausalLanguageModels.Create(modelConfig, options);
            try
            {
                Loom.Models.Quantization.QuantizedModels.CopyFloatWeights(f32, q);
                LoraAdapters.InitializeAdapter(q.Parameters, lora.Seed);
                return q;
            }
            catch
            {
                q.Dispose();
                throw;
            }
        }
        var model = CausalLanguageModels.Create(modelConfig, LoraAdapters.CreateModelOptions(lora, modelConfig));
        try
        {
            LoraAdapters.LoadBaseWeights(model.Parameters, modelConfig, Path.Combine(initFrom, "model.safetensors"));
            LoraAdapters.InitializeAdapter(model.Parameters, lora.Seed);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // What decides the batches besides the train.* options: the tokenizer (by fingerprint, not by name),
    // the data files and their content, and how they are cut into batches.
    private static Dictionary<string, string> FixedSettings(TrainConfig cfg, BpeTokenizer tokenizer)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["tokenizer (fingerprint)"] = Convert.ToHexString(TokenShardHeader.FingerprintOf(tokenizer)).ToLowerInvariant(),
            ["batching"] = cfg.Batching,
            ["validation_fraction"] = cfg.ValidationFraction.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["field"] = cfg.Field,
        };
        if (cfg.Batching == "documents") d["bucket_width"] = cfg.BucketWidth.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (file, print) in TrainingData.Fingerprints(cfg.Data)) d["data file " + file] = print;
        return d;
    }

    // A --set value written as a YAML flow list or mapping (data=[a.txt, b.txt]) becomes its JSON form, as the
    // same text in the file would; JSON values and plain scalars pass unchanged.
    internal static string FlowToJson(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) return assignment;
        string raw = assignment[(eq + 1)..].Trim();
        if (!(raw.StartsWith('[') || raw.StartsWith('{'))) return assignment;
        try
        {
            JsonNode.Parse(raw);
            return assignment;
        }
        catch (JsonException) { }
        JsonNode? node;
        try { node = YamlToJson("value: " + raw, "--set")?["value"]; }
        catch (FormatException) { return assignment; }   // not YAML either: the binder names it
        return assignment[..(eq + 1)] + (node?.ToJsonString() ?? "null");
    }

    // YAML → JSON tree: mappings become objects, sequences arrays, and scalars numbers, booleans or strings.
    // Malformed YAML is reported as file:line:column, whatever part of YamlDotNet notices it.
    internal static JsonNode? YamlToJson(string yaml, string source)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        var scanner = new YamlDotNet.Core.Scanner(new StringReader(yaml), skipComments: true);
        var parser = new YamlDotNet.Core.Parser(scanner);
        try { stream.Load(parser); }
        catch (YamlDotNet.Core.YamlException e)
        {
            // Start is where the offending token begins; when YamlDotNet gives only an empty span at the
            // enclosing mapping (a tab used as indentation on line 2 is reported at 1:1), the scanner's position is better.
            var at = e.End.Line != e.Start.Line || e.End.Column != e.Start.Column ? e.Start : scanner.CurrentPosition;
            throw new FormatException($"{source}:{at.Line}:{at.Column}: {YamlMessage(e)}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's loader throws this, without a position, when the event stream ends early
            // (an unclosed [ or {, a block cut short); the parser's last event says where.
            var at = parser.Current?.End ?? scanner.CurrentPosition;
            throw new FormatException($"{source}:{at.Line}:{at.Column}: the YAML ends inside an unfinished list, mapping or quoted value; close it.", e);
        }
        if (stream.Documents.Count == 0) return null;
        if (stream.Documents.Count > 1)
            throw new FormatException($"{source}:{stream.Documents[1].RootNode.Start.Line}:1: the file holds {stream.Documents.Count} YAML documents (separated by ---); a configuration is one document.");
        var top = stream.Documents[0].RootNode;
        int depth = 0;
        if (top is YamlDotNet.RepresentationModel.YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" }) return null;   // an empty document
        if (top is not YamlDotNet.RepresentationModel.YamlMappingNode)
            throw new FormatException($"{source}:{top.Start.Line}:{top.Start.Column}: the top level is {(top is YamlDotNet.RepresentationModel.YamlSequenceNode ? "a list" : "a single value")}; a configuration file is a mapping of settings, one \"key: value\" per line.");
        return Convert(top);

        // Depth-limited: an alias that contains itself (a: &x [*x]) would otherwise recurse until the stack overflows.
        JsonNode? Convert(YamlDotNet.RepresentationModel.YamlNode node)
        {
            if (++depth > 64)
                throw new FormatException($"{source}:{node.Start.Line}:{node.Start.Column}: the configuration nests more than 64 levels deep (or an alias refers to itself); a configuration is a few levels of settings.");
            try { return ConvertNode(node); }
            finally { depth--; }
        }

        JsonNode? ConvertNode(YamlDotNet.RepresentationModel.YamlNode node) => node switch
        {
            YamlDotNet.RepresentationModel.YamlMappingNode m => new JsonObject(m.Children.Select(kv =>
                KeyValuePair.Create(kv.Key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } key } ? key
                    : throw new FormatException($"{source}:{kv.Key.Start.Line}:{kv.Key.Start.Column}: a key must be a plain name, not a list or mapping."), Convert(kv.Value)))),
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
            // NaN and infinities stay text: the binder reads them as numbers and validation names the field.
            if (double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) return JsonValue.Create(d);
            return JsonValue.Create(v);
        }
    }

    // YamlDotNet's messages repeat the position ("(Line: 2, Col: 5, Idx: 9) - (Line: ...): "); keep the words.
    private static string YamlMessage(YamlDotNet.Core.YamlException e)
    {
        string m = e.Message;
        int cut = m.LastIndexOf("): ", StringComparison.Ordinal);
        m = cut >= 0 && m.StartsWith('(') ? m[(cut + 3)..] : m;
        if (e.InnerException is { Message: { Length: > 0 } inner } && !m.Contains(inner, StringComparison.Ordinal)) m += " " + inner;
        return m;
    }

    internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
