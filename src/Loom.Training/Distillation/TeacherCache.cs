// Offline distillation: the frozen teacher runs ONCE over the training token stream, cut into aligned
// chunks of T inputs, and its sparse distribution per position — the top-k ids and their log-probabilities
// at temperature T (SparseDistillationLoss: the tail mass is what they leave) — is stored; the student then
// trains on those very chunks against the cache at the cost of a student step, instead of paying a teacher
// forward per batch (on-the-fly distillation, DistillationObjective). Because the student's windows are
// the cached chunks, its context at each position is exactly the teacher's.
//
// Files in the cache directory (format loom.teacher_cache/1):
//   teacher_cache.json  manifest: vocab_size, top_k, temperature, chunk_length, chunks, the tokens' SHA-256,
//                       the teacher directory and config, and how long the teacher pass took
//   teacher_cache.bin   "LOOMKDC1", then int32 tokens[chunks·T + 1], int32 ids[chunks·T·k] (most likely first),
//                       float32 log_probs[chunks·T·k], little-endian, sizes checked on load
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Losses;

namespace Loom.Training.Distillation;

/// <summary>The teacher's top-k log-probabilities over a token stream, per aligned chunk position.</summary>
public sealed class TeacherCache
{
    /// <summary>The manifest's format name.</summary>
    public const string Format = "loom.teacher_cache/1";
    private static readonly byte[] Magic = "LOOMKDC1"u8.ToArray();

    /// <summary>The token stream the chunks cut: chunk c's inputs are Tokens[c·T, c·T + T), its targets one further.</summary>
    public int[] Tokens { get; }
    /// <summary>Top-k ids per position, (chunks·T, k).</summary>
    public int[] Ids { get; }
    /// <summary>Their log-probabilities at <see cref="Temperature"/>, (chunks·T, k).</summary>
    public float[] LogProbs { get; }
    public int Vocabulary { get; }
    public int TopK { get; }
    public float Temperature { get; }
    public int ChunkLength { get; }
    public int Chunks { get; }
    /// <summary>Seconds the teacher pass took (wall, and this process's CPU) when the cache was built.</summary>
    public double BuildSeconds { get; init; }
    public double BuildCpuSeconds { get; init; }

    private TeacherCache(int[] tokens, int[] ids, float[] logProbs, int vocab, int k, float temperature, int chunkLength)
    {
        Tokens = tokens; Ids = ids; LogProbs = logProbs; Vocabulary = vocab; TopK = k; Temperature = temperature; ChunkLength = chunkLength;
        Chunks = (tokens.Length - 1) / chunkLength;
    }

    /// <summary>SHA-256 of a token stream, lower-case hex (what the manifest records).</summary>
    public static string Fingerprint(ReadOnlySpan<int> tokens) =>
        Convert.ToHexString(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tokens))).ToLowerInvariant();

    /// <summary>
    /// Runs <paramref name="teacher"/> (frozen) over the aligned chunks of <paramref name="tokens"/>, <paramref name="batch"/>
    /// chunks per forward, keeping the top <paramref name="k"/> of each position at <paramref name="temperature"/>.
    /// </summary>
    public static TeacherCache Build(ICausalLanguageModel teacher, int[] tokens, int chunkLength, int k, float temperature, int batch = 16,
        Action<int, int>? progress = null, CancellationToken cancellationToken = default)
    {
        int V = teacher.VocabularySize;
        if (k < 1 || k > V) throw new ArgumentException($"distill.top_k is {k}; it must be in [1, {V}] (the teacher's vocab_size). 8 to 32 is usual.");
        if (chunkLength > teacher.ContextLength) throw new ArgumentException($"train.max_length {chunkLength} exceeds the teacher's context ({teacher.ContextLength}); lower train.max_length.");
        int chunks = (tokens.Length - 1) / chunkLength;
        if (chunks < 1) throw new ArgumentException($"The training text has {tokens.Length} tokens; a cached chunk needs train.max_length + 1 = {chunkLength + 1}.");
        long positions = (long)chunks * chunkLength;
        if (positions * k > Array.MaxLength) throw new ArgumentException($"{positions:N0} positions × top_k {k} is too large a cache for one array; lower distill.top_k or use less text.");
        var stream = tokens[..(chunks * chunkLength + 1)];
        var ids = new int[positions * k];
        var logProbs = new float[positions * k];
        var wall = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var input = new int[batch * chunkLength];
        for (int c0 = 0; c0 < chunks; c0 += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int B = Math.Min(batch, chunks - c0);
            for (int b = 0; b < B; b++) stream.AsSpan((c0 + b) * chunkLength, chunkLength).CopyTo(input.AsSpan(b * chunkLength));
            teacher.Forward(input.AsSpan(0, B * chunkLength), default, B, chunkLength);
            var logits = teacher.Logits;
            long first = (long)c0 * chunkLength;
            // The top-k selection is one pass over V per position, small next to the teacher's forward.
            for (int row = 0; row < B * chunkLength; row++)
                SparseDistillationLoss.TopK(logits.Slice(row * V, V), temperature, ids.AsSpan((int)((first + row) * k), k), logProbs.AsSpan((int)((first + row) * k), k));
            progress?.Invoke(Math.Min(chunks, c0 + B), chunks);
        }
        return new TeacherCache(stream, ids, logProbs, V, k, temperature, chunkLength)
        {
            BuildSeconds = wall.Elapsed.TotalSeconds,
            BuildCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds,
        };
    }

    /// <summary>Writes the manifest and the binary file into <paramref name="directory"/> (each crash-safe).</summary>
    public void Save(string directory, string teacherDirectory, object teacherConfig)
    {
        Directory.CreateDirectory(directory);
        DurableFile.Write(Path.Combine(directory, "teacher_cache.bin"), s =>
        {
            using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            foreach (int t in Tokens) w.Write(t);
            foreach (int i in Ids) w.Write(i);
            foreach (float p in LogProbs) w.Write(p);
        });
        var manifest = new JsonObject
        {
            ["format"] = Format, ["vocab_size"] = Vocabulary, ["top_k"] = TopK, ["temperature"] = Temperature, ["chunk_length"] = ChunkLength,
            ["chunks"] = Chunks, ["tokens"] = Tokens.Length, ["tokens_sha256"] = Fingerprint(Tokens), ["teacher"] = Path.GetFullPath(teacherDirectory),
            ["teacher_config"] = JsonSerializer.SerializeToNode(teacherConfig, teacherConfig.GetType()),
            ["build_seconds"] = Math.Round(BuildSeconds, 2), ["build_cpu_seconds"] = Math.Round(BuildCpuSeconds, 2),
        };
        DurableFile.WriteAllText(Path.Combine(directory, "teacher_cache.json"), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>True when <paramref name="directory"/> holds a cache manifest.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, "teacher_cache.json"));

    /// <summary>
    /// Opens a cache, checking it was made for these <paramref name="tokens"/>, chunk length, k and temperature
    /// (each mismatch names the setting and the fix: another directory, or delete it to rebuild).
    /// </summary>
    public static TeacherCache Open(string directory, int[] tokens, int chunkLength, int k, float temperature)
    {
        string manifestPath = Path.Combine(directory, "teacher_cache.json"), binPath = Path.Combine(directory, "teacher_cache.bin");
        var m = JsonNode.Parse(File.ReadAllText(manifestPath)) as JsonObject ?? throw new InvalidDataException($"{manifestPath} is not a JSON object; delete {directory} to rebuild the cache.");
        string Fix(string what) => $"{manifestPath}: the cache was made {what}; delete {directory} to rebuild it (or give distill.teacher_cache another directory).";
        if ((string?)m["format"] != Format) throw new InvalidDataException(Fix($"in format {(string?)m["format"] ?? "(none)"}, not {Format}"));
        if ((int?)m["chunk_length"] != chunkLength) throw new InvalidDataException(Fix($"with chunks of {(int?)m["chunk_length"]} tokens but train.max_length is {chunkLength}"));
        if ((int?)m["top_k"] != k) throw new InvalidDataException(Fix($"with top_k {(int?)m["top_k"]} but distill.top_k is {k}"));
        if ((float?)m["temperature"] != temperature) throw new InvalidDataException(Fix($"at temperature {(float?)m["temperature"]} but distill.temperature is {temperature}"));
        int vocab = (int?)m["vocab_size"] ?? throw new InvalidDataException(Fix("without vocab_size"));
        int chunks = (tokens.Length - 1) / chunkLength;
        var stream = tokens[..(chunks * chunkLength + 1)];
        if ((string?)m["tokens_sha256"] != Fingerprint(stream)) throw new InvalidDataException(Fix("for another training text (its tokens' SHA-256 differs from data.train's)"));
        long positions = (long)chunks * chunkLength;
        long want = Magic.Length + 4L * stream.Length + 8L * positions * k;
        long have = new FileInfo(binPath).Length;
        if (have != want) throw new InvalidDataException($"{binPath} has {have:N0} bytes; {chunks:N0} chunks of {chunkLength} with top_k {k} need {want:N0}. Delete {directory} to rebuild the cache.");
        var ids = new int[positions * k];
        var logProbs = new float[positions * k];
        using (var f = File.OpenRead(binPath))
        {
            Span<byte> magic = stackalloc byte[8];
            f.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic)) throw new InvalidDataException($"{binPath} does not start with LOOMKDC1 (offset 0); delete {directory} to rebuild the cache.");
            var check = new int[stream.Length];
            f.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(check.AsSpan()));
            if (!check.AsSpan().SequenceEqual(stream)) throw new InvalidDataException($"{binPath}: the stored tokens (offset 8) are not data.train's; delete {directory} to rebuild the cache.");
            f.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
            f.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(logProbs.AsSpan()));
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The teacher cache is little-endian.");
        return new TeacherCache(stream, ids, logProbs, vocab, k, temperature, chunkLength)
        {
            BuildSeconds = (double?)m["build_seconds"] ?? 0, BuildCpuSeconds = (double?)m["build_cpu_seconds"] ?? 0,
        };
    }
}
