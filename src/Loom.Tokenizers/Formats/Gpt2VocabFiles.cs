// GPT-2's original files: encoder.json (byte-level token text → id) and vocab.bpe
// ("#version: 0.2" then one "left right" merge per line, in merge order).
using System.Text;
using System.Text.Json;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Formats;

/// <summary>Reads GPT-2 encoder.json + vocab.bpe.</summary>
public static class Gpt2VocabFiles
{
    /// <summary>GPT-2's pre-tokenizer pattern (openai/gpt-2 src/encoder.py).</summary>
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Entries of encoder.json that are special tokens rather than byte strings.</summary>
    private static readonly string[] KnownSpecials = ["<|endoftext|>"];

    /// <summary>Loads a tokenizer from the two files.</summary>
    public static BpeTokenizer Load(string encoderJsonPath, string vocabBpePath)
    {
        Dictionary<string, int> encoder;
        try
        {
            using var s = File.OpenRead(encoderJsonPath);
            encoder = JsonSerializer.Deserialize(s, TokenizerFileJson.Default.DictionaryStringInt32)
                ?? throw new FormatException($"{encoderJsonPath}: expected a JSON object of token → id.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{encoderJsonPath}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
        var merges = ReadMerges(vocabBpePath);
        return Build(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(encoderJsonPath))) ?? "gpt2", encoder, merges, encoderJsonPath, vocabBpePath, Pattern, new Dictionary<string, int>());
    }

    /// <summary>
    /// A tokenizer from a byte-level vocabulary (token text → id, GPT-2's byte-to-unicode alphabet), merges in
    /// rank order, a pre-tokenizer regex and special tokens (matched whole, never merged): the shape GGUF's
    /// tokenizer.ggml.* metadata has. <paramref name="source"/> names where the data came from in errors.
    /// </summary>
    public static BpeTokenizer FromVocabulary(string name, IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        string pattern, IReadOnlyDictionary<string, int> specials, string source) =>
        Build(name, vocab, merges, source, source, pattern, specials);

    internal static List<(string Left, string Right)> ReadMerges(string path)
    {
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new FormatException($"{path}:{lineNo}: expected \"left right\", got \"{line}\".");
            merges.Add((line[..space], line[(space + 1)..]));
        }
        return merges;
    }

    /// <summary>
    /// Builds a tokenizer from a byte-level vocabulary and merges: a merged token's rank is its
    /// merge index, so tiktoken's lowest-rank rule applies the merges in order.
    /// </summary>
    internal static BpeTokenizer Build(string name, IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        string vocabSource, string mergesSource, string pattern, IReadOnlyDictionary<string, int> addedSpecials)
    {
        var specials = new Dictionary<string, int>(addedSpecials);
        foreach (var s in KnownSpecials)
            if (vocab.TryGetValue(s, out int id) && !specials.ContainsKey(s)) specials[s] = id;
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < merges.Count; i++)
        {
            var (l, r) = merges[i];
            string merged = l + r;
            if (!vocab.ContainsKey(merged))
                throw new FormatException($"{mergesSource}: merge {i + 1} (\"{l} {r}\") makes \"{merged}\", which is not in the vocabulary {vocabSource}.");
            rankOf.TryAdd(merged, 256 + i);
        }
        var tokens = new List<(byte[], int, int)>(vocab.Count);
        foreach (var (text, id) in vocab)
        {
            if (specials.ContainsKey(text) || specials.ContainsValue(id)) continue;
            byte[] bytes = ByteLevelAlphabet.Decode(text, vocabSource);
            int rank = bytes.Length == 1 ? bytes[0] : rankOf.TryGetValue(text, out int r) ? r : int.MaxValue - 1;
            tokens.Add((bytes, id, rank));
        }
        RegexPreTokenizer pre;
        try { pre = new RegexPreTokenizer(pattern); }
        catch (ArgumentException e)
        {
            throw new FormatException($"{vocabSource}: its pre_tokenizer is unusable. {e.Message} Fix the Split pattern in that file, or re-train the tokenizer with a valid --pattern.", e);
        }
        return new BpeTokenizer(name, new TokenTable(tokens), pre, specials);
    }
}
