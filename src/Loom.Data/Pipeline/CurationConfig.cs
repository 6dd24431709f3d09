// The configuration of `loom data curate`: inputs, reading, the ordered map stages with their
// options, and de-duplication. A YAML pipeline file mirrors it (snake_case keys); each entry of
// `stages` is a one-key mapping from a stage name to its options. With no `stages`, the default
// pipeline runs: normalize → gopher_quality → c4_quality → gopher_repetition → language → toxicity
// → pii, then exact and near de-duplication.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Loom.Data.Dedup;
using Loom.Data.Readers;
using Loom.Data.Stages;

namespace Loom.Data.Pipeline;

/// <summary>De-duplication settings.</summary>
public sealed record DedupOptions
{
    /// <summary>Remove documents whose normalised text equals an earlier one.</summary>
    public bool Exact { get; init; } = true;
    /// <summary>Remove near duplicates (MinHash LSH).</summary>
    public bool Near { get; init; } = true;
    /// <summary>MinHash settings.</summary>
    public MinHashOptions Minhash { get; init; } = new();
    /// <summary>
    /// Memory for the merge's sort tables (24 bytes per document for the exact pass, 16 per band); beyond it
    /// they are sorted in runs written under the output folder and merged from disk.
    /// </summary>
    public double MaxSortMegabytes { get; init; } = 1024;
}

/// <summary>Everything a curation run needs.</summary>
public sealed record CurationConfig
{
    /// <summary>Files, folders or globs.</summary>
    public List<string> Input { get; init; } = [];
    /// <summary>Output folder.</summary>
    public string Output { get; init; } = "curated";
    /// <summary>Reading settings (field, text_split, format).</summary>
    public ReaderOptions Reader { get; init; } = new();
    /// <summary>Write kept.jsonl.gz and removed.jsonl.gz.</summary>
    public bool Gzip { get; init; }
    /// <summary>The ordered stages; null for the default pipeline.</summary>
    public JsonArray? Stages { get; init; }
    /// <summary>De-duplication.</summary>
    public DedupOptions Dedup { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The default stages, in order.</summary>
    public static IReadOnlyList<string> DefaultStages { get; } = ["normalize", "gopher_quality", "c4_quality", "gopher_repetition", "language", "toxicity", "pii"];

    /// <summary>Builds the stage instances; errors name the stage and the bad key.</summary>
    public IReadOnlyList<IDocumentStage> BuildStages()
    {
        var entries = Stages is null
            ? DefaultStages.Select(n => (n, (JsonNode?)new JsonObject())).ToList()
            : Stages.Select((e, i) => e is JsonObject o && o.Count == 1 ? (o.First().Key, o.First().Value) : e is JsonValue v && v.TryGetValue(out string? name) ? (name, (JsonNode?)new JsonObject())
                : throw new FormatException($"stages[{i}] must be a stage name or a one-key mapping (name: {{options}}); got {e?.ToJsonString()}.")).ToList();
        var stages = new List<IDocumentStage>();
        foreach (var (name, options) in entries)
        {
            var node = options ?? new JsonObject();
            try
            {
                stages.Add(name switch
                {
                    "normalize" => new Normalizer(node.Deserialize<NormalizerOptions>(Json)),
                    "gopher_quality" => new GopherQualityFilter(Checked(node.Deserialize<GopherQualityOptions>(Json), o => o.Validate(name + "."))),
                    "c4_quality" => new C4Filter(Checked(node.Deserialize<C4Options>(Json), o => o.Validate(name + "."))),
                    "gopher_repetition" => new RepetitionFilter(Checked(node.Deserialize<RepetitionOptions>(Json), o => o.Validate(name + "."))),
                    "language" => new LanguageFilter(Checked(node.Deserialize<LanguageFilterOptions>(Json), o => o.Validate(name + "."))),
                    "toxicity" => new ToxicityFilter(Checked(node.Deserialize<ToxicityOptions>(Json), o => o.Validate(name + "."))),
                    "pii" => new PiiRedactor(node.Deserialize<PiiOptions>(Json)),
                    _ => throw new FormatException($"Unknown stage \"{name}\"; stages: {string.Join(", ", DefaultStages)}."),
                });
            }
            catch (JsonException e)
            {
                throw new FormatException($"stage {name}: {e.Message.Replace("$.", "", StringComparison.Ordinal)}", e);
            }
        }
        return stages;
    }

    // Range-checks a stage's options before the stage is built (null: the stage's defaults).
    private static T? Checked<T>(T? options, Action<T> validate) where T : class
    {
        if (options != null) validate(options);
        return options;
    }

    /// <summary>Binds a JSON tree (from YAML).</summary>
    public static CurationConfig FromJson(JsonNode? root, string source)
    {
        try
        {
            var config = root?.Deserialize<CurationConfig>(Json) ?? new CurationConfig();
            config.Dedup.Minhash.Validate();
            if (config.Reader.CsvMaxQuotedLines < 1)
                throw new FormatException($"{source}: reader.csv_max_quoted_lines must be at least 1; got {config.Reader.CsvMaxQuotedLines}.");
            if (config.Reader.CsvMaxQuotedBytes < 1)
                throw new FormatException($"{source}: reader.csv_max_quoted_bytes must be at least 1; got {config.Reader.CsvMaxQuotedBytes}.");
            if (!(config.Dedup.MaxSortMegabytes > 0))
                throw new FormatException($"{source}: dedup.max_sort_megabytes must be a positive number of megabytes; got {config.Dedup.MaxSortMegabytes}.");
            return config;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: {e.Message.Replace("$.", "", StringComparison.Ordinal)} (keys: input, output, reader.field, stages, dedup.minhash.threshold, ...)", e);
        }
    }
}
