// `loom tokenizer encode|decode|train` and `loom tokenize`. Data goes to the command's output
// writer (stdout); messages and progress go to the console, so `encode > ids.jsonl` stays clean.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class TokenizerCommands
{
    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("tokenizer", "Encode, decode and train byte-level BPE tokenizers.");
        group.Subcommands.Add(Encode(console));
        group.Subcommands.Add(Decode(console));
        group.Subcommands.Add(Train(console));
        return group;
    }

    private static Option<string> TokenizerOption() => new("--tokenizer")
    {
        Description = "Encoding name (r50k_base, gpt2, p50k_base, cl100k_base, o200k_base), tokenizer.json, .tiktoken file, or a model directory.",
        Required = true,
    };

    private static Command Encode(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo>("--input") { Description = "JSONL file, one object per line.", Required = true };
        var field = new Option<string>("--field") { Description = "Field of each JSON object holding the text.", DefaultValueFactory = _ => "text" };
        var allowed = new Option<string>("--allowed-special") { Description = "all: special-token text becomes special tokens; none: it is an error (as tiktoken).", DefaultValueFactory = _ => "none" };
        allowed.AcceptOnlyFromAmong("all", "none");
        var cmd = new Command("encode", "Print one JSON array of token ids per input line.") { tokenizer, input, field, allowed };
        cmd.SetAction(parse =>
        {
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var policy = parse.GetValue(allowed) == "all" ? SpecialTokenPolicy.All : SpecialTokenPolicy.None;
            var path = InputFiles.RequireFile(parse.GetValue(input)!.FullName, "--input");
            var output = parse.InvocationConfiguration.Output;
            int line = 0;
            var ids = new List<int>();
            var repaired = new InputCounters();
            foreach (var text in TextChunks.JsonLinesField(path, parse.GetValue(field)!, repaired))
            {
                line++;
                ids.Clear();
                try { tok.Encode(text, ids, policy); }
                catch (ArgumentException e) { throw new FormatException($"{path}: record {line}: {e.Message}"); }
                output.Write('[');
                for (int i = 0; i < ids.Count; i++)
                {
                    if (i > 0) output.Write(',');
                    output.Write(ids[i]);
                }
                output.Write("]\n");
            }
            output.Flush();
            Warn(console, repaired.Warning(path));
            return 0;
        });
        return cmd;
    }

    private static Command Decode(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo>("--input") { Description = "File with one JSON array of ids per line.", Required = true };
        var cmd = new Command("decode", "Print one JSON string per input line of ids.") { tokenizer, input };
        cmd.SetAction(parse =>
        {
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var path = InputFiles.RequireFile(parse.GetValue(input)!.FullName, "--input");
            var output = parse.InvocationConfiguration.Output;
            int lineNo = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNo++;
                if (line.Length == 0) continue;
                int[] ids;
                try { ids = JsonSerializer.Deserialize<int[]>(line) ?? []; }
                catch (JsonException e) { throw new FormatException($"{path}:{lineNo}: expected a JSON array of integers ({e.Message})."); }
                string text;
                try { text = tok.Decode(ids); }
                catch (ArgumentOutOfRangeException e) { throw new FormatException($"{path}:{lineNo}: {e.Message}"); }
                output.Write(JsonSerializer.Serialize(text, RelaxedJson));
                output.Write('\n');
            }
            output.Flush();
            return 0;
        });
        return cmd;
    }

    private static Command Train(IAnsiConsole console)
    {
        var input = new Option<FileInfo[]>("--input") { Description = "Text, JSONL (see --field) or .gz files, folders or globs.", Required = true, AllowMultipleArgumentsPerToken = true };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size, specials and the 256 bytes included.", Required = true };
        var minFreq = new Option<long>("--min-frequency") { Description = "Pairs seen fewer times are not merged.", DefaultValueFactory = _ => 2 };
        var specials = new Option<string[]>("--special-tokens") { Description = "Special tokens (ids 0, 1, ... in order).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["<|endoftext|>"] };
        var field = new Option<string>("--field") { Description = "JSONL field holding the text.", DefaultValueFactory = _ => "text" };
        var output = new Option<DirectoryInfo>("--output") { Description = "Directory to write tokenizer.json into.", Required = true };
        var pattern = new Option<string>("--pattern") { Description = "Pre-tokenizer regex, or the name of an encoding whose regex to use (default: GPT-2's)." };
        var cmd = new Command("train", "Train a byte-level BPE tokenizer and write tokenizer.json.") { input, vocab, minFreq, specials, field, output, pattern };
        cmd.SetAction(parse =>
        {
            var files = SelectInputs(console, parse.GetValue(input)!);
            var options = new BpeTrainerOptions
            {
                VocabularySize = parse.GetValue(vocab),
                MinFrequency = parse.GetValue(minFreq),
                SpecialTokens = parse.GetValue(specials)!,
                JsonField = parse.GetValue(field)!,
            };
            if (parse.GetValue(pattern) is { } p)
                options = options with { Pattern = TiktokenEncodings.IsKnown(p) ? TiktokenEncodings.Get(p).PreTokenizer.Pattern : p };
            console.MarkupLine($"[grey]training:[/] {Markup.Escape(JsonSerializer.Serialize(options, RelaxedJson))}");
            long totalBytes = files.Sum(f => new FileInfo(f).Length);
            BpeTrainingResult result = null!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("counting pre-tokens", maxValue: Math.Max(1, totalBytes));
                var progress = new Progress<long>(n => task.Increment(n));
                result = BpeTrainer.TrainFromFiles(files, options, progress);
                task.Value = task.MaxValue;
            });
            Warn(console, result.LoneSurrogates == 0 ? null : $"{result.LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800) in the input were read as U+FFFD.");
            var dir = parse.GetValue(output)!;
            dir.Create();
            string path = Path.Combine(dir.FullName, "tokenizer.json");
            HuggingFaceTokenizerJson.Save(result.Tokenizer, path, result.Merges);
            console.MarkupLine($"wrote [bold]{Markup.Escape(path)}[/]: {result.Tokenizer.VocabularySize} ids, {result.Merges.Count} merges, " +
                               $"{result.DistinctPreTokens:N0} distinct of {result.PreTokenCount:N0} pre-tokens, {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }

    public static Command CreateTokenize(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo[]>("--input") { Description = "Text, JSONL or .gz files, folders or globs (a JSONL record or a whole text file is one document).", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Directory for shard_00000.bin, ...", Required = true };
        var field = new Option<string>("--field") { Description = "JSONL field holding the text.", DefaultValueFactory = _ => "text" };
        var shardTokens = new Option<long>("--shard-tokens") { Description = "Tokens per shard.", DefaultValueFactory = _ => 100_000_000 };
        var cmd = new Command("tokenize", "Stream text into binary token shards (see docs/FORMATS.md).") { tokenizer, input, output, field, shardTokens };
        cmd.SetAction(parse =>
        {
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var files = SelectInputs(console, parse.GetValue(input)!);
            long totalBytes = files.Sum(f => new FileInfo(f).Length);
            var options = new TokenizeOptions { JsonField = parse.GetValue(field)!, ShardTokens = parse.GetValue(shardTokens) };
            TokenizeSummary summary = null!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            console.Progress().AutoClear(true).Start(ctx =>
            {
                // Progress counts decoded chars against the input's bytes: exact for ASCII text, an estimate for gzip.
                var task = ctx.AddTask("tokenizing", maxValue: Math.Max(1, totalBytes));
                summary = TokenizePipeline.Run(tok, files, parse.GetValue(output)!.FullName, options, new Progress<long>(c => task.Value = Math.Min(c, task.MaxValue)));
                task.Value = task.MaxValue;
            });
            Warn(console, summary.LoneSurrogates == 0 ? null : $"{summary.LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800) in the input were read as U+FFFD.");
            console.MarkupLine($"{summary.Documents:N0} documents → {summary.Tokens:N0} tokens in {summary.Shards.Count} shard(s) " +
                               $"({summary.InputChars / Math.Max(1e-9, sw.Elapsed.TotalSeconds) / 1e6:F1} M chars/s): {Markup.Escape(string.Join(", ", summary.Shards.Select(Path.GetFileName)))}");
            return 0;
        });
        return cmd;
    }

    // Files, folders (searched for .txt, .md, .jsonl and their .gz) and globs; folder entries that are not regular files are skipped with a warning.
    private static List<string> SelectInputs(IAnsiConsole console, FileInfo[] inputs)
    {
        var selection = TextChunks.SelectInputs(inputs.Select(f => f.FullName), "--input");
        foreach (var skipped in selection.Skipped) Warn(console, $"skipped {skipped.Path}: {skipped.Reason}.");
        if (selection.Files.Count == 0) throw new ArgumentException("--input names no readable file.");
        return [.. selection.Files];
    }

    // Warnings go to the console (stderr), never into the data output.
    private static void Warn(IAnsiConsole console, string? warning)
    {
        if (warning != null) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
    }
}
