// Turns a text (or pair) into the token sequence a sequence classifier reads, as Hugging Face's
// tokenizers do for *ForSequenceClassification:
//   WordPiece (BERT): [CLS] A [SEP] (B [SEP]) with token_type_ids 0 for A and its specials, 1 for B.
//   Byte-level BPE (GPT-2, Llama): the content tokens only, after a BOS when the tokenizer's
//   tokenizer_config.json says add_bos_token (Llama); GPT-2 adds nothing. A pair is A then B.
// Truncation applies to the content tokens within max_length minus the specials, by the policy
// (head, tail, head+tail); a pair is cut longest-first as HF does, one token at a time from the longer.
// The encoder also knows the padding id (GPT-2 has none: its EOS, as HF users set pad_token_id) and
// writes its tokenizer files next to a saved model.
using System.Text.Json.Nodes;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;

namespace Loom.Training.Classification;

/// <summary>Encodes texts for a sequence classifier and saves the tokenizer with the model.</summary>
public abstract class SequenceEncoder
{
    /// <summary>The id padding positions hold (masked out; causal models read the last non-pad token).</summary>
    public abstract int PadId { get; }

    /// <summary>Ids the tokenizer can produce.</summary>
    public abstract int VocabularySize { get; }

    /// <summary>Special tokens added around a single text (and a pair).</summary>
    public abstract int SpecialCount(bool pair);

    /// <summary>Appends the content ids of <paramref name="text"/> (no specials).</summary>
    protected abstract void ContentIds(string text, List<int> ids);

    /// <summary>Builds the sequence from the (already truncated) content of A and B.</summary>
    protected abstract void Assemble(List<int> a, List<int>? b, List<int> ids, List<int> types);

    /// <summary>The text of one token for display (WordPiece: "##ing", "[CLS]"; BPE: its decoded bytes), as explanations show tokens.</summary>
    public abstract string TokenText(int id);

    /// <summary>Writes the tokenizer files into a model directory (tokenizer.json, vocab.txt, tokenizer_config.json, ...).</summary>
    public abstract void SaveTo(string directory);

    /// <summary>Encodes one example within <paramref name="maxLength"/> tokens.</summary>
    public (int[] Ids, int[] Types, bool Truncated) Encode(string text, string? pair, int maxLength, TruncationPolicy policy)
    {
        var a = new List<int>();
        ContentIds(text, a);
        List<int>? b = null;
        if (pair != null) { b = new List<int>(); ContentIds(pair, b); }
        int budget = maxLength - SpecialCount(b != null);
        if (budget < (b != null ? 2 : 1))
            throw new ArgumentException($"max_length is {maxLength}; with {SpecialCount(b != null)} special tokens it must be at least {SpecialCount(b != null) + (b != null ? 2 : 1)}.");
        bool truncated = false;
        if (b == null)
        {
            if (a.Count > budget) { Cut(a, budget, policy); truncated = true; }
        }
        else if (a.Count + b.Count > budget)
        {
            // Longest-first (HF): shorten whichever is longer until both fit, then cut each by the policy.
            int keepA = a.Count, keepB = b.Count;
            while (keepA + keepB > budget) { if (keepA >= keepB) keepA--; else keepB--; }
            Cut(a, keepA, policy);
            Cut(b, keepB, policy);
            truncated = true;
        }
        var ids = new List<int>(a.Count + (b?.Count ?? 0) + 3);
        var types = new List<int>(ids.Capacity);
        Assemble(a, b, ids, types);
        return (ids.ToArray(), types.ToArray(), truncated);
    }

    /// <summary>Keeps <paramref name="keep"/> of <paramref name="tokens"/> by <paramref name="policy"/>.</summary>
    public static void Cut(List<int> tokens, int keep, TruncationPolicy policy)
    {
        if (tokens.Count <= keep) return;
        switch (policy)
        {
            case TruncationPolicy.Head: tokens.RemoveRange(keep, tokens.Count - keep); break;
            case TruncationPolicy.Tail: tokens.RemoveRange(0, tokens.Count - keep); break;
            default:
                // Sun et al. 2019: 128 head + 382 tail of a 510 budget; the same proportion for other budgets.
                int head = (int)Math.Round(keep * 128.0 / 510.0);
                int tail = keep - head;
                tokens.RemoveRange(head, tokens.Count - head - tail);
                break;
        }
    }

    /// <summary>
    /// The encoder for a tokenizer name or path: WordPiece (vocab.txt or a WordPiece tokenizer.json) gets
    /// BERT's template, anything else byte-level BPE with an optional BOS.
    /// </summary>
    public static SequenceEncoder Load(string nameOrPath)
    {
        if (!TiktokenEncodings.IsKnown(nameOrPath) && WordPieceFormats.IsWordPiece(nameOrPath))
            return new WordPieceSequenceEncoder(WordPieceFormats.Load(nameOrPath), nameOrPath);
        return new BpeSequenceEncoder(TokenizerLoader.Load(nameOrPath), nameOrPath);
    }

    // Copies the tokenizer files a Hugging Face directory may hold from a tokenizer folder (or the file itself).
    private protected static bool CopyFiles(string source, string directory)
    {
        Directory.CreateDirectory(directory);
        string[] names = ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"];
        if (Directory.Exists(source))
        {
            bool any = false;
            foreach (var n in names)
            {
                string from = Path.Combine(source, n);
                if (!File.Exists(from)) continue;
                string to = Path.Combine(directory, n);
                if (Path.GetFullPath(from) != Path.GetFullPath(to)) Loom.Core.IO.DurableFile.WriteAllBytes(to, File.ReadAllBytes(from));
                any = true;
            }
            return any;
        }
        if (File.Exists(source))
        {
            string name = Path.GetFileName(source).Equals("vocab.txt", StringComparison.OrdinalIgnoreCase) ? "vocab.txt" : "tokenizer.json";
            if (!source.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && name != "vocab.txt") return false;
            string to = Path.Combine(directory, name);
            if (Path.GetFullPath(source) != Path.GetFullPath(to)) Loom.Core.IO.DurableFile.WriteAllBytes(to, File.ReadAllBytes(source));
            return true;
        }
        return false;
    }

    // tokenizer_config.json's add_bos_token (Llama's is true); absent or unreadable: false, as GPT-2.
    private protected static bool AddsBos(string source)
    {
        string dir = Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source)) ?? ".";
        string config = Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(config)) return false;
        try { return JsonNode.Parse(File.ReadAllText(config)) is JsonObject o && o["add_bos_token"] is JsonValue v && v.TryGetValue(out bool b) && b; }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{config} is not valid JSON: {e.Message}", e); }
    }
}
