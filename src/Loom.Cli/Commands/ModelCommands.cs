// `loom generate` and `loom eval` on a model directory laid out as Hugging Face lays out GPT-2 or
// Llama: config.json (its model_type picks the family), model.safetensors, and tokenizer.json (or
// vocab.json + merges.txt, encoder.json + vocab.bpe).
using System.CommandLine;
using Loom.Core.IO;
using Loom.Inference.Gguf;
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Tokenizers;
using Loom.Tokenizers.Shards;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class ModelCommands
{
    private static Option<DirectoryInfo> ModelOption() => new("--model") { Description = "Model directory (config.json, model.safetensors and a tokenizer) or a .gguf file.", Required = true };

    // generate and eval only read the weights: every parameter frozen, no gradient block allocated.
    // Every on-disk form (HF directory, .gguf file, quantized or low-rank directory) is opened by
    // CausalLanguageModels.Load through the ModelFormats registry (low-rank registered in LoomCommand.Create).
    internal static ICausalLanguageModel LoadModel(string dir, ModelOptions? options = null) =>
        CausalLanguageModels.Load(dir, options ?? ModelOptions.Inference);

    // The tokenizer layouts TokenizerLoader reads from a model directory.
    internal static bool HasTokenizer(string dir) =>
        File.Exists(Path.Combine(dir, "tokenizer.json"))
        || (File.Exists(Path.Combine(dir, "encoder.json")) && File.Exists(Path.Combine(dir, "vocab.bpe")))
        || (File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt")));

    public static Command Generate(IAnsiConsole console)
    {
        var model = ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "Text to continue.", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "0 is greedy.", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely (0: all).", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1: off).", DefaultValueFactory = _ => 1f };
        var penalty = new Option<float>("--repetition-penalty") { Description = "CTRL repetition penalty (1: off).", DefaultValueFactory = _ => 1f };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequences.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var seed = new Option<int>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "A LoRA adapter directory (PEFT's adapter_config.json + adapter_model.safetensors) to apply to the model." };
        // Encoder-decoder (T5) directories: beam search as transformers' generate (Seq2SeqGeneration).
        var numBeams = new Option<int>("--num-beams") { Description = "Beam search width for encoder-decoder (T5) models (1: greedy or sampling).", DefaultValueFactory = _ => 1 };
        var lengthPenalty = new Option<float>("--length-penalty") { Description = "Beam score = log-probability / length^penalty (T5 models).", DefaultValueFactory = _ => 1f };
        var noRepeat = new Option<int>("--no-repeat-ngram-size") { Description = "No n-gram of this size repeats in the output (T5 models; 0: off).", DefaultValueFactory = _ => 0 };
        var earlyStopping = new Option<string>("--early-stopping") { Description = "Beam search stopping rule: false (heuristic), true or never (T5 models).", DefaultValueFactory = _ => "false" };
        var cmd = new Command("generate", "Continue a prompt (causal models) or generate the target of a source (T5); prints only the generated text, streamed.") { model, prompt, maxNew, temperature, topK, topP, penalty, stop, seed, adapter, numBeams, lengthPenalty, noRepeat, earlyStopping };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!.FullName;
            if (Seq2SeqModels.IsSeq2SeqDirectory(dir))
            {
                Seq2SeqGeneration.Run(dir, parse.GetValue(prompt)!, new Loom.Inference.Seq2Seq.Seq2SeqGenerationOptions
                {
                    MaxNewTokens = parse.GetValue(maxNew), NumBeams = parse.GetValue(numBeams), LengthPenalty = parse.GetValue(lengthPenalty),
                    NoRepeatNgramSize = parse.GetValue(noRepeat), EarlyStopping = Seq2SeqGeneration.ParseEarlyStopping(parse.GetValue(earlyStopping)!),
                    Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), RepetitionPenalty = parse.GetValue(penalty), Seed = parse.GetValue(seed) },
                }, parse.GetValue(stop)!.Length > 0, parse.GetValue(adapter) is not null, parse.InvocationConfiguration.Output);
                return 0;
            }
            if (parse.GetValue(numBeams) != 1 || parse.GetValue(noRepeat) != 0)
                throw new NotSupportedException($"--num-beams and --no-repeat-ngram-size apply to encoder-decoder (T5) models; {dir} is a causal model, which generates by sampling (--temperature 0 is greedy).");
            var options = new SamplingOptions
            {
                MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP), RepetitionPenalty = parse.GetValue(penalty), StopSequences = parse.GetValue(stop)!, Seed = parse.GetValue(seed),
            };
            // Options are checked before the model loads, and named as the user typed them (MaxNewTokens → --max-new-tokens).
            options.Validate(OptionName);
            // A GGUF file carries its tokenizer (tokenizer.ggml.*) beside the weights.
            using var gguf = GgufModelFiles.IsGguf(dir) && parse.GetValue(adapter) is null ? GgufModelFiles.Load(dir) : null;
            using var m = gguf != null ? null : parse.GetValue(adapter) is { } a
                ? Loom.Models.Adapters.LoraAdapters.LoadCausalLanguageModel(dir, a.FullName, ModelOptions.Inference)
                : LoadModel(dir);
            var tok = gguf?.Tokenizer ?? TokenizerLoader.Load(dir);
            var run = gguf?.Model ?? m!;
            var output = parse.InvocationConfiguration.Output;
            foreach (var piece in new TextGenerator(run, tok).Generate(parse.GetValue(prompt)!, options))
            {
                output.Write(piece);
                output.Flush();
            }
            output.WriteLine();
            return 0;
        });
        return cmd;
    }

    // PascalCase property → the CLI's kebab-case option ("TopP" → "--top-p").
    private static string OptionName(string property) =>
        ("--" + string.Concat(property.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())))
            .Replace("--stop-sequences", "--stop", StringComparison.Ordinal);

    public static Command Eval(IAnsiConsole console)
    {
        var model = ModelOption();
        var data = new Option<FileSystemInfo[]>("--data") { Description = "Token shards from `loom tokenize`: shard set folders (read through their manifest.json) or single shard files.", Required = true, AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch-size") { Description = "Windows per forward pass.", DefaultValueFactory = _ => 4 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Stop after this many batches (0: all).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("eval", "Loss and perplexity of a model on token shards (non-overlapping windows of n_positions).") { model, data, batch, maxBatches };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!.FullName;
            int B = parse.GetValue(batch), limit = parse.GetValue(maxBatches);
            if (B < 1) throw new ArgumentException($"--batch-size must be ≥ 1 (windows per forward pass); got {B}.");
            if (limit < 0) throw new ArgumentException($"--max-batches must be ≥ 0 (0: every batch); got {limit}.");
            using var m = LoadModel(dir);
            int T = m.ContextLength;
            // The shards must come from the model's own tokenizer: ids of another one give a loss, but a meaningless one.
            BpeTokenizer? modelTokenizer = HasTokenizer(dir) ? TokenizerLoader.Load(dir) : null;
            if (modelTokenizer is null)
                console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(dir)} holds no tokenizer, so the shards' tokenizer cannot be checked against the model's.");
            var tokens = new List<int>();
            foreach (var s in TokenShardSet.Read(parse.GetValue(data)!.Select(f => f.FullName), modelTokenizer, $"the tokenizer of the model {dir} ({modelTokenizer?.Name})"))
            {
                if (s.Header.VocabularySize > m.VocabularySize)
                    throw new InvalidDataException($"{s.Path} was tokenized with a {s.Header.VocabularySize}-id tokenizer ({s.Header.TokenizerName}); the model has vocab_size {m.VocabularySize}.");
                var buf = new int[s.Count];
                s.CopyTo(0, buf);
                // A shard without a tokenizer to check (or a damaged one) may hold ids the model's table lacks.
                int bad = Array.FindIndex(buf, id => (uint)id >= (uint)m.VocabularySize);
                if (bad >= 0)
                    throw new InvalidDataException($"{s.Path}: token {bad:N0} is id {buf[bad]}, beyond the model's vocab_size {m.VocabularySize}; the shards were made with another tokenizer than the model's. Re-tokenize the data with the model's tokenizer.");
                tokens.AddRange(buf);
            }
            if ((long)B * T + 1 > tokens.Count)
                throw new InvalidDataException($"The shards hold {tokens.Count} tokens, fewer than one batch of --batch-size {B} × n_positions {T} + 1; lower --batch-size or give more data.");
            var ids = new int[B * T];
            var targets = new int[B * T];
            double sum = 0;
            int batches = 0;
            for (long start = 0; start + (long)B * T + 1 <= tokens.Count && (limit == 0 || batches < limit); start += (long)B * T)
            {
                for (int i = 0; i < B * T; i++) { ids[i] = tokens[(int)start + i]; targets[i] = tokens[(int)start + i + 1]; }
                sum += m.Forward(ids, targets, B, T);
                batches++;
            }
            double loss = sum / batches;
            console.MarkupLine($"loss [bold]{loss:F4}[/]  perplexity [bold]{Math.Exp(loss):F2}[/]  ({batches} batches of {B}×{T} tokens)");
            return 0;
        });
        return cmd;
    }
}
