// Reading a task's documents: JSONL (or gzip-compressed JSONL, *.gz), one JSON object per line
// (blank lines skipped), each error naming the file and line.
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Evaluation.Harness;

/// <summary>JSONL document reader.</summary>
public static class TaskDocuments
{
    /// <summary>Every object of <paramref name="path"/>, in order.</summary>
    public static List<JsonObject> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Task data file {path} does not exist.", path);
        var docs = new List<JsonObject>();
        int line = 0;
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : stream);
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: not valid JSON ({e.Message.Split(" Path:")[0]}); task data is JSONL, one object per line.", e); }
            docs.Add(node as JsonObject ?? throw new InvalidDataException($"{path}:{line}: a JSON {(node is JsonArray ? "array" : "value")}, not an object; task data is JSONL, one object per line."));
        }
        if (docs.Count == 0) throw new InvalidDataException($"{path} holds no documents.");
        return docs;
    }
}
