// Hugging Face tokenizer.json with a WordPiece model (BERT, DistilBERT, ELECTRA, …). Read:
//   model        {type: "WordPiece", vocab: {token: id}, unk_token, continuing_subword_prefix, max_input_chars_per_word}
//   normalizer   BertNormalizer {clean_text, handle_chinese_chars, strip_accents, lowercase} or null
//   pre_tokenizer BertPreTokenizer or null
//   post_processor TemplateProcessing {single, pair, special_tokens} | BertProcessing {sep, cls} or null
//   decoder      WordPiece {prefix, cleanup} or null
//   truncation   {max_length, strategy, direction} or null (stride > 0 is refused); padding {strategy, …} or null
//   added_tokens [{id, content, special, single_word, lstrip, rstrip, normalized}]
// Anything else (another model type, normalizer sequence, added tokens with lstrip/rstrip/single_word
// or normalized=true) is refused with an error naming the file and the field. Write: the same shape,
// which HF tokenizers opens (tests check the round trip through the npm package's fixtures).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PostProcessor;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Formats;

/// <summary>Reads and writes Hugging Face tokenizer.json files whose model is WordPiece.</summary>
public static class WordPieceTokenizerJson
{
    /// <summary>True when <paramref name="path"/> is a tokenizer.json whose model.type is "WordPiece" (cheap check for dispatch).</summary>
    public static bool IsWordPiece(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            using var doc = JsonDocument.Parse(s);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
                && model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && type.GetString() == "WordPiece";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Loads a tokenizer.json with a WordPiece model.</summary>
    public static WordPieceTokenizer Load(string path)
    {
        JsonObject root;
        try
        {
            using var s = File.OpenRead(path);
            root = JsonNode.Parse(s) as JsonObject ?? throw new InvalidDataException($"{path}: the file is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
        var r = new Reader(path);
        var model = r.Object(root, "model") ?? throw r.Error("model", "is missing");
        string type = r.String(model, "type", "model") ?? "WordPiece";
        if (type != "WordPiece")
            throw new NotSupportedException($"{path}: model.type \"{type}\" is not a WordPiece model; byte-level BPE files load with the BPE tokenizer.");
        var vocabNode = r.Object(model, "vocab", "model") ?? throw r.Error("model.vocab", "is missing");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode) vocab[token] = r.Int(id, $"model.vocab[\"{token}\"]");
        string unk = r.String(model, "unk_token", "model") ?? "[UNK]";
        string prefix = r.String(model, "continuing_subword_prefix", "model") ?? "##";
        int maxChars = r.OptionalInt(model, "max_input_chars_per_word", "model") ?? 100;
        if (maxChars < 0) throw r.Error("model.max_input_chars_per_word", $"is {maxChars}; it must be >= 0");
        var wordPiece = new WordPieceModel(vocab, unk, prefix, maxChars);

        BertNormalizer? normalizer = null;
        if (r.Object(root, "normalizer") is { } n)
        {
            string nt = r.String(n, "type", "normalizer") ?? "";
            if (nt != "BertNormalizer") throw new NotSupportedException($"{path}: normalizer.type \"{nt}\" is not supported; Loom reads BertNormalizer (or null).");
            normalizer = new BertNormalizer(new BertNormalizerOptions
            {
                CleanText = r.Bool(n, "clean_text", "normalizer") ?? true,
                HandleChineseChars = r.Bool(n, "handle_chinese_chars", "normalizer") ?? true,
                StripAccents = r.Bool(n, "strip_accents", "normalizer"),
                Lowercase = r.Bool(n, "lowercase", "normalizer") ?? true,
            });
        }

        BertPreTokenizer? pre = null;
        if (r.Object(root, "pre_tokenizer") is { } p)
        {
            string pt = r.String(p, "type", "pre_tokenizer") ?? "";
            if (pt != "BertPreTokenizer") throw new NotSupportedException($"{path}: pre_tokenizer.type \"{pt}\" is not supported; Loom reads BertPreTokenizer (or null).");
            pre = new BertPreTokenizer();
        }

        TemplatePostProcessor? post = null;
        if (r.Object(root, "post_processor") is { } pp) post = ReadPostProcessor(pp, r);

        WordPieceDecoder? decoder = null;
        if (r.Object(root, "decoder") is { } d)
        {
            string dt = r.String(d, "type", "decoder") ?? "";
            if (dt != "WordPiece") throw new NotSupportedException($"{path}: decoder.type \"{dt}\" is not supported; Loom reads the WordPiece decoder (or null).");
            decoder = new WordPieceDecoder(r.String(d, "prefix", "decoder") ?? "##", r.Bool(d, "cleanup", "decoder") ?? true);
        }

        var added = new List<(string, int, bool)>();
        if (root["added_tokens"] is JsonNode addedNode)
        {
            if (addedNode is not JsonArray arr) throw r.Error("added_tokens", "is not an array");
            for (int i = 0; i < arr.Count; i++)
            {
                string field = $"added_tokens[{i}]";
                var o = arr[i] as JsonObject ?? throw r.Error(field, "is not an object");
                string content = r.String(o, "content", field) ?? throw r.Error(field + ".content", "is missing");
                int id = r.OptionalInt(o, "id", field) ?? throw r.Error(field + ".id", "is missing");
                foreach (var flag in new[] { "single_word", "lstrip", "rstrip", "normalized" })
                    if (r.Bool(o, flag, field) == true)
                        throw new NotSupportedException($"{path}: {field} (\"{content}\") sets {flag}: true, which Loom does not support; Loom matches added tokens verbatim in the raw text.");
                if (string.IsNullOrEmpty(content)) throw r.Error(field + ".content", "is empty");
                added.Add((content, id, r.Bool(o, "special", field) ?? false));
            }
        }

        TruncationOptions? truncation = null;
        if (r.Object(root, "truncation") is { } t)
        {
            int stride = r.OptionalInt(t, "stride", "truncation") ?? 0;
            if (stride != 0) throw new NotSupportedException($"{path}: truncation.stride is {stride}; Loom does not produce overflowing windows (use 0).");
            int max = r.OptionalInt(t, "max_length", "truncation") ?? 512;
            if (max < 0) throw r.Error("truncation.max_length", $"is {max}; it must be >= 0");
            truncation = new TruncationOptions
            {
                MaxLength = max,
                Strategy = ParseStrategy(r.String(t, "strategy", "truncation") ?? "LongestFirst", r, "truncation.strategy"),
                FromLeft = (r.String(t, "direction", "truncation") ?? "Right") is "Left" or "left",
            };
        }

        PaddingOptions? padding = null;
        if (r.Object(root, "padding") is { } pad)
        {
            int? length = null;
            switch (pad["strategy"])
            {
                case null: break;
                case JsonValue v when v.TryGetValue<string>(out var sv) && sv == "BatchLongest": break;
                case JsonObject fixedObj when fixedObj["Fixed"] is JsonNode f: length = r.Int(f, "padding.strategy.Fixed"); break;
                default: throw r.Error("padding.strategy", "is neither \"BatchLongest\" nor {\"Fixed\": n}");
            }
            if (length < 0) throw r.Error("padding.strategy.Fixed", $"is {length}; it must be >= 0");
            padding = new PaddingOptions
            {
                Length = length,
                PadToMultipleOf = r.OptionalInt(pad, "pad_to_multiple_of", "padding"),
                PadId = r.OptionalInt(pad, "pad_id", "padding") ?? 0,
                PadTypeId = r.OptionalInt(pad, "pad_type_id", "padding") ?? 0,
                PadToken = r.String(pad, "pad_token", "padding") ?? "[PAD]",
                Left = (r.String(pad, "direction", "padding") ?? "Right") is "Left" or "left",
            };
        }

        return new WordPieceTokenizer(wordPiece, normalizer, pre, post, decoder, added) { Truncation = truncation, Padding = padding };
    }

    /// <summary>Parses "LongestFirst"/"longest_first", "OnlyFirst"/"only_first", "OnlySecond"/"only_second".</summary>
    public static TruncationStrategy ParseStrategy(string text, string name) => ParseStrategy(text, new Reader(name), name);

    private static TruncationStrategy ParseStrategy(string text, Reader r, string field) => text switch
    {
        "LongestFirst" or "longest_first" => TruncationStrategy.LongestFirst,
        "OnlyFirst" or "only_first" => TruncationStrategy.OnlyFirst,
        "OnlySecond" or "only_second" => TruncationStrategy.OnlySecond,
        _ => throw r.Error(field, $"is \"{text}\"; use longest_first, only_first or only_second"),
    };

    private static TemplatePostProcessor ReadPostProcessor(JsonObject pp, Reader r)
    {
        string type = r.String(pp, "type", "post_processor") ?? "";
        if (type == "BertProcessing")
        {
            var (sep, sepId) = TokenPair(pp, "sep", r);
            var (cls, clsId) = TokenPair(pp, "cls", r);
            return TemplatePostProcessor.Bert(cls, clsId, sep, sepId);
        }
        if (type != "TemplateProcessing")
            throw new NotSupportedException($"{r.Path}: post_processor.type \"{type}\" is not supported; Loom reads TemplateProcessing and BertProcessing (or null).");
        var specials = new Dictionary<string, (int[], string[])>(StringComparer.Ordinal);
        if (r.Object(pp, "special_tokens", "post_processor") is { } st)
        {
            foreach (var (name, node) in st)
            {
                string field = $"post_processor.special_tokens[\"{name}\"]";
                var o = node as JsonObject ?? throw r.Error(field, "is not an object");
                var ids = (o["ids"] as JsonArray ?? throw r.Error(field + ".ids", "is missing")).Select((x, i) => r.Int(x, $"{field}.ids[{i}]")).ToArray();
                var tokens = (o["tokens"] as JsonArray ?? throw r.Error(field + ".tokens", "is missing")).Select((x, i) => r.StringValue(x, $"{field}.tokens[{i}]")).ToArray();
                if (ids.Length != tokens.Length) throw r.Error(field, $"has {ids.Length} ids but {tokens.Length} tokens");
                specials[name] = (ids, tokens);
            }
        }
        var single = Template(pp["single"], "post_processor.single", r);
        var pair = Template(pp["pair"], "post_processor.pair", r);
        try
        {
            return new TemplatePostProcessor(single, pair, specials);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{r.Path}: post_processor: {e.Message}", e);
        }
    }

    private static (string, int) TokenPair(JsonObject o, string name, Reader r)
    {
        if (o[name] is not JsonArray { Count: 2 } a) throw r.Error($"post_processor.{name}", "is not [token, id]");
        return (r.StringValue(a[0], $"post_processor.{name}[0]"), r.Int(a[1], $"post_processor.{name}[1]"));
    }

    private static List<TemplatePiece> Template(JsonNode? node, string field, Reader r)
    {
        if (node is not JsonArray arr) throw r.Error(field, "is missing or not an array");
        var pieces = new List<TemplatePiece>();
        for (int i = 0; i < arr.Count; i++)
        {
            string f = $"{field}[{i}]";
            if (arr[i] is JsonObject o && o["SpecialToken"] is JsonObject sp)
                pieces.Add(TemplatePiece.Special(r.String(sp, "id", f + ".SpecialToken") ?? throw r.Error(f + ".SpecialToken.id", "is missing"),
                    r.OptionalInt(sp, "type_id", f + ".SpecialToken") ?? 0));
            else if (arr[i] is JsonObject o2 && o2["Sequence"] is JsonObject sq)
            {
                string id = r.String(sq, "id", f + ".Sequence") ?? "A";
                int seq = id switch { "A" => 0, "B" => 1, _ => throw r.Error(f + ".Sequence.id", $"is \"{id}\"; use A or B") };
                pieces.Add(TemplatePiece.Input(seq, r.OptionalInt(sq, "type_id", f + ".Sequence") ?? 0));
            }
            else throw r.Error(f, "is neither {\"SpecialToken\": …} nor {\"Sequence\": …}");
        }
        return pieces;
    }

    /// <summary>Writes <paramref name="tokenizer"/> as a tokenizer.json Hugging Face tokenizers opens (crash-safe write).</summary>
    public static void Save(WordPieceTokenizer tokenizer, string path)
    {
        var root = new JsonObject { ["version"] = "1.0" };
        root["truncation"] = tokenizer.Truncation is { } t ? new JsonObject
        {
            ["direction"] = t.FromLeft ? "Left" : "Right",
            ["max_length"] = t.MaxLength,
            ["strategy"] = t.Strategy.ToString(),
            ["stride"] = 0,
        } : null;
        root["padding"] = tokenizer.Padding is { } p ? new JsonObject
        {
            ["strategy"] = p.Length is { } len ? new JsonObject { ["Fixed"] = len } : JsonValue.Create("BatchLongest"),
            ["direction"] = p.Left ? "Left" : "Right",
            ["pad_to_multiple_of"] = p.PadToMultipleOf,
            ["pad_id"] = p.PadId,
            ["pad_type_id"] = p.PadTypeId,
            ["pad_token"] = p.PadToken,
        } : null;
        var added = new JsonArray();
        foreach (var (content, id, special) in tokenizer.AddedTokens.OrderBy(a => a.Id))
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = special,
            });
        root["added_tokens"] = added;
        root["normalizer"] = tokenizer.Normalizer is { } n ? new JsonObject
        {
            ["type"] = "BertNormalizer",
            ["clean_text"] = n.Options.CleanText,
            ["handle_chinese_chars"] = n.Options.HandleChineseChars,
            ["strip_accents"] = n.Options.StripAccents,
            ["lowercase"] = n.Options.Lowercase,
        } : null;
        root["pre_tokenizer"] = tokenizer.PreTokenizer is not null ? new JsonObject { ["type"] = "BertPreTokenizer" } : null;
        root["post_processor"] = tokenizer.PostProcessor is { } pp ? WriteTemplate(pp) : null;
        root["decoder"] = tokenizer.Decoder is { } d ? new JsonObject { ["type"] = "WordPiece", ["prefix"] = d.Prefix, ["cleanup"] = d.Cleanup } : null;
        var vocab = new JsonObject();
        foreach (var (token, id) in tokenizer.Model.Vocabulary.OrderBy(kv => kv.Value)) vocab[token] = id;
        root["model"] = new JsonObject
        {
            ["type"] = "WordPiece",
            ["unk_token"] = tokenizer.Model.UnknownToken,
            ["continuing_subword_prefix"] = tokenizer.Model.ContinuingSubwordPrefix,
            ["max_input_chars_per_word"] = tokenizer.Model.MaxInputCharsPerWord,
            ["vocab"] = vocab,
        };
        DurableFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    private static JsonObject WriteTemplate(TemplatePostProcessor pp)
    {
        JsonArray Pieces(IEnumerable<TemplatePiece> pieces) => new(pieces.Select(p => (JsonNode)(p.SpecialToken is { } s
            ? new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = s, ["type_id"] = p.TypeId } }
            : new JsonObject { ["Sequence"] = new JsonObject { ["id"] = p.Sequence == 0 ? "A" : "B", ["type_id"] = p.TypeId } })).ToArray());
        var specials = new JsonObject();
        foreach (var (name, (ids, tokens)) in pp.SpecialTokens)
            specials[name] = new JsonObject
            {
                ["id"] = name,
                ["ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
                ["tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray()),
            };
        return new JsonObject { ["type"] = "TemplateProcessing", ["single"] = Pieces(pp.Single), ["pair"] = Pieces(pp.Pair), ["special_tokens"] = specials };
    }

    // Typed access to JSON fields with errors that name the file and the field as written in it.
    private sealed class Reader(string path)
    {
        public string Path => path;

        public InvalidDataException Error(string field, string problem) => new($"{path}: {field} {problem}.");

        public JsonObject? Object(JsonObject o, string name, string? parent = null) => o[name] switch
        {
            null => null,
            JsonObject x => x,
            _ => throw Error(Qualify(parent, name), "is not an object"),
        };

        public string? String(JsonObject o, string name, string parent) => o[name] is null ? null : StringValue(o[name], Qualify(parent, name));

        public string StringValue(JsonNode? node, string field) =>
            node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Error(field, "is not a string");

        public bool? Bool(JsonObject o, string name, string parent) => o[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            _ => throw Error(Qualify(parent, name), "is not true, false or null"),
        };

        public int? OptionalInt(JsonObject o, string name, string parent) => o[name] is null ? null : Int(o[name], Qualify(parent, name));

        public int Int(JsonNode? node, string field)
        {
            if (node is JsonValue v)
            {
                if (v.TryGetValue<int>(out int i)) return i;
                if (v.TryGetValue<long>(out _) || v.TryGetValue<double>(out _)) throw Error(field, $"is {v.ToJsonString()}; it must be a whole number that fits in 32 bits");
            }
            throw Error(field, node is null ? "is null; it must be a whole number" : $"is {node.ToJsonString()}; it must be a whole number");
        }

        private static string Qualify(string? parent, string name) => parent is null ? name : $"{parent}.{name}";
    }
}
