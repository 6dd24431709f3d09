// The curation run, in two phases as datatrove runs it:
//
//  map    (per shard, in parallel): read the shard's documents (record index mod n), run the map
//         stages, write survivors to spool.jsonl, removals to removed.jsonl, quarantined lines to
//         quarantine.jsonl, and one fixed-size record per survivor to signatures.bin (index, exact
//         hash, MinHash signature). A shard is written into "shard-i.tmp" and renamed when complete,
//         so a crashed run restarted with the same command skips finished shards and redoes the rest.
//  merge  (once): exact duplicates by sorting (hash, index); near duplicates by LSH — for each band,
//         sort (band key, index), confirm candidates on the full signatures, union-find — then one
//         ordered pass over the spools writes kept/removed and the report. The oldest document
//         (lowest index) of each cluster survives.
//
// Memory: the map phase holds one document per worker. The merge holds 24 bytes per document for
// the exact pass, then 16 (one band's keys) + 8 (union-find) per document; the signatures
// (24 + 4·B·R bytes per document) stay in the shard files and are memory-mapped, so the OS pages
// them to disk beyond physical memory.
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Data.Dedup;
using Loom.Data.Documents;
using Loom.Data.Readers;
using Loom.Data.Reporting;
using Loom.Data.Stages;
using Loom.Data.Writers;

namespace Loom.Data.Pipeline;

/// <summary>Which slice of the input a run maps.</summary>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>Parses "i/n" (0-based i).</summary>
    public static ShardSpec Parse(string s)
    {
        var parts = s.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
            throw new FormatException($"--shard expects i/n with 0 ≤ i < n (e.g. 0/4); got \"{s}\".");
        return new ShardSpec(i, n);
    }
}

/// <summary>Progress of a run.</summary>
public readonly record struct CurationProgress(string Phase, long Documents, long Bytes);

/// <summary>Runs curation.</summary>
public static class Curator
{
    private const string PlanFile = "plan.json";

    /// <summary>Maps the shards not yet done (all of them, or only <paramref name="only"/>), then merges unless a single shard was asked for.</summary>
    public static CurationReport? Run(CurationConfig config, ShardSpec? only = null, int? threads = null, IProgress<CurationProgress>? progress = null, CancellationToken ct = default)
    {
        if (config.Input.Count == 0) throw new ArgumentException("No input: give files, folders or globs (--input).");
        var files = CorpusReader.ExpandInputs(config.Input);
        var stages = config.BuildStages();           // fail on a bad pipeline before reading anything
        int workers = Math.Max(1, threads ?? Environment.ProcessorCount);
        int shardCount = only?.Count ?? workers;
        string shardsDir = Path.Combine(config.Output, "shards");
        Directory.CreateDirectory(shardsDir);
        var plan = new JsonObject
        {
            ["shards"] = shardCount,
            ["files"] = new JsonArray(files.Select(f => (JsonNode)f).ToArray()),
            ["config"] = JsonSerializer.SerializeToNode(config with { Output = "" }, CurationConfig.Json),
        };
        string planPath = Path.Combine(shardsDir, PlanFile);
        if (File.Exists(planPath))
        {
            var existing = JsonNode.Parse(File.ReadAllText(planPath));
            if (!JsonNode.DeepEquals(existing, plan))
                throw new InvalidOperationException($"{config.Output} already holds a run with other inputs, settings or shard count ({planPath}); use a new --output or delete it.");
        }
        else File.WriteAllText(planPath, plan.ToJsonString(CurationConfig.Json));

        var clock = Stopwatch.StartNew();
        var todo = (only is { } s ? [s.Index] : Enumerable.Range(0, shardCount)).Where(i => !Directory.Exists(ShardDir(shardsDir, i, shardCount))).ToList();
        long docs = 0, bytes = 0;
        var hasher = new MinHasher(config.Dedup.Minhash);
        Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct }, i =>
        {
            MapShard(config, files, stages, hasher, new ShardSpec(i, shardCount), shardsDir, (d, b) =>
            {
                progress?.Report(new CurationProgress("map", Interlocked.Add(ref docs, d), Interlocked.Add(ref bytes, b)));
            }, ct);
        });
        if (only != null) return null;
        return Merge(config.Output, progress, clock.Elapsed.TotalSeconds);
    }

    private static string ShardDir(string shardsDir, int i, int n) => Path.Combine(shardsDir, $"shard-{i:D5}-of-{n:D5}");

    private static void MapShard(CurationConfig config, IReadOnlyList<string> files, IReadOnlyList<IDocumentStage> stages, MinHasher hasher, ShardSpec shard,
        string shardsDir, Action<long, long> report, CancellationToken ct)
    {
        string final = ShardDir(shardsDir, shard.Index, shard.Count), tmp = final + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        var stats = new ShardStatistics();
        var read = new ReadStatistics();
        string field = config.Reader.Field;
        int hashes = config.Dedup.Minhash.Hashes;
        using (var spool = new JsonlWriter(Path.Combine(tmp, "spool.jsonl")))
        using (var removed = new JsonlWriter(Path.Combine(tmp, "removed.jsonl")))
        using (var quarantine = new JsonlWriter(Path.Combine(tmp, "quarantine.jsonl")))
        using (var signatures = new BinaryWriter(new FileStream(Path.Combine(tmp, "signatures.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16)))
        {
            var words = new List<ulong>();
            var signature = new uint[hashes];
            var canonical = new System.Text.StringBuilder();
            long pendingDocs = 0, pendingBytes = 0;
            foreach (var doc in CorpusReader.Read(files, config.Reader, read, q =>
                     {
                         stats.Quarantined++;
                         quarantine.WriteRaw(new JsonObject { ["source"] = q.Source, ["line"] = q.Line, ["reason"] = q.Reason, ["raw"] = q.Raw });
                     }, i => i % shard.Count == shard.Index))
            {
                ct.ThrowIfCancellationRequested();
                stats.Read++;
                stats.CharactersIn += doc.Text.Length;
                stats.LengthsIn.Add(doc.Text.Length);
                pendingDocs++;
                pendingBytes += doc.Text.Length;
                if (pendingDocs == 256) { report(pendingDocs, pendingBytes); pendingDocs = pendingBytes = 0; }
                Verdict verdict = Verdict.Keep;
                string? stage = null;
                foreach (var s in stages)
                {
                    verdict = s.Process(doc);
                    if (s is PiiRedactor) foreach (var m in PiiRedactor.LastMatches) stats.Redactions[m.Type] = stats.Redactions.GetValueOrDefault(m.Type) + 1;
                    if (verdict.Removed) { stage = s.Name; break; }
                }
                if (verdict.Removed)
                {
                    stats.Remove(stage!, verdict.Reason!);
                    removed.Write(doc, field, w => WriteRemoval(w, doc, stage!, verdict.Reason!, verdict.Detail, null));
                    continue;
                }
                canonical.Clear();
                MinHasher.NormalizedWords(doc.Text, words, canonical);   // one pass feeds both the exact and the MinHash signature
                bool hasSignature = hasher.Signature(words, signature);
                if (!hasSignature) Array.Fill(signature, uint.MaxValue);
                var content = MinHasher.ContentHash(canonical);
                signatures.Write(doc.Index);
                signatures.Write((ulong)(content >> 64));
                signatures.Write((ulong)content);
                foreach (uint v in signature) signatures.Write(v);
                spool.Write(doc, field, w => { w.WriteNumber("_index", doc.Index); w.WriteString("_source", doc.Source); w.WriteNumber("_line", doc.Line); });
                stats.Survived++;
            }
            report(pendingDocs, pendingBytes);
            spool.Complete();
            removed.Complete();
            quarantine.Complete();
            signatures.Flush();
            ((FileStream)signatures.BaseStream).Flush(flushToDisk: true);
        }
        // Every shard decodes every byte (it skips other shards' records only after splitting them), so
        // shard 0's count is the corpus's count.
        stats.InvalidUtf8 = shard.Index == 0 ? read.InvalidUtf8Sequences : 0;
        File.WriteAllText(Path.Combine(tmp, "stats.json"), JsonSerializer.Serialize(stats, CurationConfig.Json));
        Directory.Move(tmp, final);
    }

    internal static void WriteRemoval(Utf8JsonWriter w, Document doc, string stage, string reason, string? detail, string? duplicateOf)
    {
        w.WriteString("_stage", stage);
        w.WriteString("_reason", reason);
        if (detail != null) w.WriteString("_detail", detail);
        if (duplicateOf != null) w.WriteString("_duplicate_of", duplicateOf);
        w.WriteString("_source", doc.Source);
        w.WriteNumber("_line", doc.Line);
    }

    /// <summary>Joins finished shards: de-duplicates and writes kept/removed/report.</summary>
    public static CurationReport Merge(string output, IProgress<CurationProgress>? progress = null, double mapSeconds = 0)
    {
        var clock = Stopwatch.StartNew();
        string shardsDir = Path.Combine(output, "shards");
        string planPath = Path.Combine(shardsDir, PlanFile);
        if (!File.Exists(planPath)) throw new FileNotFoundException($"{output} holds no curation run ({planPath} is missing); run `loom data curate` with --shard first.", planPath);
        var plan = JsonNode.Parse(File.ReadAllText(planPath))!;
        int n = plan["shards"]!.GetValue<int>();
        var config = plan["config"]!.Deserialize<CurationConfig>(CurationConfig.Json)!;
        var missing = Enumerable.Range(0, n).Where(i => !Directory.Exists(ShardDir(shardsDir, i, n))).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"Shards {string.Join(", ", missing.Select(i => $"{i}/{n}"))} are not finished; run them (loom data curate --shard i/{n}) before merging.");
        var shards = Enumerable.Range(0, n).Select(i => ShardDir(shardsDir, i, n)).ToList();
        var stats = shards.Select(d => JsonSerializer.Deserialize<ShardStatistics>(File.ReadAllText(Path.Combine(d, "stats.json")), CurationConfig.Json)!).ToList();
        var total = ShardStatistics.Sum(stats);

        int hashes = config.Dedup.Minhash.Hashes;
        int recordBytes = 24 + 4 * hashes;
        var maps = new List<(MemoryMappedFile File, MemoryMappedViewAccessor View, long Count)>();
        try
        {
            foreach (var d in shards)
            {
                string path = Path.Combine(d, "signatures.bin");
                long length = new FileInfo(path).Length;
                if (length % recordBytes != 0) throw new InvalidDataException($"{path}: {length} bytes is not a whole number of {recordBytes}-byte records; the shard is damaged, delete its folder and run it again.");
                if (length == 0) { maps.Add((null!, null!, 0)); continue; }
                var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                maps.Add((mmf, mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read), length / recordBytes));
            }
            // Every survivor of the map stages, as (shard, record) ordered by document index.
            long count = maps.Sum(m => m.Count);
            if (count > int.MaxValue) throw new NotSupportedException($"{count} documents exceed one merge's limit of {int.MaxValue}; merge in groups.");
            var refs = new (long Index, int Shard, int Record)[count];
            int k = 0;
            for (int s = 0; s < maps.Count; s++)
                for (int r = 0; r < maps[s].Count; r++) refs[k++] = (maps[s].View.ReadInt64((long)r * recordBytes), s, r);
            Array.Sort(refs, (a, b) => a.Index.CompareTo(b.Index));
            long Offset(int doc) => (long)refs[doc].Record * recordBytes;
            MemoryMappedViewAccessor View(int doc) => maps[refs[doc].Shard].View;

            // Exact duplicates: sort (hash, position); all but the first of equal hashes go.
            var duplicateOf = new int[count];
            Array.Fill(duplicateOf, -1);
            var reason = new byte[count];     // 0 kept, 1 exact, 2 near
            if (config.Dedup.Exact)
            {
                var keys = new (UInt128 Hash, int Doc)[count];
                for (int d = 0; d < count; d++)
                {
                    var v = View(d);
                    keys[d] = (new UInt128(v.ReadUInt64(Offset(d) + 8), v.ReadUInt64(Offset(d) + 16)), d);
                }
                Array.Sort(keys, (a, b) => a.Hash != b.Hash ? a.Hash.CompareTo(b.Hash) : a.Doc.CompareTo(b.Doc));
                for (int i = 1; i < keys.Length; i++)
                    if (keys[i].Hash == keys[i - 1].Hash)
                    {
                        int first = duplicateOf[keys[i - 1].Doc] >= 0 ? duplicateOf[keys[i - 1].Doc] : keys[i - 1].Doc;
                        duplicateOf[keys[i].Doc] = first;
                        reason[keys[i].Doc] = 1;
                    }
            }
            var clusterSizes = new Dictionary<int, int>();
            if (config.Dedup.Near)
            {
                var hasher = new MinHasher(config.Dedup.Minhash);
                var parent = new int[count];
                for (int i = 0; i < count; i++) parent[i] = i;
                int Find(int x) { while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; }
                void Union(int a, int b) { a = Find(a); b = Find(b); if (a == b) return; if (a < b) parent[b] = a; else parent[a] = b; }  // the lower index roots
                var sigA = new uint[hashes];
                var sigB = new uint[hashes];
                void Read(int doc, uint[] into) => View(doc).ReadArray(Offset(doc) + 24, into, 0, hashes);
                var band = new (ulong Key, int Doc)[count];
                for (int b = 0; b < config.Dedup.Minhash.Bands; b++)
                {
                    int m = 0;
                    for (int d = 0; d < count; d++)
                    {
                        if (reason[d] != 0) continue;
                        Read(d, sigA);
                        if (sigA[0] == uint.MaxValue && sigA.All(x => x == uint.MaxValue)) continue;   // no words
                        band[m++] = (hasher.BandKey(sigA, b), d);
                    }
                    Array.Sort(band, 0, m, Comparer<(ulong Key, int Doc)>.Create((x, y) => x.Key != y.Key ? x.Key.CompareTo(y.Key) : x.Doc.CompareTo(y.Doc)));
                    for (int i = 0; i < m;)
                    {
                        int j = i + 1;
                        while (j < m && band[j].Key == band[i].Key) j++;
                        if (j - i > 1)
                        {
                            Read(band[i].Doc, sigA);
                            for (int t = i + 1; t < j; t++)
                            {
                                if (Find(band[t].Doc) == Find(band[i].Doc)) continue;
                                Read(band[t].Doc, sigB);
                                if (MinHasher.EstimatedJaccard(sigA, sigB) >= config.Dedup.Minhash.Threshold) Union(band[i].Doc, band[t].Doc);
                            }
                        }
                        i = j;
                    }
                    progress?.Report(new CurationProgress($"dedup band {b + 1}/{config.Dedup.Minhash.Bands}", count, 0));
                }
                var sizes = new Dictionary<int, int>();
                for (int d = 0; d < count; d++)
                {
                    if (reason[d] != 0) continue;
                    int root = Find(d);
                    sizes[root] = sizes.GetValueOrDefault(root) + 1;
                    if (root != d) { duplicateOf[d] = root; reason[d] = 2; }
                }
                foreach (var size in sizes.Values) if (size > 1) clusterSizes[size] = clusterSizes.GetValueOrDefault(size) + 1;
            }

            // One ordered pass over the spools (a k-way merge by index) writes the outputs.
            string ext = config.Gzip ? ".jsonl.gz" : ".jsonl";
            var lengthsOut = new Histogram();
            long kept = 0, exact = 0, near = 0, charsOut = 0;
            string field = config.Reader.Field;
            using (var keptWriter = new JsonlWriter(Path.Combine(output, "kept" + ext)))
            using (var removedWriter = new JsonlWriter(Path.Combine(output, "removed" + ext)))
            {
                foreach (var d in shards)
                    using (var r = new StreamReader(Path.Combine(d, "removed.jsonl")))
                        for (string? line; (line = r.ReadLine()) != null;) removedWriter.WriteRaw(JsonNode.Parse(line)!.AsObject());
                var readers = shards.Select(d => new StreamReader(Path.Combine(d, "spool.jsonl"))).ToList();
                try
                {
                    var heads = readers.Select(ReadSpool).ToList();
                    var idOf = new Dictionary<int, string>();      // survivors that others duplicate
                    var wanted = new HashSet<int>(duplicateOf.Where(x => x >= 0));
                    for (int doc = 0; doc < count; doc++)
                    {
                        int s = refs[doc].Shard;
                        var rec = heads[s] ?? throw new InvalidDataException($"{shards[s]}: spool.jsonl ends before signatures.bin does; delete the shard folder and run it again.");
                        heads[s] = ReadSpool(readers[s]);
                        if (rec["_index"]!.GetValue<long>() != refs[doc].Index) throw new InvalidDataException($"{shards[s]}: spool.jsonl and signatures.bin disagree; delete the shard folder and run it again.");
                        string id = rec["id"]!.GetValue<string>();
                        if (wanted.Contains(doc)) idOf[doc] = id;
                        if (reason[doc] == 0)
                        {
                            rec.Remove("_index"); rec.Remove("_source"); rec.Remove("_line");
                            keptWriter.WriteRaw(rec);
                            kept++;
                            int len = rec[field]?.GetValue<string>().Length ?? 0;
                            lengthsOut.Add(len);
                            charsOut += len;
                        }
                        else
                        {
                            string stage = reason[doc] == 1 ? "exact_dedup" : "near_dedup";
                            if (reason[doc] == 1) exact++; else near++;
                            rec.Remove("_index");
                            var source = rec["_source"]; var line = rec["_line"];
                            rec.Remove("_source"); rec.Remove("_line");
                            rec["_stage"] = stage;
                            rec["_reason"] = reason[doc] == 1 ? "exact_duplicate" : "near_duplicate";
                            rec["_duplicate_of"] = idOf.GetValueOrDefault(duplicateOf[doc], $"#{refs[duplicateOf[doc]].Index}");
                            rec["_source"] = source?.DeepClone(); rec["_line"] = line?.DeepClone();
                            removedWriter.WriteRaw(rec);
                        }
                    }
                }
                finally
                {
                    foreach (var r in readers) r.Dispose();
                }
                keptWriter.Complete();
                removedWriter.Complete();
            }
            total.Remove("exact_dedup", "exact_duplicate", exact);
            total.Remove("near_dedup", "near_duplicate", near);
            var quarantined = shards.SelectMany(d => File.ReadLines(Path.Combine(d, "quarantine.jsonl"))).ToList();
            File.WriteAllLines(Path.Combine(output, "quarantine.jsonl"), quarantined);
            var report = new CurationReport
            {
                Documents = total.Read, Kept = kept, CharactersIn = total.CharactersIn, CharactersOut = charsOut,
                RemovedByStage = total.RemovedByStage, RemovedByReason = total.RemovedByReason, Redactions = total.Redactions,
                Quarantined = total.Quarantined, InvalidUtf8 = total.InvalidUtf8, LengthsBefore = total.LengthsIn, LengthsAfter = lengthsOut,
                DuplicateClusterSizes = clusterSizes.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
                Shards = n, IndexBytesPerDocument = 24 + 16 + 8, SignatureBytesPerDocument = recordBytes,
                MapSeconds = mapSeconds, MergeSeconds = clock.Elapsed.TotalSeconds,
                Stages = [.. (config.Stages is null ? CurationConfig.DefaultStages : config.BuildStages().Select(s => s.Name)), .. config.Dedup.Exact ? new[] { "exact_dedup" } : [], .. config.Dedup.Near ? new[] { "near_dedup" } : []],
            };
            report.Write(output);
            return report;
        }
        finally
        {
            foreach (var m in maps) { m.View?.Dispose(); m.File?.Dispose(); }
        }
    }

    private static JsonObject? ReadSpool(StreamReader r)
    {
        string? line = r.ReadLine();
        return line is null ? null : JsonNode.Parse(line)!.AsObject();
    }
}
