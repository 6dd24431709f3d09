// Loading WordPiece tokenizers: vocab.txt is read exactly as HF's WordPiece::read_file, and every
// malformed or unsupported file is an expected error (InvalidDataException, NotSupportedException,
// FileNotFoundException) whose message names the file and the field as written in it.
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.PostProcessor;

namespace Loom.Tokenizers.Tests.WordPiece;

public sealed class WordPieceFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-wp-format-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n";

    [Fact]
    public void VocabTxtIsReadAsHuggingFaceReadsIt()
    {
        // Lines split on '\n' only (a lone '\r' stays inside a token... then is trimmed as trailing
        // whitespace), trailing whitespace trimmed, CRLF accepted, a repeated token keeps its last line.
        string path = Write("vocab.txt", "[UNK]\r\nhello  \nworld\nhello\n\n");
        var vocab = BertVocabFiles.ReadVocab(path);
        Assert.Equal(0, vocab["[UNK]"]);
        Assert.Equal(3, vocab["hello"]);
        Assert.Equal(2, vocab["world"]);
        Assert.Equal(4, vocab[""]);
        Assert.Equal(4, vocab.Count);
    }

    [Fact]
    public void TokenizerConfigSetsCasingAndSpecialTokens()
    {
        Write("vocab.txt", Vocab + "Hello\n[unk]\n");
        Write("tokenizer_config.json", """{"do_lower_case": false, "model_max_length": 1000000000000000019884624838656, "unk_token": {"content": "[unk]", "__type": "AddedToken"}}""");
        var tokenizer = WordPieceFormats.Load(_dir);
        Assert.Null(tokenizer.ModelMaxLength);
        var e = tokenizer.Encode("Hello hello Worlds");
        Assert.Equal(["[CLS]", "Hello", "hello", "[unk]", "[SEP]"], e.Tokens);

        Write("tokenizer_config.json", """{"do_lower_case": true, "strip_accents": false, "tokenize_chinese_chars": false, "model_max_length": 128}""");
        tokenizer = WordPieceFormats.Load(_dir);
        Assert.Equal(128, tokenizer.ModelMaxLength);
        Assert.Equal(new Normalizer.BertNormalizerOptions { Lowercase = true, StripAccents = false, HandleChineseChars = false }, tokenizer.Normalizer!.Options);
        Assert.Equal("hello ünï 我爱", tokenizer.Normalizer.Normalize("HELLO Ünï 我爱")); // accents kept, no CJK spacing
    }

    [Theory]
    [InlineData("{ not json", "invalid JSON")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {}}}""", "model.type \"BPE\"")]
    [InlineData("""{"model": {"type": "WordPiece"}}""", "model.vocab is missing")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": "zero"}}}""", "model.vocab[\"a\"] is \"zero\"")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}, "max_input_chars_per_word": -1}}""", "model.max_input_chars_per_word is -1")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "normalizer": {"type": "Lowercase"}}""", "normalizer.type \"Lowercase\"")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}}""", "normalizer.lowercase is not true")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Whitespace"}}""", "pre_tokenizer.type \"Whitespace\"")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}], "pair": [], "special_tokens": {}}}""", "[CLS]")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "added_tokens": [{"id": 0, "content": "a", "lstrip": true}]}""", "added_tokens[0] (\"a\") sets lstrip")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "truncation": {"max_length": 8, "strategy": "shortest_first"}}""", "truncation.strategy is \"shortest_first\"")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "truncation": {"max_length": 8, "stride": 2}}""", "truncation.stride is 2")]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "padding": {"strategy": "Longest"}}""", "padding.strategy")]
    public void MalformedTokenizerJsonIsANamedError(string json, string expected)
    {
        string path = Write("tokenizer.json", json);
        var e = Assert.ThrowsAny<Exception>(() => WordPieceFormats.Load(path));
        Assert.True(e is InvalidDataException or NotSupportedException, $"{e.GetType().Name}: {e.Message}");
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MalformedVocabFilesAreNamedErrors()
    {
        string bad = Path.Combine(_dir, "vocab.txt");
        File.WriteAllBytes(bad, [0x61, 0x0A, 0xFF, 0xFE, 0x0A]);
        var e = Assert.Throws<InvalidDataException>(() => WordPieceFormats.Load(bad));
        Assert.Contains(bad, e.Message);
        Assert.Contains("UTF-8", e.Message);

        Write("vocab.txt", Vocab);
        string config = Write("tokenizer_config.json", """{"do_lower_case": "no"}""");
        e = Assert.Throws<InvalidDataException>(() => WordPieceFormats.Load(_dir));
        Assert.Contains(config, e.Message);
        Assert.Contains("do_lower_case", e.Message);

        Write("tokenizer_config.json", """{"model_max_length": -5}""");
        e = Assert.Throws<InvalidDataException>(() => WordPieceFormats.Load(_dir));
        Assert.Contains("model_max_length", e.Message);

        Assert.Throws<FileNotFoundException>(() => WordPieceFormats.Load(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void TruncationShorterThanTheTemplateIsANamedError()
    {
        Write("vocab.txt", Vocab);
        var tokenizer = WordPieceFormats.Load(_dir).With(new TruncationOptions { MaxLength = 1 }, null);
        var e = Assert.Throws<ArgumentException>(() => tokenizer.Encode("hello world"));
        Assert.Contains("max_length 1", e.Message);
        // Without special tokens the same budget is fine.
        Assert.Equal(["hello"], tokenizer.Encode("hello world", addSpecialTokens: false).Tokens);
    }

    [Fact]
    public void DispatchTellsWordPieceFromByteLevelBpe()
    {
        Write("vocab.txt", Vocab);
        Assert.True(WordPieceFormats.IsWordPiece(_dir));
        Assert.True(WordPieceFormats.IsWordPiece(Fixtures.Path("wordpiece", "hf_tokenizer.json")));
        Assert.False(WordPieceFormats.IsWordPiece(Fixtures.Path("hf", "loom_gpt2_pattern.tokenizer.json")));
    }
}
