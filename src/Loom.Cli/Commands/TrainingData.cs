// Reads `loom train`'s data: text and JSONL files (tokenized here) and token shards from
// `loom tokenize` (a folder through its manifest.json, see TokenShardSet). As documents: a JSONL record, a blank-line-separated block of a text file, or a
// span of a shard between separator ids. As a stream: everything concatenated in order (text files
// tokenized in large chunks cut where pre-tokenization is unaffected).
using System.Text;
using Loom.Core.IO;
using Loom.Tokenizers;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Commands;

internal static class TrainingData
{
    /// <summary>Token documents (or, when not <paramref name="asDocuments"/>, a single stream as one entry per source).</summary>
    public static List<int[]> Load(IReadOnlyList<string> paths, string field, BpeTokenizer tokenizer, string tokenizerName, bool asDocuments, InputCounters? counters = null)
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
                InputFiles.RequireFile(path, "data");      // a FIFO, a dangling link or a missing path is an error naming the config field
                if (!asDocuments)
                {
                    var tokens = new List<int>();
                    foreach (var chunk in TextChunks.Read(path, field, counters: counters))
                        tokens.AddRange(tokenizer.Encode(chunk, SpecialTokenPolicy.PlainText));
                    result.Add(tokens.ToArray());
                    continue;
                }
                bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase);
                foreach (var text in jsonl ? TextChunks.JsonLinesField(path, field, counters) : BlankLineBlocks(path))
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

    /// <summary>
    /// Each data file (shards of a directory included, as <see cref="Load"/> reads them) with its size and
    /// SHA-256, so a resume can tell that the data changed even when the paths did not.
    /// </summary>
    /// <remarks>
    /// A file listed twice (directly, or through a shard folder and directly) is refused: its text would
    /// be read twice, and could land in both the training and the validation split.
    /// </remarks>
    public static IEnumerable<(string File, string Fingerprint)> Fingerprints(IReadOnlyList<string> paths)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            // A shard folder is the set its manifest lists (never a glob, which would see stale shards).
            IEnumerable<string> files = Directory.Exists(path)
                ? TokenShardManifest.Read(path).Shards.Select(e => Path.Combine(path, e.File))
                : [path];
            foreach (var f in files)
            {
                string full = Path.GetFullPath(f);
                if (seen.TryGetValue(full, out var first))
                    throw new ArgumentException($"data lists {full} twice (as {first} and as {path}): its text would be read twice, and could be both training and validation text; list each file once.");
                seen[full] = path;
                // Checked before it is opened: a FIFO would block the hash forever, a dangling link is named.
                InputFiles.RequireFile(f, "data");
                using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
                yield return (Path.GetFullPath(f), $"{stream.Length:N0} bytes, sha256 {hash[..16]}");
            }
        }
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
