// BERT's original files: vocab.txt (one token per line, id = line number) and, when present next to
// it, transformers' tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
// model_max_length, unk/sep/pad/cls/mask tokens, added_tokens_decoder) and special_tokens_map.json.
// The pipeline built from them is the one transformers' BertTokenizerFast builds (convert_slow_tokenizer's
// BertConverter): BertNormalizer(clean_text, tokenize_chinese_chars, strip_accents, do_lower_case) →
// BertPreTokenizer → WordPiece(unk) → "[CLS]:0 $A:0 [SEP]:0" / "… $B:1 [SEP]:1" → WordPiece decoder,
// with the special tokens matched verbatim in the raw text.
// vocab.txt is read as HF's WordPiece::read_file: lines split on '\n' only, trailing whitespace trimmed,
// a repeated token keeps its last line number.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PostProcessor;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Formats;

/// <summary>Reads and writes BERT's vocab.txt (+ tokenizer_config.json).</summary>
public static class BertVocabFiles
{
    /// <summary>Reads vocab.txt as HF's WordPiece::read_file (token → line number).</summary>
    public static Dictionary<string, int> ReadVocab(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: not valid UTF-8 (byte {e.Index}); vocab.txt must be UTF-8, one token per line.", e);
        }
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int line = 0, start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl;
            vocab[text.AsSpan(start, end - start).TrimEnd().ToString()] = line++;
            start = end + 1;
        }
        if (vocab.Count == 0) throw new InvalidDataException($"{path}: the vocabulary is empty; vocab.txt needs one token per line.");
        return vocab;
    }

    /// <summary>Reads tokenizer_config.json (and special_tokens_map.json) from <paramref name="directory"/>; defaults where absent.</summary>
    public static BertVocabOptions ReadConfig(string directory)
    {
        var options = new BertVocabOptions();
        string config = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(config))
        {
            var o = ParseObject(config);
            options = options with
            {
                DoLowerCase = Bool(o, "do_lower_case", config) ?? options.DoLowerCase,
                StripAccents = Bool(o, "strip_accents", config),
                TokenizeChineseChars = Bool(o, "tokenize_chinese_chars", config) ?? options.TokenizeChineseChars,
                ModelMaxLength = MaxLength(o, config),
            };
            options = WithSpecials(options, o, config);
        }
        string map = Path.Combine(directory, "special_tokens_map.json");
        if (File.Exists(map)) options = WithSpecials(options, ParseObject(map), map);
        return options;
    }

    /// <summary>Loads vocab.txt (a file, or a directory holding it) with the tokenizer_config.json beside it.</summary>
    public static WordPieceTokenizer Load(string path)
    {
        string vocabPath = Directory.Exists(path) ? Path.Combine(path, "vocab.txt") : path;
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"{vocabPath}: no vocab.txt here; give a BERT tokenizer directory or its vocab.txt.", vocabPath);
        string directory = Path.GetDirectoryName(Path.GetFullPath(vocabPath))!;
        return Build(ReadVocab(vocabPath), ReadConfig(directory), vocabPath);
    }

    /// <summary>Builds the BertTokenizerFast pipeline for a vocabulary; specials missing from it get ids after the last one.</summary>
    public static WordPieceTokenizer Build(IReadOnlyDictionary<string, int> vocab, BertVocabOptions options, string source = "vocab.txt")
    {
        int next = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        var added = new List<(string, int, bool)>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var special in new[] { options.PadToken, options.UnkToken, options.ClsToken, options.SepToken, options.MaskToken })
        {
            if (ids.ContainsKey(special)) continue;
            int id = vocab.TryGetValue(special, out int v) ? v : next++;
            ids[special] = id;
            added.Add((special, id, true));
        }
        added.Sort((a, b) => a.Item2.CompareTo(b.Item2));
        var model = new WordPieceModel(vocab, options.UnkToken);
        var normalizer = new BertNormalizer(new BertNormalizerOptions
        {
            CleanText = true,
            HandleChineseChars = options.TokenizeChineseChars,
            StripAccents = options.StripAccents,
            Lowercase = options.DoLowerCase,
        });
        var post = TemplatePostProcessor.Bert(options.ClsToken, ids[options.ClsToken], options.SepToken, ids[options.SepToken]);
        return new WordPieceTokenizer(model, normalizer, new BertPreTokenizer(), post, new WordPieceDecoder(), added)
        {
            ModelMaxLength = options.ModelMaxLength,
        };
    }

    /// <summary>Writes vocab.txt (ids must be dense 0..n-1) and tokenizer_config.json into <paramref name="directory"/>.</summary>
    public static void Save(IReadOnlyList<string> tokens, BertVocabOptions options, string directory)
    {
        Directory.CreateDirectory(directory);
        DurableFile.WriteAllText(Path.Combine(directory, "vocab.txt"), string.Concat(tokens.Select(t => t + "\n")));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = options.DoLowerCase,
            ["strip_accents"] = options.StripAccents,
            ["tokenize_chinese_chars"] = options.TokenizeChineseChars,
            ["model_max_length"] = options.ModelMaxLength ?? 512,
            ["unk_token"] = options.UnkToken,
            ["sep_token"] = options.SepToken,
            ["pad_token"] = options.PadToken,
            ["cls_token"] = options.ClsToken,
            ["mask_token"] = options.MaskToken,
        };
        DurableFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonObject ParseObject(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            return JsonNode.Parse(s) as JsonObject ?? throw new InvalidDataException($"{path}: the file is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
    }

    private static bool? Bool(JsonObject o, string name, string path) => o[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var x => throw new InvalidDataException($"{path}: {name} is {x.ToJsonString()}; it must be true, false or null."),
    };

    private static int? MaxLength(JsonObject o, string path)
    {
        if (o["model_max_length"] is not JsonValue v) return o["model_max_length"] is null ? null
            : throw new InvalidDataException($"{path}: model_max_length is not a number.");
        if (!v.TryGetValue<double>(out double d)) throw new InvalidDataException($"{path}: model_max_length is {v.ToJsonString()}; it must be a number.");
        if (d < 1 || d != Math.Floor(d)) throw new InvalidDataException($"{path}: model_max_length is {v.ToJsonString()}; it must be a positive whole number.");
        // transformers writes 1e30 for "no limit".
        return d > int.MaxValue ? null : (int)d;
    }

    private static BertVocabOptions WithSpecials(BertVocabOptions options, JsonObject o, string path) => options with
    {
        UnkToken = Special(o, "unk_token", path) ?? options.UnkToken,
        SepToken = Special(o, "sep_token", path) ?? options.SepToken,
        PadToken = Special(o, "pad_token", path) ?? options.PadToken,
        ClsToken = Special(o, "cls_token", path) ?? options.ClsToken,
        MaskToken = Special(o, "mask_token", path) ?? options.MaskToken,
    };

    // A special token is a string or transformers' AddedToken object {"content": "[MASK]", ...}.
    private static string? Special(JsonObject o, string name, string path)
    {
        string? value = o[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject added when added["content"] is JsonValue c && c.TryGetValue<string>(out var s) => s,
            var x => throw new InvalidDataException($"{path}: {name} is {x.ToJsonString()}; it must be a string or {{\"content\": \"...\"}}."),
        };
        if (value is "") throw new InvalidDataException($"{path}: {name} is empty; give the token text, e.g. \"[UNK]\".");
        return value;
    }
}
