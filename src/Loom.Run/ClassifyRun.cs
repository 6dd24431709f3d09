// `loom-run classify`: one JSON line per input line from a fine-tuned classifier directory, the same
// lines `loom classify` prints (PredictionLine formats both), read and classified a block at a time in
// length-bucketed batches of 16, each text cut to the model's context (at most 512 tokens) keeping its
// head — `loom classify`'s defaults. A directory without a trained head is refused rather than
// answered with a random head's guesses. A blank or malformed line is an error naming file:line.
using System.Text;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Run;

/// <summary>The classify command.</summary>
public static class ClassifyRun
{
    /// <summary>The options classify accepts.</summary>
    public static readonly string[] Options = ["--model", "--input", "--field", "--threads"];

    private const int BatchSize = 16;

    /// <summary>Runs classify with the words after the command name; writes one JSON line per input line to <paramref name="stdout"/>.</summary>
    public static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = RunArguments.Parse("classify", args, Options);
        string dir = Path.GetFullPath(a.Required("--model")), input = Path.GetFullPath(a.Required("--input"));
        var dataOptions = new ClassificationDataOptions { TextField = a.Text("--field", "text") };
        try { dataOptions.Validate(); }
        catch (ArgumentException) { throw new ArgumentException($"--field is \"{dataOptions.TextField}\"; give the non-empty name of the JSON field holding the text (not \"{dataOptions.LabelField}\")."); }
        int threads = a.Int("--threads", 0);
        if (a.Has("--threads") && threads < 1)
            throw new ArgumentException($"--threads is {threads}; it must be at least 1 (leave it out to use every core, or LOOM_THREADS).");
        InputFiles.RequireFile(input, "--input");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model {dir} does not exist; give a fine-tuned classifier directory (config.json with id2label, model.safetensors, tokenizer files).");
        var head = TrainedHead.Inspect(dir);
        if (head is { HasHead: false } or { HasPooler: false })
            throw new InvalidDataException($"--model {dir} has no classification head (its config.json architectures is {head.Architecture}; model.safetensors has no {(head.HasHead ? head.PoolerTensor : head.HeadTensor)}); fine-tune it first with loom finetune.");
        using var pool = a.Has("--threads") ? new Loom.Core.Threading.WorkerPool(threads) : null;
        using var model = SequenceClassifiers.Load(dir, new SequenceClassifierOptions(), ModelOptions.Inference, pool);
        var encoder = SequenceEncoder.Load(dir);
        var names = SequenceClassifiers.LabelsOf(model);
        int limit = Math.Min(model.ContextLength, 512);
        var options = new FineTuneOptions { BatchSize = BatchSize, MaxLength = limit, LengthBucketing = true };
        long lines = 0, truncated = 0;
        using (var stream = CompressedInput.Open(input, "--input"))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true))
        {
            var block = new List<LabeledText>(BatchSize * 16);
            void Flush()
            {
                if (block.Count == 0) return;
                var data = ClassificationDataset.Encode(block, encoder, null, limit, TruncationPolicy.Head);
                truncated += data.TruncatedCount;
                var scores = ClassifierEvaluation.Predict(model, data, options);
                for (int i = 0; i < block.Count; i++) stdout.WriteLine(PredictionLine.Format(model.ProblemType, names, scores.AsSpan(i * names.Count, names.Count)));
                stdout.Flush();
                lines += block.Count;
                block.Clear();
            }
            foreach (var record in ClassificationDataReader.ReadJsonLines(reader, input, dataOptions, requireLabel: false))
            {
                block.Add(record);
                if (block.Count == block.Capacity) Flush();
            }
            Flush();
        }
        if (lines == 0) throw new InvalidDataException($"--input {input} holds no lines to classify.");
        if (truncated > 0) stderr.WriteLine($"warning: {truncated:N0} of {lines:N0} texts were longer than {limit} tokens and kept their first tokens.");
        return 0;
    }
}
