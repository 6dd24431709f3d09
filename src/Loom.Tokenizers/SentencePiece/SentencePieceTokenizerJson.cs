// Hugging Face tokenizer.json with "model": {"type": "Unigram"} — what transformers' SpmConverter/T5Converter
// write for T5, FLAN-T5, ALBERT, XLNet, mBART...: model.vocab as [piece, score] pairs, model.unk_id,
// model.byte_fallback; normalizer Precompiled (the sentencepiece charsmap, base64) and Replace, alone or in
// a Sequence; pre_tokenizer Metaspace (replacement, prepend_scheme or the older add_prefix_space, split),
// alone or in a Sequence; post_processor TemplateProcessing (T5: "$A </s>"); added_tokens matched in the
// raw text. HuggingFaceTokenizerJson (byte-level BPE) points here for Unigram files.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Reads Hugging Face tokenizer.json files whose model is Unigram into a <see cref="SentencePieceTokenizer"/>.</summary>
public static class SentencePieceTokenizerJson
{
    /// <summary>True when <paramref name="path"/> is a tokenizer.json whose model.type is "Unigram".</summary>
    public static bool IsUnigram(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            using var doc = JsonDocument.Parse(s);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.Object
                && m.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "Unigram";
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Loads a Unigram tokenizer.json.</summary>
    public static SentencePieceTokenizer Load(string path)
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
        var model = root["model"] as JsonObject ?? throw new FormatException($"{path}: model is missing or not an object.");
        if ((string?)model["type"] != "Unigram") throw new NotSupportedException($"{path}: model.type is \"{model["type"]}\"; this reader takes \"Unigram\" (byte-level BPE files load with HuggingFaceTokenizerJson).");
        var vocabNode = model["vocab"] as JsonArray ?? throw new FormatException($"{path}: model.vocab must be a list of [piece, score] pairs.");
        var vocab = new List<(string Piece, double Score)>(vocabNode.Count);
        for (int i = 0; i < vocabNode.Count; i++)
        {
            if (vocabNode[i] is not JsonArray { Count: 2 } pair || pair[0] is not JsonValue pv || !pv.TryGetValue(out string? piece)
                || pair[1] is not JsonValue sv || !sv.TryGetValue(out double score))
                throw new FormatException($"{path}: model.vocab[{i}] is {vocabNode[i]?.ToJsonString() ?? "null"}; it must be [piece, score].");
            vocab.Add((piece, score));
        }
        int unkId = model["unk_id"] is JsonValue u && u.TryGetValue(out int uid) ? uid
            : throw new NotSupportedException($"{path}: model.unk_id is missing or null; Loom needs a Unigram model with an unknown token.");
        if (unkId < 0 || unkId >= vocab.Count) throw new FormatException($"{path}: model.unk_id is {unkId}, outside the vocabulary (0..{vocab.Count - 1}).");
        bool byteFallback = model["byte_fallback"] is JsonValue bf && bf.TryGetValue(out bool b) && b;

        var added = new List<(string Content, int Id)>();
        var specialIds = new HashSet<int>();
        if (root["added_tokens"] is JsonArray addedNode)
        {
            for (int i = 0; i < addedNode.Count; i++)
            {
                var o = addedNode[i] as JsonObject ?? throw new FormatException($"{path}: added_tokens[{i}] must be an object.");
                string content = (string?)o["content"] ?? throw new FormatException($"{path}: added_tokens[{i}] has no content.");
                int id = (int?)o["id"] ?? throw new FormatException($"{path}: added_tokens[{i}] has no id.");
                added.Add((content, id));
                if ((bool?)o["special"] == true) specialIds.Add(id);
            }
        }

        byte[]? charsmap = null;
        var replaces = new List<(Regex?, string, string)>();
        ReadNormalizer(root["normalizer"], path, ref charsmap, replaces);
        string replacement = "\u2581", prepend = "always";
        bool split = true;
        ReadPreTokenizer(root["pre_tokenizer"], path, ref replacement, ref prepend, ref split);
        var (prefix, suffix) = ReadPostProcessor(root["post_processor"], path);

        // The same vocabulary as a sentencepiece ModelProto, so ids, pieces, special ids and decoding are shared.
        int Find(string piece) => vocab.FindIndex(v => v.Piece == piece);
        var pieces = new SentencePieceEntry[vocab.Count];
        for (int i = 0; i < vocab.Count; i++)
        {
            var type = i == unkId ? SentencePieceType.Unknown
                : byteFallback && SentencePieceVocabulary.ParseBytePiece(vocab[i].Piece) >= 0 ? SentencePieceType.Byte
                : specialIds.Contains(i) && vocab[i].Piece is "<s>" or "</s>" or "<pad>" or "<cls>" or "<sep>" or "<mask>" ? SentencePieceType.Control
                : specialIds.Contains(i) ? SentencePieceType.UserDefined
                : SentencePieceType.Normal;
            pieces[i] = new SentencePieceEntry(vocab[i].Piece, (float)vocab[i].Score, type);
        }
        bool allBytes = byteFallback && Enumerable.Range(0, 256).All(x => Find($"<0x{x:X2}>") >= 0);
        var file = new SentencePieceModelFile
        {
            Pieces = pieces,
            TrainerSpec = new SentencePieceTrainerSpec
            {
                ModelType = SentencePieceModelType.Unigram, VocabSize = vocab.Count, ByteFallback = allBytes,
                UnkId = unkId, UnkPiece = vocab[unkId].Piece,
                BosId = Find("<s>"), EosId = Find("</s>"), PadId = Find("<pad>"),
            },
            NormalizerSpec = new SentencePieceNormalizerSpec { Name = "tokenizer.json", PrecompiledCharsmap = charsmap ?? [], AddDummyPrefix = prepend != "never" },
        };
        var pipeline = new HuggingFaceUnigramPipeline(vocab, unkId, byteFallback, added, charsmap, replaces, replacement, prepend, split, prefix, suffix);
        return new SentencePieceTokenizer(file, null, path, pipeline);
    }

    private static void ReadNormalizer(JsonNode? node, string path, ref byte[]? charsmap, List<(Regex?, string, string)> replaces)
    {
        if (node is null) return;
        var o = node as JsonObject ?? throw new FormatException($"{path}: normalizer must be an object or null.");
        switch ((string?)o["type"])
        {
            case "Sequence":
                foreach (var n in o["normalizers"] as JsonArray ?? throw new FormatException($"{path}: normalizer Sequence has no normalizers list."))
                    ReadNormalizer(n, path, ref charsmap, replaces);
                break;
            case "Precompiled":
                string? b64 = (string?)o["precompiled_charsmap"];
                if (!string.IsNullOrEmpty(b64))
                {
                    try { charsmap = Convert.FromBase64String(b64); }
                    catch (FormatException e) { throw new FormatException($"{path}: normalizer Precompiled: precompiled_charsmap is not valid base64 ({e.Message}).", e); }
                }
                break;
            case "Replace":
                string content = (string?)o["content"] ?? "";
                if (o["pattern"] is JsonObject p && (string?)p["Regex"] is { } regex) replaces.Add((new Regex(regex, RegexOptions.CultureInvariant), "", content));
                else if (o["pattern"] is JsonObject q && (string?)q["String"] is { } literal) replaces.Add((null, literal, content));
                else throw new FormatException($"{path}: normalizer Replace needs pattern.Regex or pattern.String.");
                break;
            case var t:
                throw new NotSupportedException($"{path}: normalizer \"{t}\" is not supported for Unigram tokenizers; Loom reads Precompiled and Replace (what transformers' SentencePiece converters write).");
        }
    }

    private static void ReadPreTokenizer(JsonNode? node, string path, ref string replacement, ref string prepend, ref bool split)
    {
        if (node is null) throw new NotSupportedException($"{path}: no pre_tokenizer; a Unigram tokenizer.json needs Metaspace.");
        var o = node as JsonObject ?? throw new FormatException($"{path}: pre_tokenizer must be an object.");
        switch ((string?)o["type"])
        {
            case "Sequence":
                foreach (var n in o["pretokenizers"] as JsonArray ?? throw new FormatException($"{path}: pre_tokenizer Sequence has no pretokenizers list."))
                    ReadPreTokenizer(n, path, ref replacement, ref prepend, ref split);
                break;
            case "Metaspace":
                replacement = (string?)o["replacement"] ?? "\u2581";
                if ((string?)o["prepend_scheme"] is { } scheme) prepend = scheme;
                else if ((bool?)o["add_prefix_space"] is { } add) prepend = add ? "always" : "never";
                if (prepend is not ("always" or "first" or "never")) throw new FormatException($"{path}: Metaspace prepend_scheme \"{prepend}\" must be always, first or never.");
                split = (bool?)o["split"] ?? true;
                break;
            case "WhitespaceSplit":
                break; // Metaspace then splits on ▁; a whitespace split before it gives the same words for Unigram.
            case var t:
                throw new NotSupportedException($"{path}: pre_tokenizer \"{t}\" is not supported for Unigram tokenizers; Loom reads Metaspace.");
        }
    }

    private static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonNode? node, string path)
    {
        if (node is null) return ([], []);
        var o = node as JsonObject ?? throw new FormatException($"{path}: post_processor must be an object or null.");
        if ((string?)o["type"] != "TemplateProcessing")
            throw new NotSupportedException($"{path}: post_processor \"{o["type"]}\" is not supported for Unigram tokenizers; Loom reads TemplateProcessing.");
        var specials = o["special_tokens"] as JsonObject;
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        foreach (var item in o["single"] as JsonArray ?? [])
        {
            if (item is JsonObject io && io["Sequence"] is not null) { seenSequence = true; continue; }
            string? name = (string?)(item as JsonObject)?["SpecialToken"]?["id"];
            if (name is null) continue;
            var ids = specials?[name]?["ids"] as JsonArray ?? throw new FormatException($"{path}: post_processor.special_tokens has no ids for \"{name}\".");
            (seenSequence ? suffix : prefix).AddRange(ids.Select(i => (int)i!));
        }
        return (prefix.ToArray(), suffix.ToArray());
    }
}
