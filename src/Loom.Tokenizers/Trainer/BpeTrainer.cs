// Byte-level BPE training (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with
// Subword Units"; GPT-2's byte-level variant), with the rules of the CS336 reference trainer:
//   1. vocabulary = special tokens + the 256 bytes;
//   2. text is split on special tokens first, so no merge crosses one;
//   3. each chunk is pre-tokenized with the regex and pre-tokens are counted;
//   4. the most frequent adjacent pair is merged, ties going to the lexicographically greater
//      pair of byte strings; repeat until the vocabulary is full or no pair reaches MinFrequency.
// Counting streams the input in ~1 MB chunks on all cores and keeps only distinct pre-tokens, so
// memory is bounded by the number of distinct pre-tokens, not the corpus size. Merging is
// incremental: an index from each pair to the words containing it means a merge touches only
// those words, and a max-heap with lazy invalidation finds the next pair.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Trainer;

/// <summary>Settings of a BPE training run.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Final vocabulary size, specials and the 256 bytes included.</summary>
    public int VocabularySize { get; init; } = 32_000;

    /// <summary>A pair seen fewer times than this is never merged.</summary>
    public long MinFrequency { get; init; } = 2;

    /// <summary>Special tokens, given ids 0, 1, ... in this order.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["<|endoftext|>"];

    /// <summary>Pre-tokenizer pattern (Rust/PCRE syntax); GPT-2's by default.</summary>
    public string Pattern { get; init; } = Gpt2VocabFiles.Pattern;

    /// <summary>For JSONL inputs, the field holding the text.</summary>
    public string JsonField { get; init; } = "text";

    /// <summary>Threads used to count pre-tokens.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad setting and its value.
    /// <paramref name="name"/> maps a property name to the name the user wrote (the CLI passes its option names).
    /// </summary>
    public void Validate(Func<string, string>? name = null)
    {
        name ??= n => n;
        var firstAt = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < SpecialTokens.Count; i++)
        {
            string? s = SpecialTokens[i];
            if (string.IsNullOrEmpty(s))
                throw new ArgumentException($"{name(nameof(SpecialTokens))}: special token {i + 1} is empty; every special token needs text.");
            if (!firstAt.TryAdd(s, i))
                throw new ArgumentException($"{name(nameof(SpecialTokens))}: \"{s}\" is given twice (positions {firstAt[s] + 1} and {i + 1}); each special token gets one id, so list it once.");
        }
        int minimum = 256 + SpecialTokens.Count;
        if (VocabularySize < minimum)
            throw new ArgumentException($"{name(nameof(VocabularySize))} {VocabularySize} is too small: the 256 byte tokens and {SpecialTokens.Count} special token(s) need {minimum} ids; give at least {minimum}.");
        // As Hugging Face's trainer (an unsigned min_frequency): 0 is accepted and acts as 1, since every pair present was seen at least once.
        if (MinFrequency < 0)
            throw new ArgumentException($"{name(nameof(MinFrequency))} must be ≥ 0 (0 and 1 both merge every pair that occurs); got {MinFrequency}.");
        if (string.IsNullOrEmpty(JsonField))
            throw new ArgumentException($"{name(nameof(JsonField))} is empty; give the JSON field that holds the text (default \"text\").");
        if (Threads < 1)
            throw new ArgumentException($"{name(nameof(Threads))} must be ≥ 1; got {Threads}.");
        try { _ = new RegexPreTokenizer(Pattern); }
        catch (ArgumentException e) { throw new ArgumentException($"{name(nameof(Pattern))}: {e.Message}", e); }
    }
}

/// <summary>The outcome of training.</summary>
public sealed record BpeTrainingResult(BpeTokenizer Tokenizer, IReadOnlyList<(byte[] Left, byte[] Right)> Merges, int DistinctPreTokens, long PreTokenCount)
{
    /// <summary>Lone-surrogate JSON escapes in the input, read as U+FFFD.</summary>
    public long LoneSurrogates { get; init; }
}

/// <summary>Trains byte-level BPE vocabularies.</summary>
public static class BpeTrainer
{
    /// <summary>Trains on files (plain text, .jsonl with <see cref="BpeTrainerOptions.JsonField"/>, either optionally .gz).</summary>
    public static BpeTrainingResult TrainFromFiles(IEnumerable<string> paths, BpeTrainerOptions options, IProgress<long>? bytesRead = null, CancellationToken ct = default)
    {
        var files = paths.Select(f => InputFiles.RequireFile(f, "input")).ToList();
        var counters = new InputCounters();
        var result = Train(files.SelectMany(f => TextChunks.Read(f, options.JsonField, bytesRead, counters)), options, ct);
        return result with { LoneSurrogates = counters.LoneSurrogates };
    }

    /// <summary>Trains on in-memory texts (each a chunk; documents may be joined by special tokens).</summary>
    public static BpeTrainingResult Train(IEnumerable<string> chunks, BpeTrainerOptions options, CancellationToken ct = default)
    {
        options.Validate();
        var pre = new RegexPreTokenizer(options.Pattern);
        var counts = CountPreTokens(chunks, pre, options, ct, out long total);
        return Merge(counts, options, pre, total, ct);
    }

    private static Dictionary<string, long> CountPreTokens(IEnumerable<string> chunks, RegexPreTokenizer pre, BpeTrainerOptions options, CancellationToken ct, out long total)
    {
        var merged = new Dictionary<string, long>(StringComparer.Ordinal);
        long grand = 0;
        object gate = new();
        var specials = options.SpecialTokens.Where(s => s.Length > 0).ToArray();
        try
        {
            Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = ct },
                () => (Counts: new Dictionary<string, long>(StringComparer.Ordinal), Total: 0L),
                (chunk, _, local) =>
                {
                    var lookup = local.Counts.GetAlternateLookup<ReadOnlySpan<char>>();
                    ReadOnlySpan<char> rest = chunk;
                    while (true)
                    {
                        int cut = rest.Length, cutLen = 0;
                        foreach (var s in specials)
                        {
                            int at = rest.IndexOf(s.AsSpan(), StringComparison.Ordinal);
                            if (at >= 0 && at < cut) { cut = at; cutLen = s.Length; }
                        }
                        var segment = rest[..cut];
                        foreach (var m in pre.Split(segment))
                        {
                            var piece = segment.Slice(m.Index, m.Length);
                            lookup[piece] = lookup.TryGetValue(piece, out long c) ? c + 1 : 1;
                            local.Total++;
                        }
                        if (cutLen == 0) break;
                        rest = rest[(cut + cutLen)..];
                    }
                    return local;
                },
                local =>
                {
                    lock (gate)
                    {
                        foreach (var (k, v) in local.Counts) merged[k] = merged.TryGetValue(k, out long c) ? c + v : v;
                        grand += local.Total;
                    }
                });
        }
        catch (AggregateException e)
        {
            // A bad input line (named with file and line) surfaces while the chunks are enumerated: throw it as itself.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        total = grand;
        return merged;
    }

    private sealed class Word
    {
        public int[] Symbols = [];
        public int Length;
        public long Count;
    }

    private static BpeTrainingResult Merge(Dictionary<string, long> preTokens, BpeTrainerOptions options, RegexPreTokenizer pre, long total, CancellationToken ct)
    {
        int specialCount = options.SpecialTokens.Count;
        // Symbol ids during training: 0..255 are bytes, 256+i is merge i.
        var symbolBytes = new List<byte[]>(Math.Min(options.VocabularySize, 1 << 16)); // a huge VocabularySize just trains until pairs run out
        for (int b = 0; b < 256; b++) symbolBytes.Add([(byte)b]);

        // Words in a fixed order (sorted by text) so training is deterministic whatever the thread count.
        var words = new List<Word>(preTokens.Count);
        foreach (var (text, count) in preTokens.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            var w = new Word { Symbols = new int[bytes.Length], Length = bytes.Length, Count = count };
            for (int i = 0; i < bytes.Length; i++) w.Symbols[i] = bytes[i];
            words.Add(w);
        }

        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        for (int wi = 0; wi < words.Count; wi++) AddPairs(words[wi], wi, +1, pairCounts, pairWords, null);

        var comparer = Comparer<(long Count, int Left, int Right)>.Create((x, y) =>
        {
            // Max-heap via PriorityQueue (a min-heap): "smaller" means higher priority.
            int c = y.Count.CompareTo(x.Count);
            if (c != 0) return c;
            c = CompareBytes(symbolBytes[y.Left], symbolBytes[x.Left]);
            return c != 0 ? c : CompareBytes(symbolBytes[y.Right], symbolBytes[x.Right]);
        });
        var heap = new PriorityQueue<(int, int), (long, int, int)>(comparer);
        foreach (var (p, c) in pairCounts) heap.Enqueue(p, (c, p.Item1, p.Item2));

        var merges = new List<(byte[], byte[])>();
        int target = options.VocabularySize - specialCount - 256;
        var changed = new HashSet<(int, int)>();
        while (merges.Count < target && heap.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            heap.TryDequeue(out var pair, out var prio);
            if (!pairCounts.TryGetValue(pair, out long current) || current != prio.Item1) continue; // stale entry
            if (current < options.MinFrequency) break;
            int newSymbol = symbolBytes.Count;
            symbolBytes.Add([.. symbolBytes[pair.Item1], .. symbolBytes[pair.Item2]]);
            merges.Add((symbolBytes[pair.Item1], symbolBytes[pair.Item2]));
            changed.Clear();
            foreach (int wi in pairWords[pair].ToArray())
            {
                var w = words[wi];
                AddPairs(w, wi, -1, pairCounts, pairWords, changed);
                ApplyMerge(w, pair.Item1, pair.Item2, newSymbol);
                AddPairs(w, wi, +1, pairCounts, pairWords, changed);
            }
            pairCounts.Remove(pair);
            pairWords.Remove(pair);
            foreach (var p in changed)
                if (pairCounts.TryGetValue(p, out long c) && c > 0) heap.Enqueue(p, (c, p.Item1, p.Item2));
        }

        // Final ids: specials 0.., then bytes, then merges in order; a merged token's rank is its merge index.
        var tokens = new List<(byte[], int, int)>(symbolBytes.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < symbolBytes.Count; s++)
        {
            // Two merges can produce the same bytes ("ab"+"c", "a"+"bc"); the first keeps the id.
            if (!seen.Add(Convert.ToBase64String(symbolBytes[s]))) continue;
            tokens.Add((symbolBytes[s], specialCount + tokens.Count, s));
        }
        var specials = new Dictionary<string, int>();
        for (int i = 0; i < specialCount; i++) specials[options.SpecialTokens[i]] = i;
        var tokenizer = new BpeTokenizer("trained", new TokenTable(tokens), pre, specials);
        return new BpeTrainingResult(tokenizer, merges, preTokens.Count, total);
    }

    private static void AddPairs(Word w, int wi, int sign, Dictionary<(int, int), long> counts, Dictionary<(int, int), HashSet<int>> index, HashSet<(int, int)>? changed)
    {
        for (int i = 0; i + 1 < w.Length; i++)
        {
            var p = (w.Symbols[i], w.Symbols[i + 1]);
            long c = (counts.TryGetValue(p, out long old) ? old : 0) + sign * w.Count;
            if (c == 0) counts.Remove(p); else counts[p] = c;
            if (sign > 0)
            {
                if (!index.TryGetValue(p, out var set)) index[p] = set = new HashSet<int>();
                set.Add(wi);
            }
            else if (index.TryGetValue(p, out var set))
            {
                set.Remove(wi);
                if (set.Count == 0) index.Remove(p);
            }
            changed?.Add(p);
        }
    }

    // Replaces each non-overlapping (a, b), left to right, with `merged`.
    private static void ApplyMerge(Word w, int a, int b, int merged)
    {
        int o = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (i + 1 < w.Length && w.Symbols[i] == a && w.Symbols[i + 1] == b)
            {
                w.Symbols[o++] = merged;
                i++;
            }
            else w.Symbols[o++] = w.Symbols[i];
        }
        w.Length = o;
    }

    private static int CompareBytes(byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y);
}

/// <summary>Streams text from plain, JSONL and gzip files in ~1 MB chunks cut at line ends.</summary>
public static class TextChunks
{
    private const int ChunkChars = 1 << 20;

    /// <summary>
    /// The last index i at which text may be cut without changing pre-tokenization: text[i−1] is
    /// '\n' between two non-whitespace characters. Every tokenizer pattern here then ends a piece
    /// at the '\n' and starts a new one at text[i], on the whole text and on the two halves alike
    /// (a cut inside a whitespace run could turn "  " + "\n" into one "  \n" piece). −1 if none.
    /// </summary>
    public static int SafeCut(StringBuilder text)
    {
        for (int i = text.Length - 1; i >= 2; i--)
            if (text[i - 1] == '\n' && !char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 2])) return i;
        return -1;
    }

    /// <summary>Opens <paramref name="path"/> (a regular file; .gz decompressed and checked, so truncation is an error naming the byte offset).</summary>
    /// <remarks>Bytes that are not UTF-8 become U+FFFD, counted in <paramref name="counters"/> when given (for a warning).</remarks>
    public static StreamReader OpenText(string path, InputCounters? counters = null) =>
        new(CompressedInput.Open(path), counters is null ? Encoding.UTF8 : CountingDecoderFallback.Utf8(counters), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);

    /// <summary>
    /// The string field <paramref name="field"/> of each JSON line. A line that is not a JSON object, lacks the field or holds
    /// a non-string there is an error naming the file and line (every command but `data curate`, which quarantines, refuses
    /// bad lines rather than train or encode on a silently smaller corpus). Lone-surrogate escapes become U+FFFD and are
    /// counted in <paramref name="counters"/>.
    /// </summary>
    public static IEnumerable<string> JsonLinesField(string path, string field, InputCounters? counters = null)
    {
        foreach (var text in JsonLinesFieldOrBlank(path, field, counters))
            if (text is not null) yield return text;
    }

    /// <summary>
    /// As <see cref="JsonLinesField"/>, but one item per input line: null for a blank line, so a command
    /// that writes one output line per input line (tokenizer encode) keeps them in step.
    /// </summary>
    public static IEnumerable<string?> JsonLinesFieldOrBlank(string path, string field, InputCounters? counters = null)
    {
        using var reader = OpenText(path, counters);
        byte[] name = Encoding.UTF8.GetBytes(field);
        byte[] bytes = new byte[1 << 12];
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                yield return null;
                continue;
            }
            int needed = Encoding.UTF8.GetMaxByteCount(line.Length);
            if (bytes.Length < needed) bytes = new byte[Math.Max(needed, 2 * bytes.Length)];
            int length = Encoding.UTF8.GetBytes(line, bytes);
            yield return FieldOf(bytes.AsSpan(0, length), name, path, lineNo, field, counters);
        }
    }

    private static string FieldOf(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, string path, int lineNo, string field, InputCounters? counters)
    {
        string? text = null;
        string? wrongKind = null;
        long lone = 0;
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
                throw new FormatException($"{path}:{lineNo}: the line is not a JSON object; each line must be one object such as {{\"{field}\": \"...\"}}.");
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                bool isField = r.ValueTextEquals(name);
                r.Read();
                if (isField && r.TokenType == JsonTokenType.String) text = JsonString.Get(ref r, ref lone);
                else
                {
                    if (isField) wrongKind = r.TokenType.ToString().ToLowerInvariant();
                    r.Skip();
                }
            }
            if (r.Read()) throw new FormatException($"{path}:{lineNo}: more than one JSON value on the line.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}:{lineNo}: invalid JSON: {e.Message}", e);
        }
        counters?.AddLoneSurrogates(lone);
        if (text is null)
            throw new FormatException(wrongKind != null
                ? $"{path}:{lineNo}: field \"{field}\" is a {wrongKind}, not a string."
                : $"{path}:{lineNo}: no string field \"{field}\"; choose the field with --field.");
        return text;
    }

    /// <summary>True for the names a folder of text input is searched for: .txt, .text, .md, .jsonl, .ndjson, optionally .gz.</summary>
    public static bool IsSupported(string path)
    {
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return IsJsonLines(p) || p.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".text", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".md", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The files <paramref name="inputs"/> (files, folders, globs) name, for commands that read text and JSONL.</summary>
    public static InputSelection SelectInputs(IEnumerable<string> inputs, string option = "--input") =>
        InputFiles.Expand(inputs, IsSupported, option, ".txt, .md, .jsonl (or .gz of them)");

    /// <summary>True for .jsonl / .jsonl.gz / .json.gz paths.</summary>
    public static bool IsJsonLines(string path)
    {
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return p.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The documents of a file: each JSONL record's field, or the whole text file in chunks cut at line ends.</summary>
    public static IEnumerable<string> Read(string path, string jsonField = "text", IProgress<long>? bytesRead = null, InputCounters? counters = null)
    {
        if (IsJsonLines(path))
        {
            var sb = new StringBuilder();
            foreach (var text in JsonLinesField(path, jsonField, counters))
            {
                bytesRead?.Report(text.Length + 1);
                sb.Append(text).Append('\n');
                if (sb.Length >= ChunkChars) { yield return sb.ToString(); sb.Clear(); }
            }
            if (sb.Length > 0) yield return sb.ToString();
            yield break;
        }
        using var reader = OpenText(path, counters);
        var buffer = new char[ChunkChars];
        var carry = new StringBuilder();
        int read;
        while ((read = reader.ReadBlock(buffer, 0, buffer.Length)) > 0)
        {
            bytesRead?.Report(read);
            carry.Append(buffer, 0, read);
            int cut = SafeCut(carry);
            if (cut <= 0) continue;
            yield return carry.ToString(0, cut);
            carry.Remove(0, cut);
        }
        if (carry.Length > 0) yield return carry.ToString();
    }
}
