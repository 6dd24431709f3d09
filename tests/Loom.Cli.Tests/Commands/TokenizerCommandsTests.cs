using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class TokenizerCommandsTests
{
    [Fact]
    public void EncodeThenDecodeRoundTripsLineByLine()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        string[] texts = ["hello world", "naïve café 😀", "", "x <|endoftext|> y"];
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(new { body = t })));

        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "cl100k_base", "--input", input, "--field", "body", "--allowed-special", "all");
        Assert.True(code == 0, console);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts.Length, lines.Length);
        Assert.Equal("[15339,1917]", lines[0]);
        Assert.Equal("[]", lines[2]);
        Assert.Contains("100257", lines[3]);

        string ids = Path.Combine(dir, "ids.jsonl");
        File.WriteAllText(ids, output);
        (code, output, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", "cl100k_base", "--input", ids);
        Assert.True(code == 0, console);
        var decoded = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<string>(l)).ToArray();
        Assert.Equal(texts, decoded);
    }

    [Fact]
    public void DisallowedSpecialTextFailsWithTheRecordNumber()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"fine\"}", "{\"text\": \"<|endoftext|>\"}"]);
        var (code, _, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "gpt2", "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("record 2", console);
        Assert.Contains("<|endoftext|>", console);
        // The CLI names its own flag, not the library's SpecialTokenPolicy.All.
        Assert.Contains("--allowed-special all", console);
        Assert.DoesNotContain("SpecialTokenPolicy", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void TrainWritesATokenizerJsonThatTokenizeCanUse()
    {
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log.\n", 200)));
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--special-tokens", "[PAD]", "<|endoftext|>", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string tj = Path.Combine(dir, "tok", "tokenizer.json");
        Assert.True(File.Exists(tj));

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", tj, "--input", corpus, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        Assert.Contains("1 documents", console);
        Assert.True(File.Exists(Path.Combine(dir, "shards", "shard_00000.bin")));
        Assert.True(File.Exists(Path.Combine(dir, "shards", "manifest.json")));
    }

    [Fact]
    public void UnknownTokenizerIsAClearError()
    {
        string empty = Path.Combine(CliRunner.TempDir(), "ids.txt");   // a regular file: devices such as /dev/null are refused as inputs
        File.WriteAllText(empty, "");
        var (code, _, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", "nope_base", "--input", empty);
        Assert.Equal(1, code);
        Assert.Contains("cl100k_base", console);
        Assert.Contains("--tokenizer nope_base", console);
    }

    private static string Corpus(string dir)
    {
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log.\n", 200)));
        return corpus;
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a*", "empty string")]
    [InlineData("(", "cannot be compiled")]
    public void TrainRefusesABadPatternNamingPattern(string pattern, string reason)
    {
        // Before, `--pattern ""` wrote a tokenizer.json whose every encode crashed.
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", Corpus(dir), "--vocab-size", "300", "--pattern", pattern, "--output", Path.Combine(dir, "tok"));
        Assert.Equal(1, code);
        Assert.Contains("--pattern", console);
        Assert.Contains(reason, console);
        Assert.DoesNotContain("   at ", console);
        Assert.False(File.Exists(Path.Combine(dir, "tok", "tokenizer.json")));
    }

    [Fact]
    public void EncodeWithATokenizerJsonWhosePatternMatchesNothingNamesTheFile()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", Corpus(dir), "--vocab-size", "300", "--pattern", @"\p{L}+|\s+|[^\s\p{L}]+", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string tj = Path.Combine(dir, "tok", "tokenizer.json");
        File.WriteAllText(tj, File.ReadAllText(tj).Replace(@"\\p{L}+|\\s+|[^\\s\\p{L}]+", ""));
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"the cat\"}\n");
        (code, _, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", tj, "--input", input);
        Assert.Equal(1, code);
        Assert.Contains(tj, console);
        Assert.Contains("pattern", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Theory]
    [InlineData(new[] { "--special-tokens", "<a>", "<b>", "<a>" }, "--special-tokens", "<a>")]
    [InlineData(new[] { "--min-frequency", "-3" }, "--min-frequency", "-3")]
    [InlineData(new[] { "--vocab-size", "100" }, "--vocab-size", "100")]
    [InlineData(new[] { "--vocab-size", "257", "--special-tokens", "<a>", "<b>" }, "--vocab-size", "258")]
    [InlineData(new[] { "--field", "" }, "--field", "empty")]
    public void TrainOptionsAreCheckedAndNamed(string[] extra, string option, string value)
    {
        string dir = CliRunner.TempDir();
        string[] args = ["tokenizer", "train", "--input", Corpus(dir), "--output", Path.Combine(dir, "tok")];
        if (!extra.Contains("--vocab-size")) args = [.. args, "--vocab-size", "300"];
        var (code, _, console) = CliRunner.Run([.. args, .. extra]);
        Assert.Equal(1, code);
        Assert.Contains(option, console);
        Assert.Contains(value, console);
        Assert.DoesNotContain("(Parameter", console); // no library parameter name tacked onto the CLI's message
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void MinFrequencyZeroIsAccepted()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", Corpus(dir), "--vocab-size", "300", "--min-frequency", "0", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
    }

    [Theory]
    [InlineData("encode")]
    [InlineData("decode")]
    public void AnInputThatIsADirectoryIsNamed(string command)
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("tokenizer", command, "--tokenizer", "gpt2", "--input", dir);
        Assert.Equal(1, code);
        Assert.Contains("--input", console);
        Assert.Contains("is a directory", console);
    }

    [Fact]
    public void EncodeOutputMatchesTheLibraryOnManyRecords()
    {
        // The byte writer flushes in 64 KB blocks: enough records to cross several block boundaries.
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        var rng = new Random(3);
        var texts = Enumerable.Range(0, 3000).Select(i => string.Concat(Enumerable.Range(0, rng.Next(0, 60)).Select(_ => (char)rng.Next(32, 0x800)))).ToArray();
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "cl100k_base", "--input", input);
        Assert.True(code == 0, console);
        var tok = Loom.Tokenizers.TiktokenEncodings.Get("cl100k_base");
        var want = string.Concat(texts.Select(t => JsonSerializer.Serialize(tok.Encode(t)) + "\n"));
        Assert.Equal(want, output);
    }

    [Fact]
    public void TokenizeRefusesAnEarlierShardSetUnlessOverwriteAndThenReplacesIt()
    {
        string dir = CliRunner.TempDir();
        string big = Path.Combine(dir, "big.jsonl"), small = Path.Combine(dir, "small.jsonl"), shards = Path.Combine(dir, "shards");
        File.WriteAllLines(big, Enumerable.Range(0, 60).Select(i => $"{{\"text\": \"document {i} is here\"}}"));
        File.WriteAllLines(small, ["{\"text\": \"one\"}"]);
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", big, "--output", shards, "--shard-tokens", "40");
        Assert.True(code == 0, console);
        Assert.True(Directory.GetFiles(shards, "shard_*.bin").Length > 3);

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", small, "--output", shards);
        Assert.Equal(1, code);
        Assert.Contains("--overwrite", console);
        Assert.DoesNotContain("   at ", console);

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", small, "--output", shards, "--overwrite");
        Assert.True(code == 0, console);
        Assert.Equal(["manifest.json", "shard_00000.bin"], Directory.GetFiles(shards).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("--shard-tokens", "0")]
    [InlineData("--shard-tokens", "-1")]
    [InlineData("--field", "")]
    public void TokenizeOptionsAreNamed(string option, string value)
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "a.jsonl");
        File.WriteAllText(input, "{\"text\": \"x\"}\n");
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", input, "--output", Path.Combine(dir, "o"), option, value);
        Assert.Equal(1, code);
        Assert.Contains(option, console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void ABadRecordInALaterBatchStopsAfterEveryLineBeforeIt()
    {
        // Records are read and encoded in batches of 1,024 on several threads; lines still come out in
        // input order, and the first bad record is reported with its number after the lines before it.
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        var lines = Enumerable.Range(0, 2600).Select(i => JsonSerializer.Serialize(new { text = $"record {i}" })).ToList();
        lines[2500] = "{\"text\": \"a <|endoftext|> b\"}";
        lines[2550] = "{\"text\": oops}";
        File.WriteAllLines(input, lines);
        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "gpt2", "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("record 2501", console);
        Assert.DoesNotContain("oops", console);
        var tok = Loom.Tokenizers.TiktokenEncodings.Get("gpt2");
        Assert.Equal(string.Concat(Enumerable.Range(0, 2500).Select(i => JsonSerializer.Serialize(tok.Encode($"record {i}")) + "\n")), output);

        lines[2500] = JsonSerializer.Serialize(new { text = "fine" });
        File.WriteAllLines(input, lines);
        (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "gpt2", "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("in.jsonl:2551", console); // the bad JSON line, after the 2,550 lines before it
        Assert.Equal(2550, output.Count(c => c == '\n'));
        Assert.DoesNotContain("   at ", console);
    }
}

public class WordPieceCommandsTests
{
    [Fact]
    public void TrainsAWordPieceVocabularyAndEncodesAndDecodesWithIt()
    {
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("The cat sat on the mat. Unbelievable cats sat, purring!\n", 100)));
        string output = Path.Combine(dir, "wp");
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--model", "wordpiece", "--input", corpus, "--vocab-size", "120", "--output", output);
        Assert.True(code == 0, console);
        Assert.True(File.Exists(Path.Combine(output, "vocab.txt")));
        Assert.Equal("[PAD]", File.ReadLines(Path.Combine(output, "vocab.txt")).First());   // BERT's specials by default

        // The CLI's ids are the library's (whose encoder equals Hugging Face's on the committed WordPiece fixtures).
        var tok = Loom.Tokenizers.WordPieceTokenizer.Load(output);
        string[] texts = ["The cat sat.", "unbelievable purring cats", "zebra ünïcode 猫"];
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, texts.Select(t => System.Text.Json.JsonSerializer.Serialize(new { text = t })));
        foreach (bool special in new[] { false, true })
        {
            string[] args = special ? ["tokenizer", "encode", "--tokenizer", output, "--input", input, "--add-special-tokens"] : ["tokenizer", "encode", "--tokenizer", output, "--input", input];
            (code, string ids, console) = CliRunner.Run(args);
            Assert.True(code == 0, console);
            Assert.Equal(string.Concat(texts.Select(t => System.Text.Json.JsonSerializer.Serialize(tok.Encode(t, null, special).Ids) + "\n")), ids);
        }
        // vocab.txt alone loads too, and decode inverts encode up to BERT's lower-casing and spacing.
        string idsFile = Path.Combine(dir, "ids.txt");
        File.WriteAllText(idsFile, System.Text.Json.JsonSerializer.Serialize(tok.Encode("The cat sat.", null, false).Ids) + "\n");
        (code, string decoded, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", Path.Combine(output, "vocab.txt"), "--input", idsFile);
        Assert.True(code == 0, console);
        Assert.Equal("\"the cat sat.\"\n", decoded);
    }

    [Fact]
    public void WordPieceOptionsAreChecked()
    {
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, "a b c\n");
        foreach (var (extra, message) in new (string[], string)[]
        {
            (["--pattern", "\\w+"], "--pattern applies to --model bpe only"),
            (["--special-tokens", "[UNK]", "[UNK]"], "--special-tokens lists \"[UNK]\" 2 times"),
            (["--min-frequency", "-1"], "--min-frequency must be"),
        })
        {
            var (code, _, console) = CliRunner.Run(["tokenizer", "train", "--model", "wordpiece", "--input", corpus, "--vocab-size", "50", "--output", Path.Combine(dir, "o"), .. extra]);
            Assert.Equal(1, code);
            Assert.Contains(message, console);
        }
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("wordpiece")]
    public void TrainRefusesToReplaceAnEarlierTokenizerUnlessOverwrite(string model)
    {
        // Regression: --output replaced an existing tokenizer.json (which shards and models were made with) without a word.
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log.\n", 50)));
        string output = Path.Combine(dir, "tok");
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--model", model, "--output", output);
        Assert.True(code == 0, console);
        string before = File.ReadAllText(Path.Combine(output, "tokenizer.json"));
        (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "280", "--model", model, "--output", output);
        Assert.Equal(1, code);
        Assert.Contains("already holds tokenizer.json", console);
        Assert.Contains("--overwrite", console);
        Assert.DoesNotContain("   at ", console);
        Assert.Equal(before, File.ReadAllText(Path.Combine(output, "tokenizer.json")));
        string other = Path.Combine(dir, "other.txt");
        File.WriteAllText(other, string.Concat(Enumerable.Repeat("a quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\n", 50)));
        (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", other, "--vocab-size", "280", "--model", model, "--output", output, "--overwrite");
        Assert.True(code == 0, console);
        Assert.NotEqual(before, File.ReadAllText(Path.Combine(output, "tokenizer.json")));
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("wordpiece")]
    public void EncodeAndDecodeKeepBlankLinesSoOutputLinesMatchInputLines(string tokenizer)
    {
        // Regression: blank input lines were skipped, so output line n no longer answered input line n.
        string dir = CliRunner.TempDir();
        if (tokenizer == "wordpiece")
        {
            File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]);
            tokenizer = Path.Combine(dir, "vocab.txt");
        }
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hello\"}\n\n   \n{\"text\": \"world\"}\n");
        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", tokenizer, "--input", input);
        Assert.True(code == 0, console);
        var lines = output.Split('\n');
        Assert.Equal(5, lines.Length);   // four lines and the final newline
        Assert.Equal("[]", lines[1]);
        Assert.Equal("[]", lines[2]);
        Assert.NotEqual("[]", lines[3]);

        string ids = Path.Combine(dir, "ids.txt");
        File.WriteAllText(ids, "[]\n\n" + lines[3] + "\n");
        (code, output, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", tokenizer, "--input", ids);
        Assert.True(code == 0, console);
        Assert.Equal(["\"\"", "\"\"", "\"world\"", ""], output.Split('\n'));
    }

    [Fact]
    public void InvalidUtf8InEncodeInputIsReplacedWithAWarning()
    {
        // Regression: bytes that are not UTF-8 became U+FFFD without a word.
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        var bytes = new List<byte>();
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes("{\"text\": \"ab"));
        bytes.AddRange(new byte[] { 0xFF, 0xC3 });   // two invalid sequences: a stray byte and a lead byte without its continuation
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes("\"}\n{\"text\": \"ok\"}\n"));
        File.WriteAllBytes(input, bytes.ToArray());
        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "cl100k_base", "--input", input);
        Assert.True(code == 0, console);
        Assert.Contains("2 invalid UTF-8 byte sequence(s)", console);
        Assert.DoesNotContain("invalid UTF-8", output);   // warnings never go into the data output
        var (_, reference, _) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "cl100k_base", "--input", WriteJsonl(dir, "ab\uFFFD\uFFFD", "ok"));
        Assert.Equal(reference, output);
    }

    private static string WriteJsonl(string dir, params string[] texts)
    {
        string path = Path.Combine(dir, "reference.jsonl");
        File.WriteAllLines(path, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
        return path;
    }
}
