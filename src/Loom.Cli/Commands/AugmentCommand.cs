// `loom augment --method synonym|eda|mask|backtranslate|paraphrase --input FILE --output FILE`: label-
// preserving augmentation of a JSONL dataset (every field but the text is copied), deduplicated
// against the input, with an "augmentation" provenance object per new record. WordNet methods read
// --wordnet (default ../shared/data/wordnet); mask reads a BERT masked LM (--model); endpoint methods
// call --endpoint (e.g. loom serve); backtranslate also runs a local T5 directory (--model, optionally
// --reverse-model, with T5 task prefixes) through Seq2SeqGenerator.
using System.CommandLine;
using System.Text;
using Loom.Core.IO;
using Loom.Core.Validation;
using Loom.Training.Augmentation;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class AugmentCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var method = new Option<string>("--method") { Description = "synonym (WordNet), eda (Wei & Zou 2019), mask (a BERT masked LM's fills, --model), backtranslate (a local T5, --model, or --endpoint) or paraphrase (through --endpoint).", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "JSONL file (optionally .gz): one object per line.", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "JSONL file for the new records (written atomically).", Required = true };
        var field = new Option<string>("--field") { Description = "Field holding the text.", DefaultValueFactory = _ => "text" };
        var perRecord = new Option<int>("--per-record") { Description = "New records tried per input record.", DefaultValueFactory = _ => 1 };
        var alpha = new Option<double>("--alpha") { Description = "Share of words changed (EDA's α).", DefaultValueFactory = _ => 0.1 };
        var keep = new Option<bool>("--keep-original") { Description = "Also write each input record before its augmentations." };
        var wordnet = new Option<DirectoryInfo?>("--wordnet") { Description = "WordNet 3.0 database folder (index.* and data.*, plain or .gz); default ../shared/data/wordnet." };
        var endpoint = new Option<string?>("--endpoint") { Description = "OpenAI-compatible API base URL for backtranslate/paraphrase (e.g. http://127.0.0.1:8080/v1)." };
        var endpointModel = new Option<string>("--endpoint-model") { Description = "Model name sent to --endpoint.", DefaultValueFactory = _ => "loom" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key for --endpoint (default: $OPENAI_API_KEY)." };
        var pivot = new Option<string>("--pivot") { Description = "Back-translation's pivot language.", DefaultValueFactory = _ => "French" };
        var bert = new Option<DirectoryInfo?>("--model") { Description = "mask: a BERT masked-LM directory (config.json, model.safetensors, vocab.txt); backtranslate: a local T5 directory (config.json, model.safetensors, spiece.model) translating there (and back, unless --reverse-model)." };
        var reverseModel = new Option<DirectoryInfo?>("--reverse-model") { Description = "backtranslate with --model: the T5 directory translating back (default: --model itself, with --reverse-prefix)." };
        var sourcePrefix = new Option<string>("--source-prefix") { Description = "backtranslate with --model: T5 task prefix for the way there.", DefaultValueFactory = _ => "translate English to German: " };
        var reversePrefix = new Option<string>("--reverse-prefix") { Description = "backtranslate with --model: T5 task prefix for the way back.", DefaultValueFactory = _ => "translate German to English: " };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "backtranslate with --model: most tokens generated per direction (greedy decoding).", DefaultValueFactory = _ => 128 };
        var maskWords = new Option<int>("--mask-words") { Description = "mask: words masked per new record (0: the share --alpha of its words; a text holding [MASK] is filled there instead).", DefaultValueFactory = _ => 1 };
        var topK = new Option<int>("--top-k") { Description = "mask: each fill is drawn from the k most likely whole words, in proportion to probability.", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random choices.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("augment", "Augment a labelled JSONL dataset (synonyms, EDA, [MASK] fills, back-translation, paraphrase), labels kept, deduplicated, with provenance.")
            { method, input, output, field, perRecord, alpha, keep, wordnet, bert, maskWords, topK, endpoint, endpointModel, apiKey, pivot, reverseModel, sourcePrefix, reversePrefix, maxNew, seed };
        cmd.SetAction(parse =>
        {
            var options = new AugmentationOptions
            {
                Method = parse.GetValue(method)!, TextField = parse.GetValue(field)!, PerRecord = parse.GetValue(perRecord), Alpha = parse.GetValue(alpha),
                KeepOriginal = parse.GetValue(keep), Pivot = parse.GetValue(pivot)!, Seed = parse.GetValue(seed),
                MaskWords = parse.GetValue(maskWords), TopK = parse.GetValue(topK),
            };
            options.Validate();
            string inPath = parse.GetValue(input)!.FullName, outPath = parse.GetValue(output)!.FullName;
            InputFiles.RequireFile(inPath, "--input");
            if (Directory.Exists(outPath)) throw new ArgumentException($"--output {outPath} is a directory; give a file path for the JSON lines.");
            if (Path.GetFullPath(inPath) == Path.GetFullPath(outPath)) throw new ArgumentException("--output is the --input file; write the augmented records to another file.");
            EasyDataAugmentation? eda = null;
            EndpointRewriter? rewriter = null;
            MaskedWordFiller? filler = null;
            BackTranslator? translator = null;
            Loom.Inference.Seq2Seq.Seq2SeqTextModel? forward = null, backward = null;
            if (options.Method is not "backtranslate" && (parse.GetValue(reverseModel) != null))
                throw new ArgumentException($"--reverse-model is read only by --method backtranslate with --model; --method is {options.Method}.");
            if (options.Method is "backtranslate" && parse.GetValue(bert) is { } there)
            {
                if (parse.GetValue(endpoint) != null) throw new ArgumentException("--method backtranslate takes either --model DIR (a local T5) or --endpoint URL, not both.");
                int tokens = parse.GetValue(maxNew);
                if (tokens < 1) throw Setting.Error("--max-new-tokens", tokens, "at least 1");
                var generation = new Loom.Inference.Seq2Seq.Seq2SeqGenerationOptions { MaxNewTokens = tokens };
                foreach (var dir in new[] { there, parse.GetValue(reverseModel) })
                    if (dir != null && !Loom.Inference.Seq2Seq.Seq2SeqTextModel.IsSeq2Seq(dir.FullName))
                        throw new ArgumentException($"{(dir == there ? "--model" : "--reverse-model")} {dir.FullName} is not an encoder-decoder directory (config.json with model_type \"t5\", model.safetensors, spiece.model); back-translation with --model needs a T5.");
                forward = Loom.Inference.Seq2Seq.Seq2SeqTextModel.Load(there.FullName);
                try { if (parse.GetValue(reverseModel) is { } reverse) backward = Loom.Inference.Seq2Seq.Seq2SeqTextModel.Load(reverse.FullName); }
                catch { forward.Dispose(); throw; }
                translator = new BackTranslator(new Seq2SeqTranslator(forward, parse.GetValue(sourcePrefix)!, generation), new Seq2SeqTranslator(backward ?? forward, parse.GetValue(reversePrefix)!, generation));
            }
            else if (options.Method is "mask")
                filler = MaskedWordFiller.Open(parse.GetValue(bert)?.FullName ?? throw new ArgumentException("--method mask needs --model DIR, a BERT masked-LM directory (config.json, model.safetensors, vocab.txt), e.g. from loom train with model_type: bert."));
            else if (options.Method is "synonym" or "eda")
            {
                string dir = parse.GetValue(wordnet)?.FullName ?? Path.GetFullPath(Path.Combine("..", "shared", "data", "wordnet"));
                if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--wordnet {dir} does not exist; give the WordNet 3.0 folder (index.noun, data.noun, ...).");
                eda = new EasyDataAugmentation(WordNet.Open(dir));
            }
            else
            {
                string url = parse.GetValue(endpoint) ?? throw new ArgumentException(options.Method is "backtranslate"
                    ? "--method backtranslate needs --model T5_DIR (a local T5 directory, with --source-prefix/--reverse-prefix) or --endpoint URL, an OpenAI-compatible API (e.g. http://127.0.0.1:8080/v1 from loom serve)."
                    : $"--method {options.Method} needs --endpoint URL, an OpenAI-compatible API (e.g. http://127.0.0.1:8080/v1 from loom serve).");
                if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl)) throw Setting.Error("--endpoint", url, "an absolute URL such as http://127.0.0.1:8080/v1");
                rewriter = new EndpointRewriter(baseUrl, parse.GetValue(endpointModel)!, parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
            }
            using var _ = rewriter;
            using var __ = filler;
            using var ___ = forward;
            using var ____ = backward;
            var lines = new List<string>();
            using (var stream = CompressedInput.Open(inPath, "--input"))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true))
                while (reader.ReadLine() is { } line) lines.Add(line);
            using var durable = DurableFile.Create(outPath);
            var writer = new StreamWriter(durable.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            AugmentationSummary? summary = null;
            console.Status().Start($"augmenting {lines.Count:N0} lines ({options.Method})", _ =>
                summary = new Augmenter(options, eda, rewriter, filler, translator).RunAsync(lines, inPath, writer).GetAwaiter().GetResult());
            writer.Dispose();
            durable.Commit();
            console.MarkupLine($"{summary!.Inputs:N0} records in, [green]{summary.Written:N0}[/] written to {Markup.Escape(outPath)} ({summary.Duplicates:N0} duplicates of the input or of each other dropped, {summary.Unchanged:N0} left unchanged).");
            return 0;
        });
        return cmd;
    }
}
