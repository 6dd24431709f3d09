// manifest.json: what makes a folder of token shards one shard set. `loom tokenize` writes it last
// (durably, after every shard is in place), so its presence means the set is complete, and it lists
// exactly the shards of that run: a reader takes the files it names, never a glob, so a shard left
// over from an earlier run with more shards is never read. Documented in docs/FORMATS.md.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;

namespace Loom.Tokenizers.Shards;

/// <summary>One shard listed in a manifest: its file name (in the manifest's folder), token and document counts.</summary>
public sealed record TokenShardEntry(string File, long Tokens, long Documents);

/// <summary>The manifest of a shard set.</summary>
public sealed record TokenShardManifest(string TokenizerName, string TokenizerFingerprint, int VocabularySize, int SeparatorId, IReadOnlyList<TokenShardEntry> Shards)
{
    /// <summary>The manifest's file name inside a shard folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The value of the "format" field.</summary>
    public const string Format = "loom-token-shards";

    /// <summary>Manifest version this Loom writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Total tokens (separators included).</summary>
    public long Tokens => Shards.Sum(s => s.Tokens);

    /// <summary>Total documents.</summary>
    public long Documents => Shards.Sum(s => s.Documents);

    /// <summary>Writes <c>manifest.json</c> into <paramref name="directory"/> durably (temp, fsync, rename).</summary>
    public void Write(string directory)
    {
        var shards = new JsonArray();
        foreach (var s in Shards) shards.Add(new JsonObject { ["file"] = s.File, ["tokens"] = s.Tokens, ["documents"] = s.Documents });
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["tokenizer"] = new JsonObject { ["name"] = TokenizerName, ["fingerprint"] = TokenizerFingerprint, ["vocab_size"] = VocabularySize },
            ["separator_id"] = SeparatorId,
            ["documents"] = Documents,
            ["tokens"] = Tokens,
            ["shards"] = shards,
        };
        DurableFile.WriteAllText(Path.Combine(directory, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Reads the manifest of the shard folder <paramref name="directory"/>; errors say what to do.</summary>
    public static TokenShardManifest Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new InvalidDataException(
                $"{directory} has no {FileName}, so it is not a complete shard set (an interrupted `loom tokenize`, or shards from an older Loom). " +
                "Re-run `loom tokenize --output` into it with --overwrite, or pass a single shard file.");
        const string Redo = "Re-run `loom tokenize` with --overwrite to rewrite the shard set.";
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}). {Redo}", e); }
        try
        {
            if (root is not JsonObject o || (string?)o["format"] != Format)
                throw new InvalidDataException($"{path}: not a Loom shard manifest (\"format\" is not \"{Format}\"). {Redo}");
            int version = (int?)o["version"] ?? -1;
            if (version != Version) throw new InvalidDataException($"{path}: manifest version {version}; this Loom reads version {Version}. {Redo}");
            var tok = o["tokenizer"] as JsonObject ?? throw new InvalidDataException($"{path}: no \"tokenizer\" object. {Redo}");
            var list = new List<TokenShardEntry>();
            if (o["shards"] is not JsonArray shards) throw new InvalidDataException($"{path}: no \"shards\" array. {Redo}");
            foreach (var s in shards)
            {
                string file = (string?)s?["file"] ?? throw new InvalidDataException($"{path}: a shard entry has no \"file\". {Redo}");
                if (file.Length == 0 || Path.GetFileName(file) != file)
                    throw new InvalidDataException($"{path}: shard file \"{file}\" is not a plain file name in the manifest's folder. {Redo}");
                list.Add(new TokenShardEntry(file, (long?)s!["tokens"] ?? -1, (long?)s["documents"] ?? -1));
            }
            return new TokenShardManifest((string?)tok["name"] ?? "", (string?)tok["fingerprint"] ?? "", (int?)tok["vocab_size"] ?? -1,
                (int?)o["separator_id"] ?? -1, list);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            // A field of the wrong JSON type (a string where a number belongs).
            throw new InvalidDataException($"{path}: a field has the wrong type ({e.Message}). {Redo}", e);
        }
    }
}
