// `loom classify --model DIR --input FILE.jsonl [--field text] [--pair-field text_pair] [--batch-size N]
// [--max-length N] [--output FILE]`: one JSON object per input line, in input order —
// {"label": name, "probabilities": {name: p, ...}} for single-label models, {"labels": [names with
// p > 0.5], "probabilities": {...}} for multi-label ones, {"score": x} (or "scores") for regression.
// Lines are read, classified and written a block at a time (streamed: the input is never held whole),
// each block in length-bucketed batches padded to their longest. A blank or malformed line is an
// error naming file:line, since a skipped line would shift every later answer onto the wrong input.
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Core.Validation;
using Loom.Models.Classification;
using Loom.Training.Classification;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class ClassifyCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var modelOpt = new Option<DirectoryInfo>("--model") { Description = "A fine-tuned classifier directory (config.json with id2label, model.safetensors, tokenizer files).", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "JSONL file (optionally .gz): one object per line.", Required = true };
        var field = new Option<string>("--field") { Description = "Field holding the text.", DefaultValueFactory = _ => "text" };
        var pairField = new Option<string?>("--pair-field") { Description = "Field holding the second text of a pair (absent in a record: a single text)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Texts per forward pass.", DefaultValueFactory = _ => 16 };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text, specials included (0: the model's context, at most 512); longer texts keep their head.", DefaultValueFactory = _ => 0 };
        var output = new Option<FileInfo?>("--output") { Description = "Write the JSON lines here (atomically) instead of standard output." };
        var adapterOpt = new Option<DirectoryInfo?>("--adapter") { Description = "A LoRA adapter directory (PEFT's adapter_config.json + adapter_model.safetensors) applied to the classifier's projections." };
        var cmd = new Command("classify", "Classify texts with a fine-tuned model: one JSON object per input line.") { modelOpt, input, field, pairField, batchSize, maxLength, output, adapterOpt };
        cmd.SetAction(parse =>
        {
            int batch = parse.GetValue(batchSize), maxLen = parse.GetValue(maxLength);
            Setting.AtLeast("--batch-size", batch, 1);
            // 0 is "the model's context"; otherwise the same floor as finetune's train.max_length, below which
            // a text is cut to nothing but its special tokens.
            if (maxLen != 0) Setting.AtLeast("--max-length", maxLen, FineTuneOptions.MinimumMaxLength);
            string path = parse.GetValue(input)!.FullName;
            InputFiles.RequireFile(path, "--input");
            var dataOptions = new ClassificationDataOptions { TextField = parse.GetValue(field)!, PairField = parse.GetValue(pairField) };
            try { dataOptions.Validate(); }
            catch (ArgumentException) { throw new ArgumentException($"--field \"{dataOptions.TextField}\" and --pair-field \"{dataOptions.PairField}\" must be two different, non-empty field names."); }
            string? outPath = parse.GetValue(output)?.FullName;
            if (outPath != null && Directory.Exists(outPath))
                throw new ArgumentException($"--output {outPath} is a directory; give a file path for the JSON lines.");
            string dir = parse.GetValue(modelOpt)!.FullName;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model {dir} does not exist.");
            using var model = ClassifierFactory.ForInference(dir, parse.GetValue(adapterOpt)?.FullName);
            var encoder = SequenceEncoder.Load(dir);
            var names = ClassifierFactory.LabelsOf(model);
            int limit = maxLen > 0 ? maxLen : Math.Min(model.ContextLength, 512);
            if (limit > model.ContextLength) throw Setting.Error("--max-length", limit, $"at most the model's context ({model.ContextLength})");
            var options = new FineTuneOptions { BatchSize = batch, MaxLength = limit, LengthBucketing = true };
            using var durable = outPath is null ? null : DurableFile.Create(outPath);
            // Not `using`: a StreamWriter with leaveOpen flushes its stream again on every Dispose, and one
            // disposed after the commit (which closes the file) threw "Cannot access a closed file" after a
            // complete run. It is disposed once, before the commit; on an error, durable deletes the file.
            var fileWriter = durable is null ? null : new StreamWriter(durable.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            TextWriter writer = fileWriter ?? parse.InvocationConfiguration.Output;
            long lines = 0, truncated = 0;
            // Progress on stderr (the console), never on stdout, which carries only the JSON lines.
            console.Progress().Columns(new TaskDescriptionColumn(), new SpinnerColumn()).Start(ctx =>
            {
                var task = ctx.AddTask("classifying", maxValue: 1);
                task.IsIndeterminate = true;
                using (var stream = CompressedInput.Open(path, "--input"))
                using (var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true))
                {
                    var block = new List<LabeledText>(batch * 16);
                    void Flush()
                    {
                        if (block.Count == 0) return;
                        var data = ClassificationDataset.Encode(block, encoder, null, limit, TruncationPolicy.Head);
                        truncated += data.TruncatedCount;
                        var scores = ClassifierEvaluation.Predict(model, data, options);
                        for (int i = 0; i < block.Count; i++) writer.WriteLine(Line(model.ProblemType, names, scores.AsSpan(i * names.Count, names.Count)));
                        lines += block.Count;
                        task.Description = $"classified {lines:N0} lines";
                        block.Clear();
                    }
                    foreach (var record in ClassificationDataReader.ReadJsonLines(reader, path, dataOptions, requireLabel: false))
                    {
                        block.Add(record);
                        if (block.Count == block.Capacity) Flush();
                    }
                    Flush();
                }
                task.Value = 1;
            });
            if (lines == 0) throw new InvalidDataException($"--input {path} holds no lines to classify.");
            fileWriter?.Dispose();
            durable?.Commit();
            if (truncated > 0) console.MarkupLine($"[yellow]warning:[/] {truncated:N0} of {lines:N0} texts were longer than {limit} tokens and kept their first tokens (--max-length).");
            return 0;
        });
        return cmd;
    }

    // One output object; probabilities as softmax (single-label) or sigmoid (multi-label), rounded to 6 digits.
    // The formatter lives in Loom.Training so loom-run prints the same lines.
    private static string Line(ProblemType type, IReadOnlyList<string> names, ReadOnlySpan<double> z) => PredictionLine.Format(type, names, z);
}
