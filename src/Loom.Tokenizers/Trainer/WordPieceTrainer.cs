// Trains a WordPiece vocabulary the way Hugging Face's WordPieceTrainer does
// (tokenizers/src/models/wordpiece/trainer.rs → models/bpe/trainer.rs): count the words the BERT
// normalizer and pre-tokenizer produce, then run BPE on them with the "##" continuing-subword prefix
// and take the BPE vocabulary as the WordPiece vocabulary:
//   1. special tokens get ids 0..k-1;
//   2. the alphabet: every code point of the words (limit_alphabet keeps the most frequent ones;
//      initial_alphabet is always kept), sorted by code point;
//   3. each word becomes its characters, all but the first as "##c" (ids given in first-seen order);
//      characters outside the alphabet are dropped from the word, as HF;
//   4. the most frequent adjacent pair is merged (new token = left + right without its "##"), pair
//      counts are updated incrementally from each merge's changes, until the vocabulary has
//      vocab_size tokens, no pair is left, or the best count is below min_frequency.
// HF's loop is reproduced step for step, including its lazy max-heap (stale counts are refreshed on
// pop; words that newly contain a pair are pushed as a separate entry). HF is not deterministic where
// it iterates hash maps (the order words are first seen, which fixes the ids of "##c" tokens, and the
// order of equal heap entries); Loom fixes those orders (words by ordinal text, equal entries FIFO), so
// ids can differ from one HF run to the next and from Loom while the vocabulary matches.
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PostProcessor;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers.Trainer;

/// <summary>Trains WordPiece vocabularies as Hugging Face's WordPieceTrainer.</summary>
public static class WordPieceTrainer
{
    /// <summary>Trains on files (plain text, or .jsonl with <see cref="WordPieceTrainerOptions.JsonField"/>; either may be .gz).</summary>
    public static WordPieceTrainingResult TrainFromFiles(IEnumerable<string> paths, WordPieceTrainerOptions options, IProgress<long>? bytesRead = null, CancellationToken ct = default)
    {
        var files = paths.ToList();
        if (files.Count == 0) throw new ArgumentException("No training input: give at least one file.");
        foreach (var f in files)
            if (!File.Exists(f)) throw new FileNotFoundException($"Training input {f} does not exist.", f);
        return Train(files.SelectMany(f => TextChunks.Read(f, options.JsonField, bytesRead)), options, ct);
    }

    /// <summary>Trains on in-memory texts.</summary>
    public static WordPieceTrainingResult Train(IEnumerable<string> texts, WordPieceTrainerOptions options, CancellationToken ct = default)
    {
        Validate(options);
        var counts = CountWords(texts, options, ct, out long total);
        return TrainOnWords(counts, options, total, ct);
    }

    /// <summary>Trains on word counts (words already normalized and pre-tokenized).</summary>
    public static WordPieceTrainingResult TrainOnWords(IReadOnlyDictionary<string, long> wordCounts, WordPieceTrainerOptions options, long totalWords = -1, CancellationToken ct = default)
    {
        Validate(options);
        string prefix = options.ContinuingSubwordPrefix;
        var wordToId = new Dictionary<string, int>(StringComparer.Ordinal);
        var idToWord = new List<string>();
        int Add(string token)
        {
            if (wordToId.TryGetValue(token, out int id)) return id;
            id = idToWord.Count;
            idToWord.Add(token);
            wordToId[token] = id;
            return id;
        }

        // 1. Special tokens.
        foreach (var s in options.SpecialTokens) Add(s);

        // 2. Alphabet.
        var words = wordCounts.Keys.Order(StringComparer.Ordinal).ToArray();
        var alphabet = new Dictionary<int, long>();
        foreach (var w in words)
        {
            long c = wordCounts[w];
            foreach (var r in w.EnumerateRunes()) alphabet[r.Value] = alphabet.GetValueOrDefault(r.Value) + c;
        }
        foreach (var s in options.InitialAlphabet)
        {
            if (s.EnumerateRunes().Count() != 1) throw new ArgumentException($"initial_alphabet entry \"{s}\" is not one character.");
            alphabet[s.EnumerateRunes().First().Value] = long.MaxValue;
        }
        var kept = alphabet.ToList();
        if (options.LimitAlphabet is { } limit && kept.Count > limit)
        {
            // The least frequent go; among equal counts (HF: unspecified order) the larger code point goes first.
            kept.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : b.Key.CompareTo(a.Key));
            kept.RemoveRange(0, kept.Count - limit);
        }
        kept.Sort((a, b) => a.Key.CompareTo(b.Key));
        foreach (var (cp, _) in kept) Add(char.ConvertFromUtf32(cp));

        // 3. Words as symbol ids.
        var symbols = new List<int>[words.Length];
        var counts = new long[words.Length];
        for (int i = 0; i < words.Length; i++)
        {
            counts[i] = wordCounts[words[i]];
            var list = new List<int>(words[i].Length);
            bool first = true;
            foreach (var r in words[i].EnumerateRunes())
            {
                string c = r.ToString();
                if (wordToId.ContainsKey(c))
                    list.Add(Add(first ? c : prefix + c));
                first = false;
            }
            symbols[i] = list;
        }

        // 4. Pair counts and where each pair occurs.
        var pairCounts = new Dictionary<(int, int), long>();
        var whereToUpdate = new Dictionary<(int, int), HashSet<int>>();
        for (int i = 0; i < words.Length; i++)
        {
            var w = symbols[i];
            for (int k = 0; k + 1 < w.Count; k++)
            {
                var pair = (w[k], w[k + 1]);
                pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + counts[i];
                if (!whereToUpdate.TryGetValue(pair, out var set)) whereToUpdate[pair] = set = new HashSet<int>();
                set.Add(i);
            }
        }
        var queue = new PriorityQueue<Entry, (long NegCount, int A, int B, long Seq)>();
        long seq = 0;
        void Flush()
        {
            // Dictionary enumeration is insertion order here (only added to, then cleared), so the
            // queue order, and so the result, is the same on every run.
            foreach (var (pair, pos) in whereToUpdate)
            {
                long c = pairCounts[pair];
                if (c > 0) queue.Enqueue(new Entry(pair, c, pos), (-c, pair.Item1, pair.Item2, seq++));
            }
            whereToUpdate.Clear();
        }
        Flush();

        // 5. Merges.
        var changes = new List<((int, int) Pair, int Delta)>();
        while (wordToId.Count < options.VocabularySize && queue.TryDequeue(out var top, out _))
        {
            ct.ThrowIfCancellationRequested();
            long current = pairCounts[top.Pair];
            if (top.Count != current)
            {
                var refreshed = top with { Count = current };
                queue.Enqueue(refreshed, (-current, top.Pair.Item1, top.Pair.Item2, seq++));
                continue;
            }
            if (top.Count < 1 || options.MinFrequency > top.Count) break;

            string right = idToWord[top.Pair.Item2];
            if (prefix.Length > 0 && right.StartsWith(prefix, StringComparison.Ordinal)) right = right[prefix.Length..];
            int newId = Add(idToWord[top.Pair.Item1] + right);

            // Order does not matter: the changes only add up into counts and sets.
            foreach (int i in top.Positions)
            {
                changes.Clear();
                MergeWord(symbols[i], top.Pair.Item1, top.Pair.Item2, newId, changes);
                foreach (var (pair, delta) in changes)
                {
                    pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + delta * counts[i];
                    if (delta > 0)
                    {
                        if (!whereToUpdate.TryGetValue(pair, out var set)) whereToUpdate[pair] = set = new HashSet<int>();
                        set.Add(i);
                    }
                }
            }
            Flush();
        }

        var vocab = new Dictionary<string, int>(wordToId, StringComparer.Ordinal);
        var specials = options.SpecialTokens.Distinct().Select(s => (s, wordToId[s], true)).ToList();
        var unk = options.SpecialTokens.FirstOrDefault(s => s == "[UNK]") ?? "[UNK]";
        var model = new WordPieceModel(vocab, unk, prefix);
        TemplatePostProcessor? post = wordToId.TryGetValue("[CLS]", out int cls) && wordToId.TryGetValue("[SEP]", out int sep)
            ? TemplatePostProcessor.Bert("[CLS]", cls, "[SEP]", sep) : null;
        var tokenizer = new WordPieceTokenizer(model, new BertNormalizer(options.Normalizer), new BertPreTokenizer(), post,
            new WordPieceDecoder(prefix), specials);
        return new WordPieceTrainingResult(tokenizer, idToWord, words.Length, totalWords);
    }

    private sealed record Entry((int, int) Pair, long Count, HashSet<int> Positions);

    // HF's Word::merge: replaces each (a, b) left to right by the new id and reports the pair-count changes.
    private static void MergeWord(List<int> w, int a, int b, int replacement, List<((int, int), int)> changes)
    {
        int i = 0;
        while (i < w.Count)
        {
            if (w[i] == a && i + 1 < w.Count && w[i + 1] == b)
            {
                if (i > 0)
                {
                    changes.Add(((w[i - 1], a), -1));
                    changes.Add(((w[i - 1], replacement), 1));
                }
                w[i] = replacement;
                w.RemoveAt(i + 1);
                if (i < w.Count - 1)
                {
                    changes.Add(((b, w[i + 1]), -1));
                    changes.Add(((replacement, w[i + 1]), 1));
                }
            }
            i++;
        }
    }

    private static Dictionary<string, long> CountWords(IEnumerable<string> texts, WordPieceTrainerOptions options, CancellationToken ct, out long total)
    {
        var merged = new Dictionary<string, long>(StringComparer.Ordinal);
        long grand = 0;
        object gate = new();
        var normalizer = new BertNormalizer(options.Normalizer);
        var pre = new BertPreTokenizer();
        Parallel.ForEach(texts, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = ct },
            () => (Counts: new Dictionary<string, long>(StringComparer.Ordinal), Total: 0L, Text: new NormalizedText(1 << 16), Words: new List<(int, int)>()),
            (text, _, local) =>
            {
                var lookup = local.Counts.GetAlternateLookup<ReadOnlySpan<char>>();
                normalizer.Normalize(text, local.Text);
                local.Words.Clear();
                var chars = local.Text.Chars;
                pre.Split(chars, local.Words);
                foreach (var (s, e) in local.Words)
                {
                    var word = chars[s..e];
                    lookup[word] = lookup.TryGetValue(word, out long c) ? c + 1 : 1;
                    local.Total++;
                }
                return local;
            },
            local =>
            {
                lock (gate)
                {
                    foreach (var (k, v) in local.Counts) merged[k] = merged.TryGetValue(k, out long c) ? c + v : v;
                    grand += local.Total;
                }
            });
        total = grand;
        return merged;
    }

    private static void Validate(WordPieceTrainerOptions options)
    {
        if (options.VocabularySize < 1)
            throw new ArgumentException($"vocab_size must be at least 1, got {options.VocabularySize}.");
        if (options.VocabularySize < options.SpecialTokens.Distinct().Count())
            throw new ArgumentException($"vocab_size {options.VocabularySize} is below the {options.SpecialTokens.Distinct().Count()} special tokens; raise it.");
        if (options.MinFrequency < 0)
            throw new ArgumentException($"min_frequency must be >= 0, got {options.MinFrequency}.");
        if (options.LimitAlphabet is < 0)
            throw new ArgumentException($"limit_alphabet must be >= 0, got {options.LimitAlphabet}.");
        if (options.SpecialTokens.Any(string.IsNullOrEmpty))
            throw new ArgumentException("A special token is empty; give its text, e.g. [UNK].");
        if (options.Threads < 1)
            throw new ArgumentException($"threads must be >= 1, got {options.Threads}.");
    }
}
