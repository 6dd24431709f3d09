// Reads `loom train`'s data: text and JSONL files (tokenized here) and token shards from
// `loom tokenize` (a folder through its manifest.json, see TokenShardSet). As documents: a JSONL record, a blank-line-separated block of a text file, or a
// span of a shard between separator ids. As a stream: everything concatenated in order (text files
// tokenized in large chunks cut where pre-tokenization is unaffected).
using System.Text;
using Loom.Tokenizers;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Commands;

internal static class TrainingData
{
    /// <summary>Token documents (or, when not <paramref name="asDocuments"/>, a single stream as one entry per source).</summary>
    public static List<int[]> Load(IReadOnlyList<string> paths, string field, BpeTokenizer tokenizer, string tokenizerName, bool asDocuments)
    {
        var result = new List<int[]>();
        foreach (var path in paths)
        {
            if (TokenShardSet.IsShardPath(path))
            {
                // A folder is read through its manifest.json (never a glob), and every shard must come from the configured tokenizer.
                foreach (var shard in TokenShardSet.Read([path], tokenizer, $"the configured tokenizer {tokenizerName}"))
                {
                    string f = shard.Path;
                    var buf = new int[shard.Count];
                    shard.CopyTo(0, buf);
                    if (!asDocuments) { result.Add(buf); continue; }
                    int sep = shard.Header.SeparatorId;
                    if (sep < 0) throw new InvalidDataException($"{f} has no document separator, so its documents cannot be told apart; use batching: windows or re-tokenize with a separator.");
                    int start = 0;
                    for (int i = 0; i <= buf.Length; i++)
                    {
                        if (i < buf.Length && buf[i] != sep) continue;
                        // Keep the separator as the last target so the model learns where documents end.
                        int end = Math.Min(buf.Length, i + 1);
                        if (end - start >= 2) result.Add(buf[start..end]);
                        start = i + 1;
                    }
                }
            }
            else
            {
                if (!File.Exists(path)) throw new FileNotFoundException($"Training data {path} does not exist.", path);
                if (!asDocuments)
                {
                    var tokens = new List<int>();
                    foreach (var chunk in TextChunks.Read(path, field))
                        tokens.AddRange(tokenizer.Encode(chunk, SpecialTokenPolicy.PlainText));
                    result.Add(tokens.ToArray());
                    continue;
                }
                bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase);
                foreach (var text in jsonl ? TextChunks.JsonLinesField(path, field) : BlankLineBlocks(path))
                {
                    var ids = tokenizer.Encode(text, SpecialTokenPolicy.PlainText);
                    if (tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot)) ids = [.. ids, eot];
                    if (ids.Length >= 2) result.Add(ids);
                }
            }
        }
        if (result.Count == 0 || result.All(d => d.Length == 0)) throw new InvalidDataException($"The training data ({string.Join(", ", paths)}) holds no tokens.");
        return result;
    }

    private static IEnumerable<string> BlankLineBlocks(string path)
    {
        using var reader = TextChunks.OpenText(path);
        var block = new StringBuilder();
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Trim().Length == 0)
            {
                if (block.Length > 0) { yield return block.ToString(); block.Clear(); }
                continue;
            }
            block.Append(line).Append('\n');
        }
        if (block.Length > 0) yield return block.ToString();
    }
}
