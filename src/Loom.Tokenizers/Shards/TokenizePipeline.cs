// `loom tokenize`: stream text, JSONL or gzip files into token shards. Documents are a JSONL
// record each, or a whole plain-text file (streamed in chunks cut where pre-tokenization is
// unaffected, so a 10 GB file never sits in memory). Batches of ~4 MB are encoded on all cores
// and written in input order; a separator id ends each document. Shards roll over at
// ShardTokens and are named shard_00000.bin, ...; each appears only when complete, and
// manifest.json, written last, makes them one shard set (readers read the manifest, never a glob).
// A folder that already holds a shard set is refused unless Overwrite is set; then its manifest
// goes first (so a crash mid-run leaves a folder that readers refuse) and its old shards with it.
using System.Text;
using Loom.Core.IO;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Shards;

/// <summary>Settings of a tokenize run.</summary>
public sealed record TokenizeOptions
{
    /// <summary>JSONL field holding the text.</summary>
    public string JsonField { get; init; } = "text";

    /// <summary>Tokens per shard before a new one starts.</summary>
    public long ShardTokens { get; init; } = 100_000_000;

    /// <summary>Separator after each document; null picks &lt;|endoftext|&gt; when the tokenizer has it.</summary>
    public string? Separator { get; init; }

    /// <summary>Encoding threads.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>When the output folder already holds a shard set: false (default) refuses, true deletes it first.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad setting and its value.
    /// <paramref name="name"/> maps a property name to the name the user wrote (the CLI passes its option names).
    /// </summary>
    public void Validate(Func<string, string>? name = null)
    {
        name ??= n => n;
        if (ShardTokens < 1) throw new ArgumentException($"{name(nameof(ShardTokens))} must be ≥ 1 (tokens per shard); got {ShardTokens}.");
        if (string.IsNullOrEmpty(JsonField)) throw new ArgumentException($"{name(nameof(JsonField))} is empty; give the JSON field that holds the text (default \"text\").");
        if (Threads < 1) throw new ArgumentException($"{name(nameof(Threads))} must be ≥ 1; got {Threads}.");
        if (Separator is { Length: 0 }) throw new ArgumentException($"{name(nameof(Separator))} is empty; give a special token of the tokenizer, or leave it unset.");
    }
}

/// <summary>What a tokenize run produced.</summary>
public sealed record TokenizeSummary(IReadOnlyList<string> Shards, long Documents, long Tokens, long InputChars)
{
    /// <summary>Lone-surrogate JSON escapes in the input, read as U+FFFD.</summary>
    public long LoneSurrogates { get; init; }
}

/// <summary>Runs the tokenize pipeline.</summary>
public static class TokenizePipeline
{
    private const int BatchChars = 4 << 20;

    private readonly record struct Item(string Text, bool EndsDocument);

    /// <summary>
    /// Tokenizes <paramref name="inputs"/> into shards under <paramref name="outputDirectory"/>, then writes its manifest.
    /// <paramref name="name"/> maps option names to the names the user wrote, for error messages (the CLI passes its option names).
    /// </summary>
    public static TokenizeSummary Run(BpeTokenizer tokenizer, IReadOnlyList<string> inputs, string outputDirectory, TokenizeOptions options,
        IProgress<long>? charsDone = null, CancellationToken ct = default, Func<string, string>? name = null)
    {
        name ??= n => n;
        options.Validate(name);
        foreach (var f in inputs) InputFiles.RequireFile(f, "--input");
        if (inputs.Count == 0) throw new ArgumentException("No input files were given.");
        foreach (var f in inputs)
        {
            if (Directory.Exists(f)) throw new ArgumentException($"Input {f} is a directory; give the text, JSONL or .gz files in it.");
            if (!File.Exists(f)) throw new FileNotFoundException($"Input {f} does not exist.", f);
        }
        int separator = -1;
        string? sepText = options.Separator ?? (tokenizer.SpecialTokens.ContainsKey("<|endoftext|>") ? "<|endoftext|>" : null);
        if (sepText != null && !tokenizer.SpecialTokens.TryGetValue(sepText, out separator))
            throw new ArgumentException($"{name(nameof(TokenizeOptions.Separator))} \"{sepText}\" is not a special token of {tokenizer.Name}; its specials are: {string.Join(", ", tokenizer.SpecialTokens.Keys)}.");
        PrepareOutput(outputDirectory, options.Overwrite, name);

        var shards = new List<string>();
        TokenShardWriter? writer = null;
        long documents = 0, tokens = 0, chars = 0;
        var pending = new List<int>();
        var counters = new InputCounters();
        try
        {
            foreach (var batch in Batches(inputs, options.JsonField, counters))
            {
                ct.ThrowIfCancellationRequested();
                var encoded = new List<int>[batch.Count];
                Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = ct },
                    i => encoded[i] = EncodeItem(tokenizer, batch[i].Text));
                for (int i = 0; i < batch.Count; i++)
                {
                    pending.AddRange(encoded[i]);
                    chars += batch[i].Text.Length;
                    if (!batch[i].EndsDocument) continue;
                    if (writer == null || writer.TokenCount >= options.ShardTokens)
                    {
                        writer?.Complete();
                        string path = Path.Combine(outputDirectory, $"shard_{shards.Count:D5}.bin");
                        writer = new TokenShardWriter(path, tokenizer, separator);
                        shards.Add(path);
                    }
                    writer.WriteDocument(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending));
                    tokens += pending.Count + (separator >= 0 ? 1 : 0);
                    documents++;
                    pending.Clear();
                }
                charsDone?.Report(chars);
            }
            writer?.Complete();
        }
        finally
        {
            writer?.Dispose();
        }
        if (documents == 0) throw new InvalidDataException($"The inputs ({string.Join(", ", inputs)}) hold no documents; nothing was written.");
        // Last: the manifest makes the shards one set. Counts come from the shards' own headers.
        var entries = new List<TokenShardEntry>(shards.Count);
        foreach (var path in shards)
        {
            using var shard = TokenShard.Open(path);
            entries.Add(new TokenShardEntry(Path.GetFileName(path), shard.Count, shard.Header.DocumentCount));
        }
        new TokenShardManifest(tokenizer.Name, Convert.ToHexStringLower(TokenShardHeader.FingerprintOf(tokenizer)), tokenizer.VocabularySize, separator, entries)
            .Write(outputDirectory);
        return new TokenizeSummary(shards, documents, tokens, chars) { LoneSurrogates = counters.LoneSurrogates };
    }

    /// <summary>Names of the files a tokenize run owns in its output folder (the manifest, shards and their temporaries).</summary>
    private static List<string> ShardSetFiles(string directory) =>
        [.. Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f) is { } n && (n == TokenShardManifest.FileName || n == TokenShardManifest.FileName + DurableFile.TemporarySuffix
                         || (n.StartsWith("shard_", StringComparison.Ordinal) && (n.EndsWith(".bin", StringComparison.Ordinal) || n.EndsWith(".bin" + DurableFile.TemporarySuffix, StringComparison.Ordinal)))))
            .Order(StringComparer.Ordinal)];

    private static void PrepareOutput(string directory, bool overwrite, Func<string, string> name)
    {
        if (File.Exists(directory)) throw new IOException($"{name("Output")} {directory} is a file; give a folder for the shards.");
        Directory.CreateDirectory(directory);
        var old = ShardSetFiles(directory);
        if (old.Count == 0) return;
        if (!overwrite)
            throw new IOException(
                $"{directory} already holds a shard set from an earlier run ({string.Join(", ", old.Take(3).Select(Path.GetFileName))}{(old.Count > 3 ? $", … {old.Count} files" : "")}). " +
                $"Pass {name(nameof(TokenizeOptions.Overwrite))} to replace it, or choose another {name("Output")}.");
        // The manifest goes first and durably: from then on the folder is not a shard set, whatever happens next.
        string manifest = Path.Combine(directory, TokenShardManifest.FileName);
        if (File.Exists(manifest))
        {
            File.Delete(manifest);
            DurableFile.SyncDirectory(directory);
        }
        foreach (var f in old) if (File.Exists(f)) File.Delete(f);
        DurableFile.SyncDirectory(directory);
    }

    // Special-token text inside documents is data, not control: encode it as plain text.
    private static List<int> EncodeItem(BpeTokenizer tokenizer, string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        tokenizer.Encode(text, ids, SpecialTokenPolicy.PlainText);
        return ids;
    }

    private static IEnumerable<List<Item>> Batches(IReadOnlyList<string> inputs, string field, InputCounters counters)
    {
        var batch = new List<Item>();
        int size = 0;
        foreach (var path in inputs)
        {
            IEnumerable<Item> items = TextChunks.IsJsonLines(path)
                ? JsonDocuments(path, field, counters)
                : FileChunks(path);
            foreach (var item in items)
            {
                batch.Add(item);
                size += item.Text.Length;
                if (size >= BatchChars) { yield return batch; batch = new List<Item>(); size = 0; }
            }
        }
        if (batch.Count > 0) yield return batch;
    }

    private static IEnumerable<Item> FileChunks(string path)
    {
        string? previous = null;
        foreach (var chunk in TextChunks.Read(path))
        {
            if (previous != null) yield return new Item(previous, false);
            previous = chunk;
        }
        if (previous != null) yield return new Item(previous, true);
    }

    private static IEnumerable<Item> JsonDocuments(string path, string field, InputCounters counters) =>
        TextChunks.JsonLinesField(path, field, counters).Select(text => new Item(text, true));
}
