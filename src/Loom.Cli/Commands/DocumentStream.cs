// The token stream of the pre-training commands that tokenize text themselves (BERT masked-LM, T5 span
// corruption): every non-blank line of a text file, or each JSONL record's field, is one document,
// followed by the model's separator ([SEP], </s>).
using Loom.Core.IO;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Commands;

internal static class DocumentStream
{
    /// <summary>
    /// Tokenizes every document of <paramref name="paths"/> with <paramref name="encode"/> (which appends
    /// to the list) and puts <paramref name="separator"/> after each; <paramref name="readsWhat"/> finishes
    /// the message refusing a token shard set ("masked-LM pre-training reads text or JSONL files ...").
    /// </summary>
    public static (int[] Tokens, int Documents) Read(IReadOnlyList<string> paths, string field, InputCounters counters,
        Action<string, List<int>> encode, int separator, string readsWhat)
    {
        var ids = new List<int>();
        int documents = 0;
        foreach (var path in paths)
        {
            if (TokenShardSet.IsShardPath(path))
                throw new NotSupportedException($"data: {path} is a token shard set; {readsWhat}.");
            InputFiles.RequireFile(path, "data");
            foreach (var text in TextChunks.IsJsonLines(path) ? TextChunks.JsonLinesField(path, field, counters) : Lines(path))
            {
                if (string.IsNullOrWhiteSpace(text)) continue;
                int before = ids.Count;
                encode(text, ids);
                if (ids.Count == before) continue;
                ids.Add(separator);
                documents++;
            }
        }
        if (ids.Count == 0) throw new InvalidDataException($"The training data ({string.Join(", ", paths)}) holds no tokens.");
        return (ids.ToArray(), documents);
    }

    private static IEnumerable<string> Lines(string path)
    {
        using var reader = TextChunks.OpenText(path);
        string? line;
        while ((line = reader.ReadLine()) != null) yield return line;
    }
}
