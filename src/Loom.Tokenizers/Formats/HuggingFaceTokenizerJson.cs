// Hugging Face tokenizers' tokenizer.json for byte-level BPE models (GPT-2, RoBERTa, Llama 3,
// tiktoken conversions). Read: model.type "BPE" with vocab + merges (strings "a b" or pairs
// ["a","b"]), pre_tokenizer ByteLevel (use_regex → GPT-2's pattern) or a Sequence of
// Split(Regex, Isolated) + ByteLevel(use_regex=false), and added_tokens with special=true.
// Write: the same shape, so a Loom tokenizer opens in HF tokenizers.
using Loom.Core.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Tokenizers.Model;

namespace Loom.Tokenizers.Formats;

/// <summary>Reads and writes Hugging Face tokenizer.json (byte-level BPE).</summary>
public static class HuggingFaceTokenizerJson
{
    /// <summary>Loads a tokenizer.json file.</summary>
    public static BpeTokenizer Load(string path)
    {
        JsonNode root;
        try
        {
            using var s = File.OpenRead(path);
            root = JsonNode.Parse(s) ?? throw new FormatException($"{path}: empty JSON.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
        var model = root["model"] as JsonObject ?? throw new FormatException($"{path}: {Kind(root["model"], "model")}; it must be an object with type, vocab and merges.");
        string type = Str(model["type"], "model.type", path) ?? "BPE";
        if (type == "Unigram")
            throw new NotSupportedException($"{path}: model type \"Unigram\" is a SentencePiece tokenizer; load it with Loom.Tokenizers.SentencePiece.SentencePieceTokenizer.Load (loom tokenizer encode does so itself).");
        if (type != "BPE") throw new NotSupportedException($"{path}: model type \"{type}\" is not supported; Loom reads byte-level BPE tokenizers.");
        var vocabNode = model["vocab"] as JsonObject ?? throw new FormatException($"{path}: {Kind(model["vocab"], "model.vocab")}; it must be an object mapping each token to its id.");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (k, v) in vocabNode) vocab[k] = Int(v, $"model.vocab[\"{k}\"]", path) ?? throw new FormatException($"{path}: model.vocab[\"{k}\"] has no id.");
        var merges = new List<(string, string)>();
        if (model["merges"] is JsonArray mergeArray)
        {
            for (int i = 0; i < mergeArray.Count; i++)
            {
                var m = mergeArray[i];
                if (m is JsonArray pair && pair.Count == 2 && pair[0] is JsonValue l && l.TryGetValue(out string? left) && pair[1] is JsonValue r && r.TryGetValue(out string? right))
                    merges.Add((left, right));
                else if (m is JsonValue v && v.TryGetValue(out string? str) && str.IndexOf(' ') is int sp && sp > 0)
                    merges.Add((str[..sp], str[(sp + 1)..]));
                else throw new FormatException($"{path}: model.merges[{i}] is neither \"left right\" nor [left, right].");
            }
        }
        else if (model["merges"] is { } notList)
            throw new FormatException($"{path}: {Kind(notList, "model.merges")}; it must be a list of merges (\"left right\" or [left, right]).");
        string pattern = ReadPattern(root["pre_tokenizer"], path);
        var specials = new Dictionary<string, int>();
        if (root["added_tokens"] is JsonArray added)
        {
            for (int i = 0; i < added.Count; i++)
                if (added[i] is JsonObject o && Bool(o["special"], $"added_tokens[{i}].special", path) == true)
                    specials[Str(o["content"], $"added_tokens[{i}].content", path) ?? throw new FormatException($"{path}: added_tokens[{i}] has no content.")] =
                        Int(o["id"], $"added_tokens[{i}].id", path) ?? throw new FormatException($"{path}: added_tokens[{i}] has no id.");
        }
        else if (root["added_tokens"] is { } notAdded)
            throw new FormatException($"{path}: {Kind(notAdded, "added_tokens")}; it must be a list of token objects.");
        string name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "tokenizer";
        return Gpt2VocabFiles.Build(name, vocab, merges, path, path, pattern, specials);
    }

    // Typed reads of tokenizer.json fields: a value of the wrong JSON type is an error naming the field
    // and what it holds, instead of .NET's "An element of type 'Number' cannot be converted to a 'System.String'".
    private static string? Str(JsonNode? node, string field, string path) =>
        node is null ? null : node is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new FormatException($"{path}: {Kind(node, field)}; it must be a string.");

    private static int? Int(JsonNode? node, string field, string path) =>
        node is null ? null : node is JsonValue v && v.TryGetValue(out int i) ? i
            : node is JsonValue w && w.TryGetValue(out long _) ? throw new FormatException($"{path}: {field} is {node.ToJsonString()}; it must be an id from 0 to {int.MaxValue}.")
            : throw new FormatException($"{path}: {Kind(node, field)}; it must be a whole number (an id).");

    private static bool? Bool(JsonNode? node, string field, string path) =>
        node is null ? null : node is JsonValue v && v.TryGetValue(out bool b) ? b
            : throw new FormatException($"{path}: {Kind(node, field)}; it must be true or false.");

    private static string Kind(JsonNode? node, string field) => node switch
    {
        null => $"{field} is missing",
        JsonObject => $"{field} is an object",
        JsonArray => $"{field} is a list",
        _ => $"{field} is {node.ToJsonString()}",
    };

    private static string ReadPattern(JsonNode? pre, string path)
    {
        if (pre is not null and not JsonObject) throw new FormatException($"{path}: {Kind(pre, "pre_tokenizer")}; it must be an object with a type.");
        switch (Str(pre?["type"], "pre_tokenizer.type", path))
        {
            case "ByteLevel":
                if (Bool(pre!["add_prefix_space"], "pre_tokenizer.add_prefix_space", path) == true)
                    throw new NotSupportedException($"{path}: ByteLevel add_prefix_space=true is not supported yet; set it to false.");
                if (Bool(pre["use_regex"], "pre_tokenizer.use_regex", path) == false)
                    throw new NotSupportedException($"{path}: a ByteLevel pre-tokenizer without a regex is not supported.");
                return Gpt2VocabFiles.Pattern;
            case "Sequence":
                string? pattern = null;
                if (pre!["pretokenizers"] is not JsonArray steps)
                    throw new FormatException($"{path}: {Kind(pre["pretokenizers"], "pre_tokenizer.pretokenizers")}; it must be a list of pre-tokenizers.");
                for (int i = 0; i < steps.Count; i++)
                {
                    var step = steps[i] as JsonObject ?? throw new FormatException($"{path}: {Kind(steps[i], $"pre_tokenizer.pretokenizers[{i}]")}; it must be an object with a type.");
                    string at = $"pre_tokenizer.pretokenizers[{i}]";
                    string? t = Str(step["type"], at + ".type", path);
                    if (t == "Split")
                    {
                        pattern = (step["pattern"] is JsonObject p ? Str(p["Regex"], at + ".pattern.Regex", path) : null)
                            ?? throw new NotSupportedException($"{path}: only Split with a Regex pattern is supported.");
                        if (Str(step["behavior"], at + ".behavior", path) is { } b && b != "Isolated")
                            throw new NotSupportedException($"{path}: Split behavior \"{b}\" is not supported; Loom supports \"Isolated\".");
                    }
                    else if (t == "ByteLevel")
                    {
                        if (Bool(step["add_prefix_space"], at + ".add_prefix_space", path) == true) throw new NotSupportedException($"{path}: ByteLevel add_prefix_space=true is not supported yet.");
                        if (Bool(step["use_regex"], at + ".use_regex", path) != false) pattern ??= Gpt2VocabFiles.Pattern;
                    }
                    else throw new NotSupportedException($"{path}: pre-tokenizer \"{t}\" in the Sequence is not supported.");
                }
                return pattern ?? throw new FormatException($"{path}: the pre-tokenizer Sequence has no Split or ByteLevel regex.");
            case null:
                throw new NotSupportedException($"{path}: no pre_tokenizer; Loom needs a byte-level pre-tokenizer.");
            case var other:
                throw new NotSupportedException($"{path}: pre-tokenizer \"{other}\" is not supported.");
        }
    }

    /// <summary>Writes <paramref name="tokenizer"/> as tokenizer.json with explicit merges.</summary>
    public static void Save(BpeTokenizer tokenizer, string path, IReadOnlyList<(byte[] Left, byte[] Right)>? merges = null)
    {
        merges ??= RecoverMerges(tokenizer.Tokens);
        var vocab = new JsonObject();
        foreach (var (bytes, id, _) in tokenizer.Tokens.Entries().OrderBy(e => e.Id)) vocab[ByteLevelAlphabet.Encode(bytes)] = id;
        var mergeArray = new JsonArray();
        foreach (var (l, r) in merges) mergeArray.Add(new JsonArray(ByteLevelAlphabet.Encode(l), ByteLevelAlphabet.Encode(r)));
        var added = new JsonArray();
        foreach (var (text, id) in tokenizer.SpecialTokens.OrderBy(s => s.Value))
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = text, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        JsonNode preTokenizer = tokenizer.PreTokenizer.Pattern == Gpt2VocabFiles.Pattern
            ? ByteLevel(useRegex: true)
            : new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = tokenizer.PreTokenizer.Pattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    ByteLevel(useRegex: false)),
            };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = ByteLevel(useRegex: true),
            ["decoder"] = ByteLevel(useRegex: true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };
        DurableFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    private static JsonObject ByteLevel(bool useRegex) => new()
    {
        ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex,
    };

    /// <summary>
    /// Recovers the merge list from ranks (as HF's tiktoken converter does): each multi-byte token,
    /// in rank order, is BPE-encoded using only lower-ranked merges, which leaves exactly two parts.
    /// </summary>
    public static List<(byte[] Left, byte[] Right)> RecoverMerges(TokenTable table)
    {
        var merges = new List<(byte[], byte[])>();
        foreach (var (bytes, _, rank) in table.Entries().Where(e => e.Bytes.Length > 1 && e.Rank < int.MaxValue - 1).OrderBy(e => e.Rank))
        {
            var parts = BytePairMerger.Split(table, bytes, rank);
            if (parts.Count == 2) merges.Add((bytes[..parts[0]], bytes[parts[0]..]));
        }
        return merges;
    }
}
