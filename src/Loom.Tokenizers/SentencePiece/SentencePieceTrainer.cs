// Trains a SentencePiece model the way spm_train does (trainer_interface.cc), then hands the words to the
// Unigram (UnigramModelTrainer) or BPE (BpeModelTrainer) algorithm:
//   1. each line is normalized with the chosen rule (nmt_nfkc's charsmap ships as a resource made by
//      Resources/sentencepiece/make_charsmaps.py; identity has none), with the dummy prefix and ▁;
//   2. characters are counted and the most frequent ones kept until character_coverage of all characters
//      is reached ("required chars"); the rest become U+2585 (kUNKChar) and never enter a piece;
//   3. sentences are split into words before each ▁ and counted;
//   4. the algorithm returns scored pieces; meta pieces (<unk>, <s>, </s>, <pad>, control and user-defined
//      symbols, the 256 byte pieces with byte_fallback) take their ids and the pieces fill the rest in order.
// The result is a ModelProto that spm_encode and python-sentencepiece load (SentencePieceModelFile.Write).
using System.IO.Compression;
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Trains Unigram and BPE SentencePiece models.</summary>
public static class SentencePieceTrainer
{
    internal const char UnkChar = '\u2585';      // kUNKChar: a character outside the coverage
    internal const string SpaceSymbol = "\u2581"; // kWSChar

    /// <summary>Trains a model on <paramref name="sentences"/> (one sentence per item, as spm_train's lines).</summary>
    public static SentencePieceModelFile Train(IEnumerable<string> sentences, SentencePieceTrainerOptions options,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var normalizerSpec = new SentencePieceNormalizerSpec
        {
            Name = options.NormalizationRuleName,
            PrecompiledCharsmap = options.NormalizationRuleName == "identity" ? [] : LoadCharsmap(options.NormalizationRuleName),
            AddDummyPrefix = options.AddDummyPrefix,
            RemoveExtraWhitespaces = options.RemoveExtraWhitespaces,
            EscapeWhitespaces = true,
        };
        var normalizer = new SentencePieceNormalizer(normalizerSpec, null, "trainer");

        // 1-2. Normalize and count characters.
        var normalized = new List<string>();
        var charCounts = new Dictionary<int, long>();
        var buffer = new List<byte>();
        long skipped = 0;
        foreach (var line in sentences)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (string.IsNullOrEmpty(line)) continue;
            byte[] utf8 = Encoding.UTF8.GetBytes(line);
            if (utf8.Length > options.MaxSentenceLength) { skipped++; continue; }
            normalizer.Normalize(utf8, buffer);
            if (buffer.Count == 0) continue;
            string s = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer));
            normalized.Add(s);
            foreach (var r in s.EnumerateRunes()) charCounts[r.Value] = charCounts.GetValueOrDefault(r.Value) + 1;
        }
        if (normalized.Count == 0) throw new ArgumentException("The training input has no non-empty lines.");
        progress?.Report($"{normalized.Count:N0} sentences ({skipped:N0} longer than {options.MaxSentenceLength} bytes skipped), {charCounts.Count:N0} distinct characters");

        long allChars = charCounts.Values.Sum();
        var required = new Dictionary<int, long>();
        long accumulated = 0;
        foreach (var (c, n) in charCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
        {
            if ((double)accumulated / allChars >= options.CharacterCoverage) break;
            accumulated += n;
            required[c] = n;
        }
        progress?.Report($"{required.Count:N0} characters cover {100.0 * accumulated / allChars:F4}% of the text");

        // 3. Words (split before each ▁), rare characters replaced by kUNKChar.
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        var sb = new StringBuilder();
        foreach (var s in normalized)
        {
            sb.Clear();
            foreach (var r in s.EnumerateRunes())
            {
                if (r.Value == '\u2581' && sb.Length > 0)
                {
                    string w = sb.ToString();
                    words[w] = words.GetValueOrDefault(w) + 1;
                    sb.Clear();
                }
                if (required.ContainsKey(r.Value)) sb.Append(r.ToString()); else sb.Append(UnkChar);
            }
            if (sb.Length > 0) { string w = sb.ToString(); words[w] = words.GetValueOrDefault(w) + 1; }
        }

        // 4. Meta pieces at their ids.
        var meta = new SortedDictionary<int, SentencePieceEntry>();
        meta[options.UnkId] = new SentencePieceEntry("<unk>", 0, SentencePieceType.Unknown);
        if (options.BosId >= 0) meta[options.BosId] = new SentencePieceEntry("<s>", 0, SentencePieceType.Control);
        if (options.EosId >= 0) meta[options.EosId] = new SentencePieceEntry("</s>", 0, SentencePieceType.Control);
        if (options.PadId >= 0) meta[options.PadId] = new SentencePieceEntry("<pad>", 0, SentencePieceType.Control);
        int next = 0;
        void AddMeta(string piece, SentencePieceType type)
        {
            while (meta.ContainsKey(next)) next++;
            meta[next] = new SentencePieceEntry(piece, 0, type);
        }
        foreach (var c in options.ControlSymbols) AddMeta(c, SentencePieceType.Control);
        foreach (var u in options.UserDefinedSymbols) AddMeta(u, SentencePieceType.UserDefined);
        if (options.ByteFallback) for (int b = 0; b < 256; b++) AddMeta($"<0x{b:X2}>", SentencePieceType.Byte);
        int normalCount = options.VocabSize - meta.Count;
        if (normalCount < required.Count)
            throw new ArgumentException($"VocabSize {options.VocabSize} leaves {normalCount} pieces after {meta.Count} meta pieces, fewer than the {required.Count} characters the coverage needs; raise the vocabulary size or lower CharacterCoverage.");
        if (meta.Keys.Max() >= options.VocabSize) throw new ArgumentException($"VocabSize {options.VocabSize} is too small for the {meta.Count} meta pieces.");

        var rules = new PieceRules(options);
        var pieces = options.ModelType == SentencePieceModelType.Unigram
            ? UnigramModelTrainer.Train(words, required, normalCount, rules, options, progress, cancellationToken)
            : BpeModelTrainer.Train(words, required, normalCount, rules, progress, cancellationToken);
        // spm_train (hard_vocab_limit, its default) refuses a corpus that cannot fill the vocabulary:
        // "Vocabulary size too high (N). Please set it to a value <= M" (trainer_interface.cc). Writing a smaller
        // model instead would also put a meta piece asked for at a high id (PadId = VocabSize - 1) at a lower one.
        if (pieces.Count < normalCount)
            throw new ArgumentException($"VocabSize {options.VocabSize} is too high for this corpus: it yields {meta.Count + pieces.Count} pieces ({meta.Count} meta + {pieces.Count} learned); set the vocabulary size to at most {meta.Count + pieces.Count} or train on more text (spm_train refuses such a size too).");

        var all = new List<SentencePieceEntry>(options.VocabSize);
        int k = 0;
        for (int id = 0; id < options.VocabSize; id++)
        {
            if (meta.TryGetValue(id, out var m)) all.Add(m);
            else if (k < pieces.Count) { all.Add(new SentencePieceEntry(pieces[k].Piece, pieces[k].Score)); k++; }
        }
        foreach (var (_, m) in meta.Where(kv => kv.Key >= all.Count)) all.Add(m);
        return new SentencePieceModelFile
        {
            Pieces = all,
            TrainerSpec = new SentencePieceTrainerSpec
            {
                ModelType = options.ModelType, VocabSize = all.Count, CharacterCoverage = (float)options.CharacterCoverage,
                SeedSentencePieceSize = options.SeedSentencePieceSize, ShrinkingFactor = (float)options.ShrinkingFactor,
                NumSubIterations = options.NumSubIterations, MaxSentenceLength = options.MaxSentenceLength,
                MaxSentencePieceLength = options.MaxSentencePieceLength, SplitByUnicodeScript = options.SplitByUnicodeScript,
                SplitByNumber = options.SplitByNumber, SplitDigits = options.SplitDigits, ByteFallback = options.ByteFallback,
                ControlSymbols = options.ControlSymbols, UserDefinedSymbols = options.UserDefinedSymbols,
                UnkId = options.UnkId, BosId = options.BosId, EosId = options.EosId, PadId = options.PadId,
            },
            NormalizerSpec = normalizerSpec,
        };
    }

    /// <summary>A built-in rule's precompiled charsmap (an embedded resource extracted from sentencepiece).</summary>
    internal static byte[] LoadCharsmap(string rule)
    {
        using var s = typeof(SentencePieceTrainer).Assembly.GetManifestResourceStream($"sentencepiece/{rule}.charsmap.gz")
            ?? throw new ArgumentException($"No built-in normalization rule \"{rule}\"; use nmt_nfkc or identity.");
        using var z = new GZipStream(s, CompressionMode.Decompress);
        using var m = new MemoryStream();
        z.CopyTo(m);
        return m.ToArray();
    }
}
