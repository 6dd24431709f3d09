// `loom tokenizer encode|decode|train` and `loom tokenize`. Data goes to the command's output
// writer (stdout); messages and progress go to the console, so `encode > ids.jsonl` stays clean.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Cli.Output;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.SentencePiece;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class TokenizerCommands
{
    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("tokenizer", "Encode, decode and train byte-level BPE, WordPiece and SentencePiece tokenizers.");
        group.Subcommands.Add(Encode(console));
        group.Subcommands.Add(Decode(console));
        group.Subcommands.Add(Train(console));
        return group;
    }

    private static Option<string> TokenizerOption() => new("--tokenizer")
    {
        Description = "Encoding name (r50k_base, gpt2, p50k_base, cl100k_base, o200k_base), tokenizer.json, .tiktoken file, SentencePiece .model file, or a model directory.",
        Required = true,
    };

    private static Command Encode(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo>("--input") { Description = "JSONL file, one object per line.", Required = true };
        var field = new Option<string>("--field") { Description = "Field of each JSON object holding the text.", DefaultValueFactory = _ => "text" };
        var allowed = new Option<string>("--allowed-special") { Description = "all: special-token text becomes special tokens; none: it is an error (as tiktoken).", DefaultValueFactory = _ => "none" };
        allowed.AcceptOnlyFromAmong("all", "none");
        var addSpecial = new Option<bool>("--add-special-tokens") { Description = "WordPiece tokenizers: wrap each text as [CLS] text [SEP] (the template in tokenizer.json); SentencePiece (T5): append </s>." };
        var cmd = new Command("encode", "Print one JSON array of token ids per input line.") { tokenizer, input, field, allowed, addSpecial };
        cmd.SetAction(parse =>
        {
            string path = RequireFile(parse.GetValue(input)!, "--input");
            string jsonField = RequireNonEmpty(parse.GetValue(field)!, "--field");
            if (LoadSentencePiece(parse.GetValue(tokenizer)!) is { } sentencePiece)
            {
                if (parse.GetValue(allowed) == "all") throw new ArgumentException("--allowed-special applies to byte-level BPE tokenizers; a SentencePiece model matches its user-defined symbols (<extra_id_N>) in text itself.");
                var counters = new InputCounters();
                var ids = new List<int>();
                using (var writer = Utf8DataWriter.For(parse.InvocationConfiguration.Output))
                    foreach (var text in TextChunks.JsonLinesFieldOrBlank(path, jsonField, counters))
                    {
                        ids.Clear();
                        if (text is not null) sentencePiece.Encode(text, ids, parse.GetValue(addSpecial));
                        writer.WriteIdArrayLine(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids));   // a blank line stays a line: []
                    }
                Warn(console, counters.Warning(path));
                return 0;
            }
            if (IsWordPiece(parse.GetValue(tokenizer)!))
            {
                var wordPiece = LoadWordPiece(parse.GetValue(tokenizer)!);
                var counters = new InputCounters();
                using (var writer = Utf8DataWriter.For(parse.InvocationConfiguration.Output))
                    foreach (var text in TextChunks.JsonLinesFieldOrBlank(path, jsonField, counters))
                        writer.WriteIdArrayLine(text is null ? [] : wordPiece.Encode(text, null, parse.GetValue(addSpecial)).Ids);   // a blank line stays a line: []
                Warn(console, counters.Warning(path));
                return 0;
            }
            if (parse.GetValue(addSpecial)) throw new ArgumentException("--add-special-tokens applies to WordPiece tokenizers; byte-level BPE adds none (as tiktoken).");
            var tok = LoadTokenizer(parse.GetValue(tokenizer)!);
            var policy = parse.GetValue(allowed) == "all" ? SpecialTokenPolicy.All : SpecialTokenPolicy.None;
            var repaired = new InputCounters();
            using (var output = Utf8DataWriter.For(parse.InvocationConfiguration.Output))
                EncodeRecords(tok, policy, path, jsonField, output, repaired);
            Warn(console, repaired.Warning(path));
            return 0;
        });
        return cmd;
    }

    private const int EncodeBatchChars = 1 << 20, EncodeBatchRecords = 1024;

    // One thread reads records into batches of ~1 MB while the others encode the previous batch, each
    // record on any core; lines are written in input order, so the output is the same as a serial loop.
    // The first bad record (in input order) stops the run after every line before it was written.
    private static void EncodeRecords(BpeTokenizer tok, SpecialTokenPolicy policy, string path, string field, Utf8DataWriter output, InputCounters repaired)
    {
        using var stop = new CancellationTokenSource();
        using var batches = new System.Collections.Concurrent.BlockingCollection<List<string?>>(boundedCapacity: 2);
        var reader = Task.Run(() =>
        {
            var batch = new List<string?>();
            try
            {
                long chars = 0;
                // A blank line (null) stays a line of output ([]), so output line n answers input line n.
                foreach (var text in TextChunks.JsonLinesFieldOrBlank(path, field, repaired))
                {
                    batch.Add(text);
                    chars += text?.Length ?? 0;
                    if (chars < EncodeBatchChars && batch.Count < EncodeBatchRecords) continue;
                    batches.Add(batch, stop.Token);
                    batch = new List<string?>();
                    chars = 0;
                }
            }
            finally
            {
                // The records read before a bad line are still encoded and written before its error.
                if (batch.Count > 0)
                {
                    try { batches.Add(batch, stop.Token); }
                    catch (OperationCanceledException) { } // the consumer stopped first; its error is the one reported
                }
                batches.CompleteAdding();
            }
        });
        var ids = new List<int>[EncodeBatchRecords];
        var errors = new DisallowedSpecialTokenException?[EncodeBatchRecords];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        int line = 0;
        bool drained = false;
        try
        {
            foreach (var batch in batches.GetConsumingEnumerable())
            {
                Parallel.For(0, batch.Count, parallel, i =>
                {
                    var list = ids[i] ??= new List<int>(1024);
                    list.Clear();
                    errors[i] = null;
                    if (batch[i] is not { } text) return;
                    try { tok.Encode(text, list, policy); }
                    catch (DisallowedSpecialTokenException e) { errors[i] = e; }
                });
                for (int i = 0; i < batch.Count; i++)
                {
                    line++;
                    if (errors[i] is { } e)
                        throw new FormatException(
                            $"{path}: record {line}: the text contains the special token '{e.Token}' at char {e.Index}. " +
                            "Pass --allowed-special all to encode it as a special token.");
                    output.WriteIdArrayLine(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids[i]));
                }
            }
            drained = true;
        }
        finally
        {
            if (!drained)
            {
                // This thread's error wins: stop the reader and wait for it, whatever it was doing.
                stop.Cancel();
                try { reader.Wait(); } catch (AggregateException) { }
            }
        }
        reader.GetAwaiter().GetResult(); // a read error (bad JSON at line N) surfaces after every line before it
    }

    // --tokenizer's value goes into every loading error, so the message says which option was wrong.
    private static BpeTokenizer LoadTokenizer(string value)
    {
        try { return TokenizerLoader.Load(value); }
        // The BPE loader is tried last, so its "holds no ..." would not mention the SentencePiece and WordPiece files this command also takes.
        catch (FileNotFoundException e) when (Directory.Exists(value))
        { throw new FileNotFoundException($"--tokenizer {value}: the folder holds no tokenizer: give one with tokenizer.json, spiece.model or tokenizer.model (SentencePiece), vocab.txt (WordPiece), encoder.json + vocab.bpe, or vocab.json + merges.txt.", e.FileName, e); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"--tokenizer {value}: {e.Message}", e.FileName, e); }
        catch (DirectoryNotFoundException e) { throw new DirectoryNotFoundException($"--tokenizer {value}: {e.Message}", e); }
        catch (FormatException e) { throw new FormatException($"--tokenizer {value}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new NotSupportedException($"--tokenizer {value}: {e.Message}", e); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--tokenizer {value}: {e.Message}", e); }
    }

    // Which kind of tokenizer --tokenizer names; the library refuses a FIFO before sniffing it.
    private static bool IsWordPiece(string value)
    {
        try { return WordPieceFormats.IsWordPiece(value); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--tokenizer {value}: {e.Message}", e); }
    }

    // A SentencePiece model (.model, a directory with spiece.model/tokenizer.model, or a Unigram tokenizer.json),
    // or null when --tokenizer names another kind of tokenizer.
    private static SentencePieceTokenizer? LoadSentencePiece(string value)
    {
        try { return SentencePieceTokenizer.ResolveFile(value) is null ? null : SentencePieceTokenizer.Load(value); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"--tokenizer {value}: {e.Message}", e.FileName, e); }
        catch (FormatException e) { throw new FormatException($"--tokenizer {value}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new NotSupportedException($"--tokenizer {value}: {e.Message}", e); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--tokenizer {value}: {e.Message}", e); }
    }

    private static WordPieceTokenizer LoadWordPiece(string value)
    {
        try { return WordPieceTokenizer.Load(value); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"--tokenizer {value}: {e.Message}", e.FileName, e); }
        catch (FormatException e) { throw new FormatException($"--tokenizer {value}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new NotSupportedException($"--tokenizer {value}: {e.Message}", e); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--tokenizer {value}: {e.Message}", e); }
    }

    // Option values are checked here, before any work, with the option's name as the user wrote it.
    private static string RequireFile(FileInfo file, string option)
    {
        if (Directory.Exists(file.FullName)) throw new ArgumentException($"{option} {file.FullName} is a directory; give a file.");
        // Missing paths, FIFOs (which would block), devices and dangling links: one clear error each.
        return InputFiles.RequireFile(file.FullName, option);
    }

    private static string RequireNonEmpty(string value, string option) =>
        value.Length > 0 ? value : throw new ArgumentException($"{option} is empty; give the JSON field that holds the text (default \"text\").");

    // Library option names → this command's flags, so the library's validation messages name what the user typed.
    private static Func<string, string> OptionNames(params (string Property, string Option)[] map) =>
        property => map.FirstOrDefault(m => m.Property == property).Option ?? property;

    private static Command Decode(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo>("--input") { Description = "File with one JSON array of ids per line.", Required = true };
        var cmd = new Command("decode", "Print one JSON string per input line of ids.") { tokenizer, input };
        cmd.SetAction(parse =>
        {
            var path = RequireFile(parse.GetValue(input)!, "--input");
            Func<int[], string> decode;
            if (LoadSentencePiece(parse.GetValue(tokenizer)!) is { } sentencePiece)
            {
                decode = ids => sentencePiece.Decode(ids);
            }
            else if (IsWordPiece(parse.GetValue(tokenizer)!))
            {
                var wordPiece = LoadWordPiece(parse.GetValue(tokenizer)!);
                decode = ids => wordPiece.Decode(ids);
            }
            else
            {
                var bpe = LoadTokenizer(parse.GetValue(tokenizer)!);
                decode = ids => bpe.Decode(ids);
            }
            var output = parse.InvocationConfiguration.Output;
            int lineNo = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNo++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    // A blank line stays a line (the empty text), so output line n answers input line n.
                    output.Write("\"\"\n");
                    continue;
                }
                int[] ids;
                try { ids = JsonSerializer.Deserialize<int[]>(line) ?? []; }
                catch (JsonException e) { throw new FormatException($"{path}:{lineNo}: expected a JSON array of integers ({e.Message})."); }
                string text;
                try { text = decode(ids); }
                catch (ArgumentOutOfRangeException e)
                {
                    // Message alone: .NET appends " (Parameter 'ids')" and a second line "Actual value was N." to it.
                    string what = e.Message;
                    int cut = what.IndexOf(" (Parameter '", StringComparison.Ordinal);
                    throw new FormatException($"{path}:{lineNo}: {(cut >= 0 ? what[..cut] : what.Split('\n')[0])}");
                }
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
        var model = new Option<string>("--model") { Description = "bpe: byte-level BPE (GPT-2 style); wordpiece: BERT's WordPiece (also writes vocab.txt); unigram / sentencepiece-bpe: a SentencePiece model (writes spiece.model, as spm_train).", DefaultValueFactory = _ => "bpe" };
        model.AcceptOnlyFromAmong("bpe", "wordpiece", "unigram", "sentencepiece-bpe");
        var coverage = new Option<double>("--character-coverage") { Description = "SentencePiece: share of characters the vocabulary covers (spm_train's default).", DefaultValueFactory = _ => 0.9995 };
        var normalization = new Option<string>("--normalization") { Description = "SentencePiece: nmt_nfkc (spm_train's default) or identity.", DefaultValueFactory = _ => "nmt_nfkc" };
        normalization.AcceptOnlyFromAmong("nmt_nfkc", "identity");
        var byteFallback = new Option<bool>("--byte-fallback") { Description = "SentencePiece: add the 256 <0xNN> byte pieces, so no text is <unk>." };
        var userSymbols = new Option<string[]>("--user-defined-symbols") { Description = "SentencePiece: symbols kept whole (T5's <extra_id_0> ...).", AllowMultipleArgumentsPerToken = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a tokenizer.json (and vocab.txt) already in --output; without it such a folder is refused." };
        var cmd = new Command("train", "Train a byte-level BPE or WordPiece tokenizer (tokenizer.json) or a SentencePiece Unigram/BPE model (spiece.model).") { input, vocab, minFreq, specials, field, output, pattern, model, overwrite, coverage, normalization, byteFallback, userSymbols };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(model) is "unigram" or "sentencepiece-bpe")
            {
                foreach (var (o, name) in new (Option, string)[] { (minFreq, "--min-frequency"), (specials, "--special-tokens"), (pattern, "--pattern") })
                    if (parse.GetResult(o) is { Implicit: false }) throw new ArgumentException($"{name} applies to --model bpe and wordpiece; a SentencePiece model has <unk>, <s>, </s> (and --user-defined-symbols).");
                var spOptions = new SentencePieceTrainerOptions
                {
                    ModelType = parse.GetValue(model) == "unigram" ? SentencePieceModelType.Unigram : SentencePieceModelType.Bpe,
                    VocabSize = parse.GetValue(vocab),
                    CharacterCoverage = parse.GetValue(coverage),
                    NormalizationRuleName = parse.GetValue(normalization)!,
                    ByteFallback = parse.GetValue(byteFallback),
                    UserDefinedSymbols = parse.GetValue(userSymbols) ?? [],
                };
                spOptions.Validate(OptionNames(("ModelType", "--model"), ("VocabSize", "--vocab-size"), ("CharacterCoverage", "--character-coverage"), ("NormalizationRuleName", "--normalization")));
                var spDir = parse.GetValue(output)!;
                if (File.Exists(spDir.FullName)) throw new IOException($"--output {spDir.FullName} is a file; give a folder for spiece.model.");
                string spPath = Path.Combine(spDir.FullName, "spiece.model");
                if (!parse.GetValue(overwrite) && File.Exists(spPath)) throw new IOException($"--output {spDir.FullName} already holds spiece.model; pass --overwrite to replace it, or choose another folder.");
                return TrainSentencePiece(console, SelectInputs(console, parse.GetValue(input)!), parse.GetValue(field)!, spOptions, spPath);
            }
            // Checked before any work: an earlier tokenizer (which shards and models may depend on) is never replaced silently.
            if (!parse.GetValue(overwrite) && parse.GetValue(output) is { } target)
                foreach (var name in parse.GetValue(model) == "wordpiece" ? new[] { "tokenizer.json", "vocab.txt" } : ["tokenizer.json"])
                    if (File.Exists(Path.Combine(target.FullName, name)))
                        throw new IOException($"--output {target.FullName} already holds {name}; pass --overwrite to replace it, or choose another folder.");
            var files = SelectInputs(console, parse.GetValue(input)!);
            if (parse.GetValue(model) == "wordpiece")
            {
                if (parse.GetValue(pattern) is not null) throw new ArgumentException("--pattern applies to --model bpe only; WordPiece splits words with BERT's pre-tokenizer.");
                // BERT's specials unless the user named others.
                var wordPieceSpecials = parse.GetResult(specials) is null or { Implicit: true } ? new WordPieceTrainerOptions().SpecialTokens : parse.GetValue(specials)!;
                return TrainWordPiece(console, files, parse.GetValue(vocab), parse.GetValue(minFreq), wordPieceSpecials, parse.GetValue(field)!, parse.GetValue(output)!);
            }
            var options = new BpeTrainerOptions
            {
                VocabularySize = parse.GetValue(vocab),
                MinFrequency = parse.GetValue(minFreq),
                SpecialTokens = parse.GetValue(specials)!,
                JsonField = parse.GetValue(field)!,
            };
            if (parse.GetValue(pattern) is { } p)
                options = options with { Pattern = TiktokenEncodings.IsKnown(p) ? TiktokenEncodings.Get(p).PreTokenizer.Pattern : p };
            options.Validate(OptionNames(("VocabularySize", "--vocab-size"), ("MinFrequency", "--min-frequency"), ("SpecialTokens", "--special-tokens"),
                ("JsonField", "--field"), ("Pattern", "--pattern")));
            var dir = parse.GetValue(output)!;
            if (File.Exists(dir.FullName)) throw new IOException($"--output {dir.FullName} is a file; give a folder for tokenizer.json.");
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
            dir.Create();
            string path = Path.Combine(dir.FullName, "tokenizer.json");
            HuggingFaceTokenizerJson.Save(result.Tokenizer, path, result.Merges);
            console.MarkupLine($"wrote [bold]{Markup.Escape(path)}[/]: {result.Tokenizer.VocabularySize} ids, {result.Merges.Count} merges, " +
                               $"{result.DistinctPreTokens:N0} distinct of {result.PreTokenCount:N0} pre-tokens, {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }

    // SentencePiece: every line of a text file (or every line of each JSONL record's field) is one sentence, as spm_train reads.
    private static int TrainSentencePiece(IAnsiConsole console, List<string> files, string field, SentencePieceTrainerOptions options, string path)
    {
        console.MarkupLine($"[grey]training:[/] {Markup.Escape(JsonSerializer.Serialize(options, RelaxedJson))}");
        var counters = new InputCounters();
        IEnumerable<string> Sentences()
        {
            foreach (var file in files)
            {
                if (TextChunks.IsJsonLines(file))
                {
                    foreach (var text in TextChunks.JsonLinesField(file, field, counters))
                        foreach (var line in text.Split('\n')) yield return line.TrimEnd('\r');
                }
                else
                {
                    using var reader = TextChunks.OpenText(file, counters);
                    while (reader.ReadLine() is { } line) yield return line;
                }
            }
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var modelFile = SentencePieceTrainer.Train(Sentences(), options, new SynchronousProgress(console));
        Warn(console, counters.Warning(files.Count == 1 ? files[0] : "the input"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DurableFile.WriteAllBytes(path, modelFile.ToBytes());
        console.MarkupLine($"wrote [bold]{Markup.Escape(path)}[/]: {modelFile.Pieces.Count} pieces ({options.ModelType}), {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    // Progress<T> posts to the thread pool; the trainer's messages should print in order, as they happen.
    private sealed class SynchronousProgress(IAnsiConsole console) : IProgress<string>
    {
        public void Report(string value) => console.MarkupLine($"[grey]{Markup.Escape(value)}[/]");
    }

    private static int TrainWordPiece(IAnsiConsole console, List<string> files, int vocabSize, long minFrequency, IReadOnlyList<string> specials, string field, DirectoryInfo dir)
    {
        // Checked here so the messages name the flags (the library names its own properties).
        if (specials.FirstOrDefault(string.IsNullOrEmpty) is not null) throw new ArgumentException("--special-tokens holds an empty token; give its text, e.g. [UNK].");
        if (specials.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new ArgumentException($"--special-tokens lists \"{dup.Key}\" {dup.Count()} times; each special token must be distinct.");
        if (vocabSize <= specials.Count) throw new ArgumentException($"--vocab-size must be more than the {specials.Count} special tokens; got {vocabSize}.");
        if (minFrequency < 0) throw new ArgumentException($"--min-frequency must be ≥ 0; got {minFrequency}.");
        RequireNonEmpty(field, "--field");
        if (File.Exists(dir.FullName)) throw new IOException($"--output {dir.FullName} is a file; give a folder for tokenizer.json and vocab.txt.");
        var options = new WordPieceTrainerOptions { VocabularySize = vocabSize, MinFrequency = minFrequency, SpecialTokens = [.. specials], JsonField = field };
        console.MarkupLine($"[grey]training WordPiece:[/] {Markup.Escape(JsonSerializer.Serialize(new { options.VocabularySize, options.MinFrequency, options.SpecialTokens, options.JsonField }, RelaxedJson))}");
        long totalBytes = files.Sum(f => new FileInfo(f).Length);
        WordPieceTrainingResult result = null!;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        console.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask("counting words", maxValue: Math.Max(1, totalBytes));
            result = WordPieceTrainer.TrainFromFiles(files, options, new Progress<long>(n => task.Increment(n)));
            task.Value = task.MaxValue;
        });
        dir.Create();
        string json = Path.Combine(dir.FullName, "tokenizer.json");
        WordPieceTokenizerJson.Save(result.Tokenizer, json);
        BertVocabFiles.Save(result.Vocabulary, new BertVocabOptions(), dir.FullName);
        console.MarkupLine($"wrote [bold]{Markup.Escape(json)}[/] and vocab.txt: {result.Vocabulary.Count} tokens from {result.DistinctWords:N0} distinct of {result.WordCount:N0} words, {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    public static Command CreateTokenize(IAnsiConsole console)
    {
        var tokenizer = TokenizerOption();
        var input = new Option<FileInfo[]>("--input") { Description = "Text, JSONL or .gz files, folders or globs (a JSONL record or a whole text file is one document).", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Directory for shard_00000.bin, ...", Required = true };
        var field = new Option<string>("--field") { Description = "JSONL field holding the text.", DefaultValueFactory = _ => "text" };
        var shardTokens = new Option<long>("--shard-tokens") { Description = "Tokens per shard.", DefaultValueFactory = _ => 100_000_000 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the shard set already in --output (its manifest.json and shard_*.bin); without it such a folder is refused." };
        var cmd = new Command("tokenize", "Stream text into binary token shards and their manifest.json (see docs/FORMATS.md).") { tokenizer, input, output, field, shardTokens, overwrite };
        cmd.SetAction(parse =>
        {
            var files = SelectInputs(console, parse.GetValue(input)!);
            var options = new TokenizeOptions { JsonField = parse.GetValue(field)!, ShardTokens = parse.GetValue(shardTokens), Overwrite = parse.GetValue(overwrite) };
            var names = OptionNames(("JsonField", "--field"), ("ShardTokens", "--shard-tokens"), ("Overwrite", "--overwrite"), ("Output", "--output"));
            options.Validate(names);
            var tok = LoadTokenizer(parse.GetValue(tokenizer)!);
            long totalBytes = files.Sum(f => new FileInfo(f).Length);
            TokenizeSummary summary = null!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            console.Progress().AutoClear(true).Start(ctx =>
            {
                // Progress counts decoded chars against the input's bytes: exact for ASCII text, an estimate for gzip.
                var task = ctx.AddTask("tokenizing", maxValue: Math.Max(1, totalBytes));
                summary = TokenizePipeline.Run(tok, files, parse.GetValue(output)!.FullName, options, new Progress<long>(c => task.Value = Math.Min(c, task.MaxValue)), name: names);
                task.Value = task.MaxValue;
            });
            Warn(console, summary.LoneSurrogates == 0 ? null : $"{summary.LoneSurrogates:N0} lone-surrogate JSON escape(s) (such as \\ud800) in the input were read as U+FFFD.");
            // Shards end only where a document ends (so no document is cut in two): say so when that made one larger than asked.
            var oversize = TokenShardManifest.Read(parse.GetValue(output)!.FullName).Shards.Where(s => s.Tokens > options.ShardTokens).ToList();
            if (oversize.Count > 0)
                console.MarkupLine($"[yellow]note:[/] {oversize.Count} shard(s) hold more than --shard-tokens {options.ShardTokens:N0} tokens (up to {oversize.Max(s => s.Tokens):N0}): " +
                                   "a shard ends only at the end of a document, and a whole text file is one document; give JSONL records (one document each) for smaller shards.");
            console.MarkupLine($"{summary.Documents:N0} documents → {summary.Tokens:N0} tokens in {summary.Shards.Count} shard(s) " +
                               $"({summary.InputChars / Math.Max(1e-9, sw.Elapsed.TotalSeconds) / 1e6:F1} M chars/s): {Markup.Escape(string.Join(", ", summary.Shards.Select(Path.GetFileName)))} + {TokenShardManifest.FileName}");
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
