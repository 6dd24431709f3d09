// Loom's WordPiece tokenizer against Hugging Face's own (npm tokenizers, the Rust library's Node
// binding) on every vector of Fixtures/wordpiece/vectors.json (made by node/make_wordpiece_vectors.mjs):
// ids, type ids, attention and special-token masks, tokens and offsets must be equal, for 15
// configurations (cased/uncased, accents, CJK, clean_text, max word length, truncation strategies and
// directions, fixed/multiple-of/left padding) over accents, CJK, emoji, control and zero-width
// characters, words over 100 characters, punctuation runs, empty and whitespace-only input, pairs and
// a 1000-line slice of tiny Shakespeare. HF errors (a truncation that cannot fit) must be errors here.
using System.Text.Json;
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PostProcessor;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Tests.WordPiece;

public sealed class WordPieceConformanceTests
{
    private static readonly JsonElement s_fixture = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("wordpiece", "vectors.json"))).RootElement;
    private static readonly Dictionary<string, int> s_vocab = BertVocabFiles.ReadVocab(Fixtures.Path("wordpiece", "loom_vocab", "vocab.txt"));

    // The pipeline transformers' BertTokenizerFast builds, with one fixture configuration applied.
    internal static WordPieceTokenizer Build(JsonElement config, bool batchPadding = false)
    {
        bool? Flag(string name) => config.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetBoolean() : null;
        int maxChars = config.TryGetProperty("max_input_chars_per_word", out var m) ? m.GetInt32() : 100;
        var model = new WordPieceModel(s_vocab, "[UNK]", "##", maxChars);
        var normalizer = new BertNormalizer(new BertNormalizerOptions
        {
            CleanText = Flag("clean_text") ?? true,
            HandleChineseChars = Flag("handle_chinese_chars") ?? true,
            StripAccents = Flag("strip_accents"),
            Lowercase = Flag("lowercase") ?? true,
        });
        var post = TemplatePostProcessor.Bert("[CLS]", s_vocab["[CLS]"], "[SEP]", s_vocab["[SEP]"]);
        var specials = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Select(s => (s, s_vocab[s], true)).ToList();
        TruncationOptions? truncation = null;
        if (config.TryGetProperty("truncation", out var t))
            truncation = new TruncationOptions
            {
                MaxLength = t.GetProperty("max_length").GetInt32(),
                Strategy = WordPieceTokenizerJson.ParseStrategy(t.TryGetProperty("strategy", out var s) ? s.GetString()! : "longest_first", "strategy"),
                FromLeft = t.TryGetProperty("direction", out var d) && d.GetString() == "left",
            };
        PaddingOptions? padding = batchPadding ? new PaddingOptions { PadId = s_vocab["[PAD]"] } : null;
        if (config.TryGetProperty("padding", out var p))
            padding = new PaddingOptions
            {
                Length = p.TryGetProperty("length", out var l) ? l.GetInt32() : null,
                PadToMultipleOf = p.TryGetProperty("pad_to_multiple_of", out var mm) ? mm.GetInt32() : null,
                PadId = s_vocab["[PAD]"],
                Left = p.TryGetProperty("direction", out var pd) && pd.GetString() == "left",
            };
        return new WordPieceTokenizer(model, normalizer, new BertPreTokenizer(), post, new WordPieceDecoder(), specials)
        {
            Truncation = truncation,
            Padding = padding,
        };
    }

    private static JsonElement Config(string name) => name switch
    {
        _ => JsonDocument.Parse(ConfigJson[name]).RootElement,
    };

    // The configurations of make_wordpiece_vectors.mjs, by name.
    private static readonly Dictionary<string, string> ConfigJson = new()
    {
        ["uncased"] = "{}",
        ["cased"] = """{"lowercase": false}""",
        ["lower_keep_accents"] = """{"lowercase": true, "strip_accents": false}""",
        ["cased_strip_accents"] = """{"lowercase": false, "strip_accents": true}""",
        ["no_chinese"] = """{"handle_chinese_chars": false}""",
        ["no_clean"] = """{"clean_text": false}""",
        ["max_chars_10"] = """{"max_input_chars_per_word": 10}""",
        ["trunc16"] = """{"truncation": {"max_length": 16}}""",
        ["trunc11_left"] = """{"truncation": {"max_length": 11, "direction": "left"}}""",
        ["trunc13_only_first"] = """{"truncation": {"max_length": 13, "strategy": "only_first"}}""",
        ["trunc13_only_second"] = """{"truncation": {"max_length": 13, "strategy": "only_second"}}""",
        ["trunc3"] = """{"truncation": {"max_length": 3}}""",
        ["pad24"] = """{"padding": {"length": 24}}""",
        ["pad_multiple8"] = """{"padding": {"pad_to_multiple_of": 8}}""",
        ["pad24_left_trunc20"] = """{"padding": {"length": 24, "direction": "left"}, "truncation": {"max_length": 20}}""",
    };

    // HF's Node binding reports offsets in code points; Loom's are UTF-16 units of the same string.
    private static int Utf16Offset(string s, int codePoints)
    {
        int i = 0;
        for (int n = 0; n < codePoints; n++) i += char.IsSurrogatePair(s, i) ? 2 : 1;
        return i;
    }

    private static string? CheckVector(WordPieceTokenizer tokenizer, JsonElement v, string label)
    {
        string text = v.GetProperty("text").GetString()!;
        string? pair = v.GetProperty("pair").ValueKind == JsonValueKind.Null ? null : v.GetProperty("pair").GetString();
        bool add = v.GetProperty("add_special_tokens").GetBoolean();
        if (v.TryGetProperty("error", out var err))
        {
            try
            {
                tokenizer.Encode(text, pair, add);
                return $"{label}: HF fails ({err.GetString()}) but Loom encoded it";
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
        var e = tokenizer.Encode(text, pair, add);
        return Compare(e, v, text, pair, label);
    }

    private static string? Compare(WordPieceEncoding e, JsonElement v, string text, string? pair, string label)
    {
        int[] Ints(string name) => v.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var tokens = v.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray();
        string Show() => $"{label} text {JsonSerializer.Serialize(text)} pair {JsonSerializer.Serialize(pair)}\n  HF   {string.Join(" ", tokens)}\n  Loom {string.Join(" ", e.Tokens)}";
        if (!Ints("ids").SequenceEqual(e.Ids)) return "ids differ: " + Show();
        if (!tokens.SequenceEqual(e.Tokens)) return "tokens differ: " + Show();
        if (!Ints("type_ids").SequenceEqual(e.TypeIds)) return "type ids differ: " + Show();
        if (!Ints("attention_mask").SequenceEqual(e.AttentionMask)) return "attention mask differs: " + Show();
        if (!Ints("special_tokens_mask").SequenceEqual(e.SpecialTokensMask)) return "special tokens mask differs: " + Show();
        var typeIds = e.TypeIds;
        int k = 0;
        foreach (var o in v.GetProperty("offsets").EnumerateArray())
        {
            string source = typeIds[k] == 1 && pair is not null ? pair : text;
            var expected = (Utf16Offset(source, o[0].GetInt32()), Utf16Offset(source, o[1].GetInt32()));
            if (e.Offsets[k] != expected) return $"offset of token {k} ('{e.Tokens[k]}') is {e.Offsets[k]}, HF {expected}: " + Show();
            k++;
        }
        return null;
    }

    [Fact]
    public void EveryVectorEqualsHuggingFace()
    {
        var failures = new List<string>();
        var tokenizers = ConfigJson.Keys.ToDictionary(k => k, k => Build(Config(k)));
        int count = 0;
        foreach (var v in s_fixture.GetProperty("vectors").EnumerateArray())
        {
            string config = v.GetProperty("config").GetString()!;
            if (CheckVector(tokenizers[config], v, config) is { } failure) failures.Add(failure);
            count++;
        }
        Assert.True(count > 700, $"only {count} vectors");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} vectors differ from HF:\n{string.Join("\n", failures.Take(10))}");
    }

    [Fact]
    public void OffsetsSliceTheInputToTheTokensText()
    {
        // Independent of HF: with the cased, accent-keeping pipeline every non-[UNK] word piece, minus
        // its "##", is exactly the slice of the input its offsets name, once the characters clean_text
        // removes (controls, zero-width format characters) are taken out of the slice.
        var tokenizer = Build(Config("cased"));
        foreach (var v in s_fixture.GetProperty("vectors").EnumerateArray())
        {
            string text = v.GetProperty("text").GetString()!;
            var e = tokenizer.Encode(text, addSpecialTokens: false);
            for (int i = 0; i < e.Length; i++)
            {
                if (e.Tokens[i] == "[UNK]") continue;
                var (s, end) = e.Offsets[i];
                Assert.InRange(s, 0, text.Length);
                Assert.InRange(end, s, text.Length);
                string piece = e.Tokens[i].StartsWith("##", StringComparison.Ordinal) ? e.Tokens[i][2..] : e.Tokens[i];
                string slice = string.Concat(text[s..end].EnumerateRunes().Where(r => !BertCharacters.IsRemovedByCleanText(r.Value)).Select(r => r.ToString()));
                Assert.Equal(piece, slice);
            }
        }
    }

    [Fact]
    public void BatchesArePaddedToTheLongestAsHuggingFace()
    {
        foreach (var b in s_fixture.GetProperty("batches").EnumerateArray())
        {
            string name = b.GetProperty("config").GetString()!;
            var tokenizer = Build(Config(name), batchPadding: true);
            var texts = b.GetProperty("texts").EnumerateArray().Select(x => x.GetString()!).ToArray();
            var encodings = tokenizer.EncodeBatch(texts);
            var expected = b.GetProperty("encodings").EnumerateArray().ToArray();
            Assert.Equal(expected.Length, encodings.Length);
            for (int i = 0; i < texts.Length; i++)
                Assert.Null(Compare(encodings[i], expected[i], texts[i], null, $"batch {name}[{i}]"));
        }
    }

    [Fact]
    public void DecodeEqualsHuggingFace()
    {
        var tokenizer = Build(Config("uncased"));
        foreach (var d in s_fixture.GetProperty("decodes").EnumerateArray())
        {
            var ids = d.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(d.GetProperty("text").GetString(), tokenizer.Decode(ids, d.GetProperty("skip_special_tokens").GetBoolean()));
        }
    }

    [Fact]
    public void VocabTxtAndHuggingFacesTokenizerJsonLoadToTheSamePipeline()
    {
        // The uncased vectors through (a) vocab.txt + tokenizer_config.json, (b) the tokenizer.json HF
        // itself wrote for that pipeline, and (c) Loom's own tokenizer.json of (b), reloaded.
        var fromVocab = WordPieceTokenizer.Load(Fixtures.Path("wordpiece", "loom_vocab"));
        var fromHf = WordPieceTokenizer.Load(Fixtures.Path("wordpiece", "hf_tokenizer.json"));
        string saved = Path.Combine(Path.GetTempPath(), $"loom-wp-{Guid.NewGuid():N}.json");
        try
        {
            WordPieceTokenizerJson.Save(fromHf, saved);
            var roundTrip = WordPieceTokenizerJson.Load(saved);
            Assert.Equal(512, fromVocab.ModelMaxLength);
            foreach (var v in s_fixture.GetProperty("vectors").EnumerateArray())
            {
                if (v.GetProperty("config").GetString() != "uncased") continue;
                Assert.Null(CheckVector(fromVocab, v, "vocab.txt"));
                Assert.Null(CheckVector(fromHf, v, "hf tokenizer.json"));
                Assert.Null(CheckVector(roundTrip, v, "Loom tokenizer.json"));
            }
        }
        finally
        {
            File.Delete(saved);
        }
    }
}
