// Augments a JSONL dataset record by record: each new record is a copy of its source (so the label
// and every other field are kept: augmentation is label-preserving by construction) with the text
// replaced and an "augmentation" object recording provenance — method, source line, the changes
// made. A candidate equal to any input text or to an earlier output (after trimming and
// case-folding) is dropped, so the output never duplicates the data it came from.
using System.Text.Json.Nodes;

namespace Loom.Training.Augmentation;

/// <summary>Counts of a run.</summary>
public sealed record AugmentationSummary(int Inputs, int Written, int Duplicates, int Unchanged);

/// <summary>Runs an augmentation method over JSONL records.</summary>
public sealed class Augmenter(AugmentationOptions options, EasyDataAugmentation? eda = null, EndpointRewriter? rewriter = null, MaskedWordFiller? filler = null, BackTranslator? translator = null)
{
    /// <summary>Reads <paramref name="inputLines"/> (JSONL) and writes augmented records to <paramref name="output"/>.</summary>
    public async Task<AugmentationSummary> RunAsync(IReadOnlyList<string> inputLines, string source, TextWriter output, CancellationToken ct = default)
    {
        options.Validate();
        if (options.Method is "synonym" or "eda" && eda is null) throw new ArgumentException($"--method {options.Method} needs WordNet: give --wordnet DIR (e.g. ../shared/data/wordnet).");
        if (options.Method is "mask" && filler is null) throw new ArgumentException("--method mask needs a BERT masked LM: give --model DIR (a BertForMaskedLM directory, e.g. from loom train with model_type: bert).");
        if (options.Method is "backtranslate" && rewriter is null && translator is null) throw new ArgumentException("--method backtranslate needs a translator: give --model DIR (a local T5 directory) or --endpoint URL (an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 from loom serve).");
        if (options.Method is "paraphrase" && rewriter is null) throw new ArgumentException($"--method {options.Method} needs an OpenAI-compatible endpoint: give --endpoint URL (e.g. http://127.0.0.1:8080/v1 from loom serve).");
        var records = new List<(JsonObject Json, string Text, int Line)>();
        for (int i = 0; i < inputLines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(inputLines[i])) continue;
            JsonObject obj;
            try { obj = JsonNode.Parse(inputLines[i]) as JsonObject ?? throw new InvalidDataException($"{source}:{i + 1} is not a JSON object."); }
            catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{source}:{i + 1} is not valid JSON: {e.Message.Split(" Path:")[0]}", e); }
            if (obj[options.TextField] is not JsonValue v || !v.TryGetValue(out string? text))
                throw new InvalidDataException($"{source}:{i + 1} has no string field \"{options.TextField}\" (--field).");
            records.Add((obj, text, i + 1));
        }
        if (records.Count == 0) throw new InvalidDataException($"{source} holds no records to augment.");
        var seen = new HashSet<string>(records.Select(r => Key(r.Text)), StringComparer.Ordinal);
        var rng = new Random(options.Seed);
        int written = 0, duplicates = 0, unchanged = 0;
        foreach (var (json, text, line) in records)
        {
            ct.ThrowIfCancellationRequested();
            if (options.KeepOriginal) { output.WriteLine(json.ToJsonString()); written++; }
            for (int k = 0; k < options.PerRecord; k++)
            {
                AugmentedText? a = options.Method switch
                {
                    "synonym" => eda!.ReplaceSynonyms(text, options.Alpha, rng),
                    "eda" => eda!.Any(text, options.Alpha, rng),
                    "mask" => filler!.Augment(text, options.MaskWords > 0 ? options.MaskWords : Math.Max(1, (int)(options.Alpha * text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length)), options.TopK, rng),
                    "backtranslate" when translator != null => await translator.BackTranslateAsync(text, ct).ConfigureAwait(false),
                    "backtranslate" => await rewriter!.BackTranslateAsync(text, options.Pivot, ct).ConfigureAwait(false),
                    _ => await rewriter!.ParaphraseAsync(text, ct).ConfigureAwait(false),
                };
                if (a is null || a.Text.Length == 0) { unchanged++; continue; }
                if (!seen.Add(Key(a.Text))) { duplicates++; continue; }
                var copy = json.DeepClone().AsObject();
                copy[options.TextField] = a.Text;
                copy["augmentation"] = new JsonObject
                {
                    ["method"] = options.Method, ["operation"] = a.Operation, ["source"] = source, ["source_line"] = line,
                    ["changes"] = new JsonArray(a.Changes.Select(c => (JsonNode)c).ToArray()),
                };
                output.WriteLine(copy.ToJsonString());
                written++;
            }
        }
        return new AugmentationSummary(records.Count, written, duplicates, unchanged);
    }

    private static string Key(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}
