// `loom tokenize`: stream text, JSONL or gzip files into token shards. Documents are a JSONL
// record each, or a whole plain-text file (streamed in chunks cut where pre-tokenization is
// unaffected, so a 10 GB file never sits in memory). Batches of ~4 MB are encoded on all cores
// and written in input order; a separator id ends each document. Shards roll over at
// ShardTokens and are named shard_00000.bin, ...; each appears only when complete.
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

    /// <summary>Tokenizes <paramref name="inputs"/> into shards under <paramref name="outputDirectory"/>.</summary>
    public static TokenizeSummary Run(BpeTokenizer tokenizer, IReadOnlyList<string> inputs, string outputDirectory, TokenizeOptions options,
        IProgress<long>? charsDone = null, CancellationToken ct = default)
    {
        foreach (var f in inputs) InputFiles.RequireFile(f, "--input");
        if (inputs.Count == 0) throw new ArgumentException("No input files were given.");
        Directory.CreateDirectory(outputDirectory);
        int separator = -1;
        string? sepText = options.Separator ?? (tokenizer.SpecialTokens.ContainsKey("<|endoftext|>") ? "<|endoftext|>" : null);
        if (sepText != null && !tokenizer.SpecialTokens.TryGetValue(sepText, out separator))
            throw new ArgumentException($"The separator \"{sepText}\" is not a special token of {tokenizer.Name}; its specials are: {string.Join(", ", tokenizer.SpecialTokens.Keys)}.");

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
        return new TokenizeSummary(shards, documents, tokens, chars) { LoneSurrogates = counters.LoneSurrogates };
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
