// `loom eval perplexity --model DIR --input FILE [--field text] [--context N] [--stride S] [--batch-size B]`:
// Hugging Face's sliding-window perplexity (Loom.Evaluation.Perplexity) on raw text, JSONL (the
// --field of every record, joined with "\n\n" as HF's WikiText example joins lines) or token shards
// (a .bin shard or a shard-set folder). Text is tokenized whole with the model's tokenizer, no BOS/EOS
// added, special-token text read as plain text. Prints one JSON object on stdout; progress goes to the
// console (stderr).
using System.CommandLine;
using Loom.Inference.Gguf;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Evaluation.Perplexity;
using Loom.Tokenizers;
using Loom.Tokenizers.Shards;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalPerplexityCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory: config.json (gpt2, llama, ...), model.safetensors and a tokenizer.", Required = true };
        var input = new Option<FileSystemInfo>("--input") { Description = "Text file (.txt, .gz), JSONL (.jsonl, .jsonl.gz; see --field), a token shard (.bin) or a shard-set folder.", Required = true };
        var field = new Option<string>("--field") { Description = "JSONL field holding the text; records are joined with a blank line.", DefaultValueFactory = _ => "text" };
        var context = new Option<int>("--context") { Description = "Tokens per window (0: the model's n_positions).", DefaultValueFactory = _ => 0 };
        var stride = new Option<int>("--stride") { Description = "Tokens between window starts (0: the context, non-overlapping windows); smaller is slower and closer to the true perplexity.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Windows per forward pass.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("perplexity", "Sliding-window perplexity (Hugging Face's strided loop), nll, tokens scored, bits per byte and per character, as one JSON object.") { model, input, field, context, stride, batch };
        // Synchronous, as every command CommandGuard wraps (it guards SynchronousCommandLineAction); Ctrl+C ends the process.
        cmd.SetAction(parse =>
        {
            var options = new PerplexityOptions { Context = parse.GetValue(context), Stride = parse.GetValue(stride), BatchSize = parse.GetValue(batch) };
            string dir = parse.GetValue(model)!.FullName;
            // A .gguf file carries its own tokenizer (tokenizer.ggml.*), as in generate.
            bool gguf = GgufModelFiles.IsGguf(dir);
            if (!gguf && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model {dir} does not exist; give a model directory or a .gguf file.");
            string path = parse.GetValue(input)!.FullName;
            string fieldName = parse.GetValue(field)!;
            using var ggufModel = gguf ? GgufModelFiles.Load(dir) : null;
            using var directoryModel = gguf ? null : ModelCommands.LoadModel(dir);
            var m = ggufModel?.Model ?? directoryModel!;
            options.Resolve(m.ContextLength, OptionName);   // checked before reading the input
            BpeTokenizer? tokenizer = ggufModel?.Tokenizer ?? (ModelCommands.HasTokenizer(dir) ? TokenizerLoader.Load(dir) : null);
            var (tokens, text) = ReadTokens(path, fieldName, tokenizer, dir);
            PerplexityResult result = null!;
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
            {
                var task = ctx.AddTask($"scoring {tokens.Length:N0} tokens", maxValue: 1);
                result = SlidingWindowPerplexity.Evaluate(m, tokens, options,
                    new SyncProgress(p => { task.MaxValue = p.Total; task.Value = p.Done; }));
            });
            long? bytes = text is null ? null : Encoding.UTF8.GetByteCount(text);
            long? characters = text is null ? null : CountRunes(text);
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteNumber("perplexity", result.Perplexity);
                w.WriteNumber("nll", result.Nll);
                w.WriteNumber("tokens", result.Tokens);
                Nullable(w, "bits_per_byte", bytes is { } b ? result.BitsPerByte(b) : null);
                Nullable(w, "bits_per_character", characters is { } c ? result.BitsPerCharacter(c) : null);
                w.WriteNumber("total_nll", result.TotalNll);
                w.WriteNumber("input_tokens", tokens.Length);
                Nullable(w, "bytes", bytes);
                Nullable(w, "characters", characters);
                w.WriteNumber("windows", result.Windows);
                w.WriteNumber("context", result.Context);
                w.WriteNumber("stride", result.Stride);
                w.WriteEndObject();
            }
            parse.InvocationConfiguration.Output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
            return 0;
        });
        return cmd;
    }

    private static void Nullable(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static string OptionName(string property) => property switch
    {
        nameof(PerplexityOptions.BatchSize) => "--batch-size",
        nameof(PerplexityOptions.Context) => "--context",
        nameof(PerplexityOptions.Stride) => "--stride",
        _ => property,
    };

    private static long CountRunes(string text)
    {
        long n = 0;
        foreach (var _ in text.EnumerateRunes()) n++;
        return n;
    }

    // The tokens to score and the text they stand for (null when it cannot be known: shards without a tokenizer).
    private static (int[] Tokens, string? Text) ReadTokens(string path, string field, BpeTokenizer? tokenizer, string dir)
    {
        if (TokenShardSet.IsShardPath(path))
        {
            var ids = new List<int>();
            foreach (var s in TokenShardSet.Read([path], tokenizer, $"the tokenizer of the model {dir} ({tokenizer?.Name})"))
            {
                var buf = new int[s.Count];
                s.CopyTo(0, buf);
                ids.AddRange(buf);
            }
            var array = ids.ToArray();
            // bits per byte need the text: the shards' own tokenizer (checked equal to the model's) decodes it.
            return (array, tokenizer is null ? null : tokenizer.Decode(array));
        }
        InputFiles.RequireFile(path, "--input");
        if (tokenizer is null)
            throw new FileNotFoundException($"--model {dir} holds no tokenizer (tokenizer.json, or vocab.json + merges.txt); text input needs the model's tokenizer. Add it to the folder, or give token shards made with it.");
        string text;
        using (var stream = CompressedInput.Open(path, "--input"))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true))
        {
            string name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
            text = name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)
                ? ReadJsonLines(reader, path, field)
                : reader.ReadToEnd();
        }
        var tokens = tokenizer.EncodeOrdinary(text);
        if (tokens.Length < 2) throw new InvalidDataException($"--input {path} gives {tokens.Length} token(s); perplexity needs at least 2 (the first is never scored).");
        return (tokens, text);
    }

    // Every record's field, joined by a blank line; a malformed line or a record without the field is an error naming file:line.
    private static string ReadJsonLines(StreamReader reader, string path, string field)
    {
        var texts = new List<string>();
        int line = 0;
        for (string? s; (s = reader.ReadLine()) != null;)
        {
            line++;
            if (string.IsNullOrWhiteSpace(s)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(s); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: not a JSON object ({e.Message.Split(" Path:")[0]})."); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}:{line}: a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object with a \"{field}\" field.");
                if (!doc.RootElement.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}:{line}: no string field \"{field}\" (--field).");
                texts.Add(v.GetString()!);
            }
        }
        if (texts.Count == 0) throw new InvalidDataException($"--input {path} holds no JSONL records.");
        return string.Join("\n\n", texts);
    }

    // IProgress that reports on the calling thread (Progress<T> would post to the thread pool).
    private sealed class SyncProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
