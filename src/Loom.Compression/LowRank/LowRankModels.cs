// Low-rank model directories: factoring a model's projections by truncated SVD and loading the result.
//
// Format (a normal Hugging Face model directory plus one file):
//  - low_rank.json: {"format": "loom-low-rank", "version": 1, "projections": {"h.0.mlp.c_fc": 64, ...}}
//    — the module paths replaced and their ranks;
//  - model.safetensors: every tensor of the base model except the replaced projections' weights, plus for
//    each replaced path "<path>.low_rank_A.weight" (r × in) and "<path>.low_rank_B.weight" (out × r),
//    f32, W ≈ B·A in nn.Linear's (out, in) orientation whatever the base layout (GPT-2's Conv1D included);
//    biases stay under their own names;
//  - config.json, tokenizer files and the rest copied from the source model.
// Loading builds the family's model with the factors as extra parameters and LowRankProjection in the
// seam for those paths. The dense weight tensor of a replaced projection is still allocated (zero) by the
// family's parameter plan; the file and the matmul work shrink, resident memory does not (yet).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Compression.IO;
using Loom.Compression.Pruning;
using Loom.Core.Threading;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Compression.LowRank;

/// <summary>One factored projection.</summary>
public sealed record FactoredProjection(string Path, int InFeatures, int OutFeatures, int Rank, double RelativeError)
{
    /// <summary>in·out.</summary>
    public long DenseParameters => (long)InFeatures * OutFeatures;

    /// <summary>r·(in + out), or in·out when kept dense (Rank 0).</summary>
    public long Parameters => Rank == 0 ? DenseParameters : (long)Rank * (InFeatures + OutFeatures);
}

/// <summary>The result of a factorisation.</summary>
public sealed record LowRankReport(IReadOnlyList<FactoredProjection> Projections, long ModelParametersBefore, long ModelParametersAfter);

/// <summary>Factors models into low-rank projections and loads them.</summary>
public static class LowRankModels
{
    /// <summary>The marker file of a low-rank model directory.</summary>
    public const string FileName = "low_rank.json";

    private const string FormatName = "loom-low-rank";

    /// <summary>Loom's tensor name of factor A of <paramref name="path"/>.</summary>
    public static string AName(string path) => path + ".low_rank_A.weight";

    /// <summary>Loom's tensor name of factor B of <paramref name="path"/>.</summary>
    public static string BName(string path) => path + ".low_rank_B.weight";

    /// <summary>True when <paramref name="directory"/> holds a low-rank model (its low_rank.json; only its existence is checked, nothing is opened).</summary>
    public static bool IsLowRank(string directory) => File.Exists(Path.Combine(directory, FileName));

    /// <summary>
    /// Registers the low-rank directory form in <see cref="ModelFormats"/>, so that
    /// <see cref="CausalLanguageModels.Load(string, ModelOptions, WorkerPool?)"/> — and every command, the
    /// inference engine and the server built on it — opens low-rank directories. Idempotent; the CLI calls it
    /// at start-up, library users call it once before loading.
    /// </summary>
    public static void Register() => ModelFormats.Register(new LowRankModelFormat());

    /// <summary>
    /// Factors the projections of <paramref name="modelDirectory"/> and writes a low-rank model directory.
    /// A projection whose rank would not save parameters (r·(in+out) ≥ in·out) stays dense (rank 0 in the report).
    /// </summary>
    public static LowRankReport Factorize(string modelDirectory, string outputDirectory, LowRankOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        ModelDirectoryWriter.CheckOutput(modelDirectory, outputDirectory);
        if (IsLowRank(modelDirectory)) throw new ArgumentException($"{modelDirectory} is already a low-rank model ({FileName}); factor the dense model it came from.");
        var specs = new List<ProjectionSpec>();
        using var model = CausalLanguageModels.Load(modelDirectory, ModelOptions.Inference with { Projections = c => { specs.Add(c.Spec); return c.CreateDense(); } });
        var include = options.Include ?? (s => ModelPruner.LayerOf(s.Path) >= 0);
        var p = model.Parameters;
        var seen = new HashSet<int>();
        var results = new List<FactoredProjection>();
        var factors = new List<SafetensorsWriter.Item>();
        var replaced = new HashSet<int>();
        foreach (var s in specs.Where(s => include(s) && seen.Add(s.WeightIndex)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (specs.Count(o => o.WeightIndex == s.WeightIndex) > 1) continue;   // a tied weight serves another projection too
            var w = WeightMatrix.ToOutIn(p.Value(s.WeightIndex), s);
            var svd = TruncatedSvd.Compute(w, s.OutFeatures, s.InFeatures);
            int full = Math.Min(s.InFeatures, s.OutFeatures);
            int r = options.Rank is { } fixedRank ? Math.Min(fixedRank, full) : svd.RankForEnergy(options.Energy!.Value);
            if ((long)r * (s.InFeatures + s.OutFeatures) >= (long)s.InFeatures * s.OutFeatures)
            {
                results.Add(new FactoredProjection(s.Path, s.InFeatures, s.OutFeatures, 0, 0));
                progress?.Report($"{s.Path}: rank {r} saves nothing on {s.OutFeatures}×{s.InFeatures}; kept dense");
                continue;
            }
            var (a, b) = svd.Factors(r);
            factors.Add(new(AName(s.Path), [r, s.InFeatures], a));
            factors.Add(new(BName(s.Path), [s.OutFeatures, r], b));
            replaced.Add(s.WeightIndex);
            var f = new FactoredProjection(s.Path, s.InFeatures, s.OutFeatures, r, svd.RelativeError(r));
            results.Add(f);
            progress?.Report($"{s.Path}: {s.OutFeatures}×{s.InFeatures} → rank {r}, {f.DenseParameters:N0} → {f.Parameters:N0} weights, ‖W−W_r‖/‖W‖ {f.RelativeError:F4}");
        }
        if (replaced.Count == 0) throw new ArgumentException("No projection gets smaller at this rank or energy; lower --rank or --energy.");
        long before = p.Count;
        long after = before - results.Sum(x => x.DenseParameters - x.Parameters);
        ModelDirectoryWriter.Write(modelDirectory, outputDirectory, staging =>
        {
            var items = p.Specs.Select((spec, i) => (spec, i)).Where(t => !replaced.Contains(t.i))
                .Select(t => new SafetensorsWriter.Item(t.spec.Name, t.spec.Shape, p.Value(t.i).ToArray())).Concat(factors).ToList();
            SafetensorsWriter.Write(Path.Combine(staging, "model.safetensors"), items, new Dictionary<string, string> { ["format"] = "pt" });
            var ranks = new JsonObject();
            foreach (var x in results.Where(x => x.Rank > 0)) ranks[x.Path] = x.Rank;
            var doc = new JsonObject { ["format"] = FormatName, ["version"] = 1, ["projections"] = ranks };
            Loom.Core.IO.DurableFile.WriteAllText(Path.Combine(staging, FileName), doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
        return new LowRankReport(results, before, after);
    }

    /// <summary>The ranks low_rank.json of <paramref name="directory"/> lists, by module path.</summary>
    public static IReadOnlyDictionary<string, int> ReadRanks(string directory)
    {
        string path = Path.Combine(directory, FileName);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        if (node?["format"]?.GetValue<string>() != FormatName)
            throw new InvalidDataException($"{path}: \"format\" must be \"{FormatName}\"; this is not a Loom low-rank model file.");
        if (node["version"]?.GetValue<int>() != 1)
            throw new InvalidDataException($"{path}: \"version\" is {node["version"]?.ToJsonString() ?? "missing"}; this Loom reads version 1.");
        if (node["projections"] is not JsonObject projections)
            throw new InvalidDataException($"{path}: \"projections\" must be an object of module path → rank.");
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in projections)
        {
            if (v is not JsonValue jv || !jv.TryGetValue<int>(out int r) || r < 1)
                throw new InvalidDataException($"{path}: projections.\"{k}\" is {v?.ToJsonString() ?? "null"}; a rank must be a whole number ≥ 1.");
            ranks[k] = r;
        }
        return ranks;
    }

    /// <summary>
    /// Model options that add the factors of <paramref name="ranks"/> as parameters and put a
    /// <see cref="LowRankProjection"/> in the seam for those paths (wrapping <paramref name="baseOptions"/>' factory elsewhere).
    /// </summary>
    public static ModelOptions CreateModelOptions(object configuration, IReadOnlyDictionary<string, int> ranks, ModelOptions? baseOptions = null)
    {
        baseOptions ??= ModelOptions.Inference;
        var specs = Loom.Models.Adapters.LoraAdapters.Projections(configuration).ToDictionary(s => s.Path, StringComparer.Ordinal);
        var tensors = new List<(string, long[], bool)>();
        foreach (var (path, r) in ranks)
        {
            if (!specs.TryGetValue(path, out var s))
                throw new InvalidDataException($"{FileName} names projection \"{path}\", which this {CausalLanguageModels.Describe(configuration)} model does not have; config.json and {FileName} disagree.");
            if (r > Math.Min(s.InFeatures, s.OutFeatures))
                throw new InvalidDataException($"{FileName}: rank {r} of \"{path}\" exceeds min(in, out) = {Math.Min(s.InFeatures, s.OutFeatures)}.");
            tensors.Add((AName(path), [r, s.InFeatures], true));
            tensors.Add((BName(path), [s.OutFeatures, r], true));
        }
        var inner = baseOptions.Projections;
        return baseOptions with
        {
            HeadParameters = [.. baseOptions.HeadParameters, .. tensors],
            Projections = c => ranks.ContainsKey(c.Spec.Path)
                ? new LowRankProjection(c.Spec, c.Parameters, c.Parameters.IndexOf(AName(c.Spec.Path)), c.Parameters.IndexOf(BName(c.Spec.Path)), c.Pool)
                : inner?.Invoke(c) ?? c.CreateDense(),
        };
    }

    /// <summary>Opens a low-rank model directory (frozen unless <paramref name="options"/> says otherwise).</summary>
    public static ICausalLanguageModel Load(string directory, ModelOptions? options = null, WorkerPool? pool = null)
    {
        var configuration = CausalLanguageModels.ReadConfig(directory);
        var ranks = ReadRanks(directory);
        var model = CausalLanguageModels.Create(configuration, CreateModelOptions(configuration, ranks, options), pool);
        try
        {
            string file = Path.Combine(directory, "model.safetensors");
            var specs = Loom.Models.Adapters.LoraAdapters.Projections(configuration);
            var replaced = new HashSet<int>(specs.Where(s => ranks.ContainsKey(s.Path)).Select(s => s.WeightIndex));
            var p = model.Parameters;
            using var st = SafetensorsFile.Open(file);
            var used = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < p.Specs.Count; i++)
            {
                var s = p.Specs[i];
                if (replaced.Contains(i)) continue;
                if (!st.Tensors.ContainsKey(s.Name))
                    throw new InvalidDataException($"{file}: no tensor \"{s.Name}\", which this low-rank {CausalLanguageModels.Describe(configuration)} model needs ({FileName} lists {ranks.Count} factored projections).");
                st.ReadSingle(s.Name, p.Value(i), s.Shape);
                used.Add(s.Name);
            }
            foreach (var name in st.Tensors.Keys)
                if (!used.Contains(name))
                    throw new InvalidDataException($"{file}: tensor \"{name}\" is not part of this low-rank model; {FileName} and the weights disagree.");
            ParameterCheck.EnsureFinite(p, file);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
