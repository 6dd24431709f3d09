// The curation run, in two phases as datatrove runs it:
//
//  map    (per shard, in parallel): read the shard's documents (record index mod n; the others are
//         stepped over as bytes, never decoded), run the map stages, write survivors to spool.jsonl
//         exactly as they will appear in kept.jsonl, removals to removed.jsonl, quarantined lines
//         to quarantine.jsonl, and one fixed-size record per survivor to signatures.bin (index,
//         exact hash, where its spool line lies, source and line, text length, MinHash signature). A shard is
//         written into "shard-….tmp" and renamed when complete, so a crashed run restarted with the
//         same command skips finished shards and redoes the rest.
//  merge  (once): exact duplicates by sorting (hash, document); near duplicates by LSH — for each
//         band, sort (band key, document), confirm candidates on the full signatures, union-find —
//         then one ordered pass over the spools copies kept lines and writes removed ones. The
//         oldest document (lowest index) of each cluster survives.
//
// Memory: the map phase holds one document per worker. The merge keeps 25 bytes per document in
// memory (where its signature lies, 16; union-find parent, 4; duplicate-of, 4; verdict, 1) and
// sorts 24 (exact) or 16 (one band) bytes per document; those sorts spill to sorted run files
// beyond dedup.max_sort_megabytes. The signatures themselves (52 + 4·B·R bytes per document) stay
// in the shard files and are memory-mapped, so the OS pages them.
using Loom.Core.IO;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Data.Dedup;
using Loom.Data.Documents;
using Loom.Data.Readers;
using Loom.Data.Reporting;
using Loom.Data.Stages;
using Loom.Data.Text;
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
        var selection = CorpusReader.SelectInputs(config.Input);
        var files = selection.Files;
        var stages = config.BuildStages();           // fail on a bad pipeline before reading anything
        if (threads is < 1 or > 256) throw new ArgumentException($"--threads must be from 1 to 256; got {threads}.");
        int workers = threads ?? Environment.ProcessorCount;
        int shardCount = only?.Count ?? workers;
        string shardsDir = Path.Combine(config.Output, "shards");
        Directory.CreateDirectory(shardsDir);
        string planPath = Path.Combine(shardsDir, PlanFile);
        var existing = File.Exists(planPath) ? JsonNode.Parse(File.ReadAllText(planPath)) : null;
        var previous = (existing?["inputs"]?.Deserialize<List<InputFingerprint>>(CurationConfig.Json) ?? []).ToDictionary(f => f.Path, StringComparer.Ordinal);
        var fingerprints = new InputFingerprint[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct },
            i => fingerprints[i] = InputFingerprint.Of(files[i], previous.GetValueOrDefault(files[i])));
        var configNode = JsonSerializer.SerializeToNode(config with { Output = "" }, CurationConfig.Json);
        var plan = new JsonObject
        {
            ["shards"] = shardCount,
            ["files"] = new JsonArray(files.Select(f => (JsonNode)f).ToArray()),
            ["inputs"] = JsonSerializer.SerializeToNode(fingerprints, CurationConfig.Json),
            ["skipped"] = JsonSerializer.SerializeToNode(selection.Skipped, CurationConfig.Json),
            ["config"] = configNode,
        };
        List<string>? changed = null;
        if (existing != null)
        {
            if (existing["shards"]?.GetValue<int>() != shardCount || !JsonNode.DeepEquals(existing["config"], configNode))
                throw new InvalidOperationException($"{config.Output} already holds a run with other settings or shard count ({planPath}); use a new --output or delete it.");
            // Inputs that changed since the shards were mapped (content, or the set of files) make every
            // shard stale: each shard reads every file (records are dealt out by index), so all are redone.
            var oldFiles = existing["files"]?.AsArray().Select(f => f!.GetValue<string>()).ToList() ?? [];
            changed = [.. files.Where((f, i) => !previous.TryGetValue(f, out var p) || !p.SameContent(fingerprints[i])), .. oldFiles.Except(files, StringComparer.Ordinal)];
            if (changed.Count > 0 || !oldFiles.SequenceEqual(files, StringComparer.Ordinal))
            {
                // Shards first, then the plan: a crash in between leaves the old plan, which the next run finds stale again.
                foreach (var dir in Directory.EnumerateDirectories(shardsDir)) Directory.Delete(dir, recursive: true);
                DurableFile.WriteAllText(planPath, plan.ToJsonString(CurationConfig.Json));
            }
            else if (!JsonNode.DeepEquals(existing, plan)) DurableFile.WriteAllText(planPath, plan.ToJsonString(CurationConfig.Json));   // new times, same content
            if (changed.Count == 0) changed = null;
        }
        else DurableFile.WriteAllText(planPath, plan.ToJsonString(CurationConfig.Json));

        var clock = Stopwatch.StartNew();
        var todo = (only is { } s ? [s.Index] : Enumerable.Range(0, shardCount)).Where(i => !Directory.Exists(ShardDir(shardsDir, i, shardCount))).ToList();
        long docs = 0, bytes = 0;
        var hasher = new MinHasher(config.Dedup.Minhash);
        try
        {
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct }, i =>
            {
                MapShard(config, files, stages, hasher, new ShardSpec(i, shardCount), shardsDir, (d, b) =>
                {
                    progress?.Report(new CurationProgress("map", Interlocked.Add(ref docs, d), Interlocked.Add(ref bytes, b)));
                }, ct);
            });
        }
        catch (AggregateException e)
        {
            // Every shard reads every file, so a bad input fails each of them with the same error: report it once.
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        if (only != null) return null;
        return Merge(config.Output, progress, clock.Elapsed.TotalSeconds, changed);
    }

    private static string ShardDir(string shardsDir, int i, int n) => Path.Combine(shardsDir, $"shard-{i:D5}-of-{n:D5}");

    // The fixed part of a signatures.bin record; the B·R MinHash values follow it.
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct SignatureHeader
    {
        public long Index;
        public ulong HashHigh, HashLow;
        public long SpoolOffset;
        public int SpoolLength;
        public int Source;
        public long Line;
        public int TextLength;      // characters of the final text, for the report's length histogram
    }

    private static readonly int HeaderBytes = Unsafe.SizeOf<SignatureHeader>();

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
        using (var signatures = new FileStream(Path.Combine(tmp, "signatures.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var record = new byte[HeaderBytes + 4 * hashes];
            var signature = MemoryMarshal.Cast<byte, uint>(record.AsSpan(HeaderBytes));
            char[] canonical = new char[4096];
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
                // One analysis of the final text feeds both the exact and the MinHash signature.
                var analysis = TextAnalysis.Of(doc.Text);
                if (!hasher.Signature(analysis.Normalized, signature)) signature.Fill(uint.MaxValue);
                int canonicalLength = analysis.Canonical(ref canonical);
                var content = MinHasher.ContentHash(canonical.AsSpan(0, canonicalLength));
                long offset = spool.Position;
                spool.Write(doc, field);
                var header = new SignatureHeader
                {
                    Index = doc.Index, HashHigh = (ulong)(content >> 64), HashLow = (ulong)content,
                    SpoolOffset = offset, SpoolLength = checked((int)(spool.Position - offset - 1)), Source = doc.SourceIndex, Line = doc.Line,
                    TextLength = doc.Text.Length,
                };
                MemoryMarshal.Write(record, in header);
                signatures.Write(record);
                stats.Survived++;
            }
            report(pendingDocs, pendingBytes);
            spool.Complete();
            removed.Complete();
            quarantine.Complete();
            signatures.Flush(flushToDisk: true);
        }
        stats.InvalidUtf8 = read.InvalidUtf8Sequences;
        stats.LoneSurrogates = read.LoneSurrogates;     // of this shard's records only: the shards' counts add up
        DurableFile.WriteAllText(Path.Combine(tmp, "stats.json"), JsonSerializer.Serialize(stats, CurationConfig.Json));
        DurableFile.MoveDirectory(tmp, final);
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

    // A document's place: which shard's signatures.bin, which record.
    private readonly record struct DocumentRef(long Index, int Shard, int Record);

    private readonly record struct ExactKey(ulong High, ulong Low, int Doc);

    private readonly record struct BandKey(ulong Key, int Doc);

    /// <summary>Joins finished shards: de-duplicates and writes kept/removed/report.</summary>
    public static CurationReport Merge(string output, IProgress<CurationProgress>? progress = null, double mapSeconds = 0) => Merge(output, progress, mapSeconds, null);

    private static unsafe CurationReport Merge(string output, IProgress<CurationProgress>? progress, double mapSeconds, List<string>? changedInputs)
    {
        var clock = Stopwatch.StartNew();
        string shardsDir = Path.Combine(output, "shards");
        string planPath = Path.Combine(shardsDir, PlanFile);
        if (!File.Exists(planPath)) throw new FileNotFoundException($"{output} holds no curation run ({planPath} is missing); run `loom data curate` with --shard first.", planPath);
        var plan = JsonNode.Parse(File.ReadAllText(planPath))!;
        int n = plan["shards"]!.GetValue<int>();
        var inputFiles = plan["files"]!.AsArray().Select(f => f!.GetValue<string>()).ToList();
        var config = plan["config"]!.Deserialize<CurationConfig>(CurationConfig.Json)!;
        var skipped = plan["skipped"]?.Deserialize<List<SkippedInput>>(CurationConfig.Json) ?? [];
        var missing = Enumerable.Range(0, n).Where(i => !Directory.Exists(ShardDir(shardsDir, i, n))).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"Shards {string.Join(", ", missing.Select(i => $"{i}/{n}"))} are not finished; run them (loom data curate --shard i/{n}) before merging.");
        var shards = Enumerable.Range(0, n).Select(i => ShardDir(shardsDir, i, n)).ToList();
        var stats = shards.Select(d => JsonSerializer.Deserialize<ShardStatistics>(File.ReadAllText(Path.Combine(d, "stats.json")), CurationConfig.Json)!).ToList();
        var total = ShardStatistics.Sum(stats);
        string sortDir = Path.Combine(shardsDir, "sort.tmp");
        if (Directory.Exists(sortDir)) Directory.Delete(sortDir, recursive: true);      // runs left by a merge that crashed
        long sortBytes = (long)(config.Dedup.MaxSortMegabytes * 1024 * 1024);

        int hashes = config.Dedup.Minhash.Hashes;
        int recordBytes = HeaderBytes + 4 * hashes;
        var maps = new List<(MemoryMappedFile? File, MemoryMappedViewAccessor? View, long Count)>();
        var bases = new byte*[n];
        try
        {
            for (int s = 0; s < n; s++)
            {
                string path = Path.Combine(shards[s], "signatures.bin");
                long length = new FileInfo(path).Length;
                if (length % recordBytes != 0) throw new InvalidDataException($"{path}: {length} bytes is not a whole number of {recordBytes}-byte records; the shard is damaged, delete its folder and run it again.");
                if (length == 0) { maps.Add((null, null, 0)); continue; }
                var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                var view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* p = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
                bases[s] = p + view.PointerOffset;
                maps.Add((mmf, view, length / recordBytes));
            }
            // Every survivor of the map stages, as (shard, record) ordered by document index.
            long count = maps.Sum(m => m.Count);
            if (count > int.MaxValue) throw new NotSupportedException($"{count} documents exceed one merge's limit of {int.MaxValue}; merge in groups.");
            var refs = new DocumentRef[count];
            int k = 0;
            for (int s = 0; s < n; s++)
                for (int r = 0; r < maps[s].Count; r++) refs[k++] = new DocumentRef(Header(bases[s] + (long)r * recordBytes).Index, s, r);
            Array.Sort(refs, (a, b) => a.Index.CompareTo(b.Index));
            byte* Record(int doc) => bases[refs[doc].Shard] + (long)refs[doc].Record * recordBytes;
            ref readonly SignatureHeader Header(byte* record) => ref Unsafe.AsRef<SignatureHeader>(record);
            ReadOnlySpan<uint> Signature(int doc) => new(Record(doc) + HeaderBytes, hashes);

            // Exact duplicates: sort (hash, document); all but the first of equal hashes go.
            var duplicateOf = new int[count];
            Array.Fill(duplicateOf, -1);
            var reason = new byte[count];     // 0 kept, 1 exact, 2 near
            int spills = 0;
            if (config.Dedup.Exact)
            {
                using var sorter = new SpillingSorter<ExactKey>(count, sortBytes / Unsafe.SizeOf<ExactKey>(),
                    static (a, b) => a.High != b.High ? a.High.CompareTo(b.High) : a.Low != b.Low ? a.Low.CompareTo(b.Low) : a.Doc.CompareTo(b.Doc), sortDir);
                for (int d = 0; d < count; d++)
                {
                    ref readonly var h = ref Header(Record(d));
                    sorter.Add(new ExactKey(h.HashHigh, h.HashLow, d));
                }
                ExactKey previous = default;
                bool first = true;
                int survivor = -1;
                foreach (var key in sorter.Sorted())
                {
                    if (!first && key.High == previous.High && key.Low == previous.Low)
                    {
                        duplicateOf[key.Doc] = survivor;
                        reason[key.Doc] = 1;
                    }
                    else survivor = key.Doc;
                    previous = key;
                    first = false;
                }
                spills += sorter.Spills;
            }
            var clusterSizes = new Dictionary<int, int>();
            var parent = config.Dedup.Near ? new int[count] : [];
            if (config.Dedup.Near)
            {
                var hasher = new MinHasher(config.Dedup.Minhash);
                for (int i = 0; i < count; i++) parent[i] = i;
                int Find(int x) { while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; }
                void Union(int a, int b) { a = Find(a); b = Find(b); if (a == b) return; if (a < b) parent[b] = a; else parent[a] = b; }  // the lower index roots
                var group = new List<int>();
                void Confirm(List<int> group)
                {
                    // Candidates share a band; each is checked against the group's oldest on the full signature.
                    if (group.Count < 2) return;
                    int anchor = group.Min();
                    var a = Signature(anchor);
                    foreach (int d in group)
                        if (d != anchor && Find(d) != Find(anchor) && MinHasher.EstimatedJaccard(a, Signature(d)) >= config.Dedup.Minhash.Threshold) Union(anchor, d);
                }
                for (int b = 0; b < config.Dedup.Minhash.Bands; b++)
                {
                    using var sorter = new SpillingSorter<BandKey>(count, sortBytes / Unsafe.SizeOf<BandKey>(), static (x, y) => x.Key != y.Key ? x.Key.CompareTo(y.Key) : x.Doc.CompareTo(y.Doc), sortDir);
                    for (int d = 0; d < count; d++)
                    {
                        if (reason[d] != 0) continue;
                        var sig = Signature(d);
                        if (sig[0] == uint.MaxValue && !sig.ContainsAnyExcept(uint.MaxValue)) continue;   // no words
                        sorter.Add(new BandKey(hasher.BandKey(sig, b), d));
                    }
                    group.Clear();
                    ulong current = 0;
                    foreach (var key in sorter.Sorted())
                    {
                        if (group.Count > 0 && key.Key != current) { Confirm(group); group.Clear(); }
                        current = key.Key;
                        group.Add(key.Doc);
                    }
                    Confirm(group);
                    spills += sorter.Spills;
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
            if (Directory.Exists(sortDir)) Directory.Delete(sortDir, recursive: true);

            // One ordered pass over the spools (a k-way merge by index) copies kept lines and writes removed ones.
            string ext = config.Gzip ? ".jsonl.gz" : ".jsonl";
            var lengthsOut = new Histogram();
            long kept = 0, exact = 0, near = 0, charsOut = 0;
            var sources = inputFiles.Select(f => JsonSerializer.SerializeToUtf8Bytes(f)).ToArray();
            using (var keptWriter = new JsonlWriter(Path.Combine(output, "kept" + ext)))
            using (var removedWriter = new JsonlWriter(Path.Combine(output, "removed" + ext)))
            using (var quarantineWriter = new JsonlWriter(Path.Combine(output, "quarantine.jsonl")))
            {
                foreach (var d in shards)
                {
                    using (var r = File.OpenRead(Path.Combine(d, "removed.jsonl"))) removedWriter.CopyFrom(r);
                    using (var q = File.OpenRead(Path.Combine(d, "quarantine.jsonl"))) quarantineWriter.CopyFrom(q);
                }
                var spools = shards.Select(d => new FileStream(Path.Combine(d, "spool.jsonl"), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20)).ToList();
                try
                {
                    var idOf = new Dictionary<int, byte[]>();      // survivors that others duplicate: their id as a JSON string
                    var wanted = new HashSet<int>(duplicateOf.Where(x => x >= 0));
                    var line = new byte[1 << 16];
                    var members = new System.Buffers.ArrayBufferWriter<byte>(256);
                    using var dedupMembers = new Utf8JsonWriter(members, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
                    for (int doc = 0; doc < count; doc++)
                    {
                        ref readonly var h = ref Header(Record(doc));
                        var spool = spools[refs[doc].Shard];
                        if (spool.Position != h.SpoolOffset) throw new InvalidDataException($"{shards[refs[doc].Shard]}: spool.jsonl and signatures.bin disagree; delete the shard folder and run it again.");
                        if (line.Length < h.SpoolLength + 1) line = new byte[Math.Max(2 * line.Length, h.SpoolLength + 1)];
                        spool.ReadExactly(line, 0, h.SpoolLength + 1);
                        var text = line.AsSpan(0, h.SpoolLength);
                        if (wanted.Contains(doc)) idOf[doc] = IdToken(text);
                        if (reason[doc] == 0)
                        {
                            keptWriter.WriteLine(text);
                            kept++;
                            lengthsOut.Add(h.TextLength);
                            charsOut += h.TextLength;
                            continue;
                        }
                        if (reason[doc] == 1) exact++; else near++;
                        members.Clear();
                        dedupMembers.Reset(members);
                        var w = dedupMembers;
                        w.WriteStartObject();
                        w.WriteString("_stage", reason[doc] == 1 ? "exact_dedup" : "near_dedup");
                        w.WriteString("_reason", reason[doc] == 1 ? "exact_duplicate" : "near_duplicate");
                        w.WritePropertyName("_duplicate_of");
                        if (idOf.TryGetValue(duplicateOf[doc], out var id)) w.WriteRawValue(id, skipInputValidation: true);
                        else w.WriteStringValue($"#{refs[duplicateOf[doc]].Index}");
                        w.WritePropertyName("_source");
                        w.WriteRawValue(sources[h.Source], skipInputValidation: true);
                        w.WriteNumber("_line", h.Line);
                        w.WriteEndObject();
                        w.Flush();
                        removedWriter.WriteLine(text, members.WrittenSpan[1..^1]);
                    }
                }
                finally
                {
                    foreach (var r in spools) r.Dispose();
                }
                keptWriter.Complete();
                removedWriter.Complete();
                quarantineWriter.Complete();
            }
            total.Remove("exact_dedup", "exact_duplicate", exact);
            total.Remove("near_dedup", "near_duplicate", near);
            var report = new CurationReport
            {
                Documents = total.Read, Kept = kept, CharactersIn = total.CharactersIn, CharactersOut = charsOut,
                RemovedByStage = total.RemovedByStage, RemovedByReason = total.RemovedByReason, Redactions = total.Redactions,
                Quarantined = total.Quarantined, InvalidUtf8 = total.InvalidUtf8, LoneSurrogates = total.LoneSurrogates,
                SkippedInputs = skipped, ChangedInputs = changedInputs ?? [], LengthsBefore = total.LengthsIn, LengthsAfter = lengthsOut,
                DuplicateClusterSizes = clusterSizes.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
                Shards = n,
                IndexBytesPerDocument = Unsafe.SizeOf<DocumentRef>() + sizeof(int) * 2 + sizeof(byte),
                SortBytesPerDocument = Math.Max(config.Dedup.Exact ? Unsafe.SizeOf<ExactKey>() : 0, config.Dedup.Near ? Unsafe.SizeOf<BandKey>() : 0),
                SortSpills = spills,
                SignatureBytesPerDocument = recordBytes,
                MapSeconds = mapSeconds, MergeSeconds = clock.Elapsed.TotalSeconds,
                Stages = [.. (config.Stages is null ? CurationConfig.DefaultStages : config.BuildStages().Select(s => s.Name)), .. config.Dedup.Exact ? new[] { "exact_dedup" } : [], .. config.Dedup.Near ? new[] { "near_dedup" } : []],
            };
            report.Write(output);
            return report;
        }
        finally
        {
            foreach (var m in maps)
            {
                m.View?.SafeMemoryMappedViewHandle.ReleasePointer();
                m.View?.Dispose();
                m.File?.Dispose();
            }
        }
    }

    // The id member of a spooled line (the writer puts it first), as raw JSON.
    private static byte[] IdToken(ReadOnlySpan<byte> line)
    {
        var r = new Utf8JsonReader(line);
        r.Read(); r.Read(); r.Read();
        return line[(int)r.TokenStartIndex..(int)r.BytesConsumed].ToArray();
    }
}
