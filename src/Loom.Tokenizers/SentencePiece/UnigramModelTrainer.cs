// The Unigram language-model trainer (Kudo 2018, "Subword Regularization", §3.2; sentencepiece's
// unigram_model_trainer.cc):
//   seed: every character plus the most frequent substrings (score = frequency × length, at most
//         seed_sentencepiece_size of them; sentencepiece finds them with a suffix array, Loom counts the
//         substrings of each distinct word, which gives the same counts for pieces that cannot cross a ▁),
//         scores turned into log-probabilities;
//   EM:   E-step = forward-backward over each word's lattice of pieces (expected piece counts, weighted by
//         word frequency); M-step = drop pieces expected < 0.5 times, score = ψ(count) − ψ(Σ counts)
//         (the Bayesian/DP "digamma" EM sentencepiece uses as a sparse prior);
//   prune: after num_sub_iterations EM steps, each piece's loss is the drop in corpus likelihood if its
//         Viterbi occurrences were re-segmented by its second-best segmentation; keep the
//         shrinking_factor share with the highest loss (pieces without an alternative always stay);
//   stop when at most 1.1 × vocab_size pieces remain; finalize = required characters + best-scoring pieces.
namespace Loom.Tokenizers.SentencePiece;

internal static class UnigramModelTrainer
{
    private const double UnkPenalty = 10.0;

    private sealed class Model
    {
        public readonly List<(string Piece, double Score)> Pieces;
        public readonly CodePointTrie Trie;
        public readonly double UnkScore;
        public readonly int[] Length;

        public Model(List<(string Piece, double Score)> pieces)
        {
            Pieces = pieces;
            var keys = pieces.Select(p => PieceRules.CodePoints(p.Piece)).ToList();
            Length = keys.Select(k => k.Length).ToArray();
            Trie = new CodePointTrie(keys);
            UnkScore = (pieces.Count == 0 ? 0 : pieces.Min(p => p.Score)) - UnkPenalty;
        }
    }

    public static List<(string Piece, float Score)> Train(Dictionary<string, long> wordCounts, Dictionary<int, long> required,
        int normalCount, PieceRules rules, SentencePieceTrainerOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        // Words in a fixed order (by text), so training is deterministic whatever the dictionary order.
        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => (Chars: PieceRules.CodePoints(w.Key), Freq: w.Value)).ToArray();

        var model = new Model(Seed(words, required, rules, options));
        progress?.Report($"unigram: {model.Pieces.Count:N0} seed pieces from {words.Length:N0} distinct words");
        int desired = (int)(options.VocabSize * 1.1);
        for (int round = 0; ; round++)
        {
            for (int iter = 0; iter < options.NumSubIterations; iter++)
            {
                ct.ThrowIfCancellationRequested();
                var expected = EStep(model, words, out double objective);
                model = new Model(MStep(model, expected));
                progress?.Report($"unigram: EM round {round} step {iter}: {model.Pieces.Count:N0} pieces, objective {objective:F4}");
            }
            if (model.Pieces.Count <= desired) break;
            model = new Model(Prune(model, words, desired, options.ShrinkingFactor));
        }
        return Finalize(model, required, normalCount);
    }

    private static List<(string, double)> Seed((int[] Chars, long Freq)[] words, Dictionary<int, long> required, PieceRules rules, SentencePieceTrainerOptions options)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (chars, freq) in words)
        {
            for (int i = 0; i < chars.Length; i++)
            {
                for (int len = 2; len <= options.MaxSentencePieceLength && i + len <= chars.Length; len++)
                {
                    var sub = chars.AsSpan(i, len);
                    if (!rules.IsValid(sub)) break; // every longer substring breaks the same rule
                    string key = PieceRules.FromCodePoints(sub);
                    counts[key] = counts.GetValueOrDefault(key) + freq;
                }
            }
        }
        var seeds = new List<(string Piece, double Score)>();
        foreach (var (c, n) in required.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
            seeds.Add((char.ConvertFromUtf32(c), n));
        var substrings = counts.Where(kv => kv.Value >= 2)
            .Select(kv => (Piece: kv.Key, Score: (double)kv.Value * PieceRules.CodePoints(kv.Key).Length))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Piece, StringComparer.Ordinal)
            .Take(options.SeedSentencePieceSize);
        seeds.AddRange(substrings);
        double logSum = Math.Log(seeds.Sum(s => s.Score));
        return seeds.Select(s => (s.Piece, Math.Log(s.Score) - logSum)).ToList();
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    /// <summary>The lattice's nodes: (start, end, id) with id -1 for an unknown character.</summary>
    private static void Nodes(Model model, int[] chars, List<(int Start, int End, int Id)> nodes, List<(int End, int Id)> scratch)
    {
        nodes.Clear();
        for (int i = 0; i < chars.Length; i++)
        {
            scratch.Clear();
            model.Trie.Matches(chars, i, scratch);
            bool single = false;
            foreach (var (end, id) in scratch)
            {
                nodes.Add((i, end, id));
                if (end == i + 1) single = true;
            }
            if (!single) nodes.Add((i, i + 1, -1));
        }
    }

    private static double[] EStep(Model model, (int[] Chars, long Freq)[] words, out double objective)
    {
        var expected = new double[model.Pieces.Count];
        var nodes = new List<(int Start, int End, int Id)>();
        var scratch = new List<(int, int)>();
        double total = words.Sum(w => (double)w.Freq);
        objective = 0;
        foreach (var (chars, freq) in words)
        {
            Nodes(model, chars, nodes, scratch);
            int n = chars.Length;
            var alpha = new double[n + 1];
            var beta = new double[n + 1];
            Array.Fill(alpha, double.NegativeInfinity);
            Array.Fill(beta, double.NegativeInfinity);
            alpha[0] = 0;
            beta[n] = 0;
            // Nodes are listed by start position, so a forward pass in list order sees alpha[start] final.
            foreach (var (s, e, id) in nodes) alpha[e] = LogAdd(alpha[e], alpha[s] + Score(model, id));
            for (int k = nodes.Count - 1; k >= 0; k--)
            {
                var (s, e, id) = nodes[k];
                beta[s] = LogAdd(beta[s], Score(model, id) + beta[e]);
            }
            double z = alpha[n];
            foreach (var (s, e, id) in nodes)
                if (id >= 0) expected[id] += freq * Math.Exp(alpha[s] + Score(model, id) + beta[e] - z);
            objective -= freq * z / total;
        }
        return expected;
    }

    private static double Score(Model model, int id) => id >= 0 ? model.Pieces[id].Score : model.UnkScore;

    private static List<(string, double)> MStep(Model model, double[] expected)
    {
        var kept = new List<(string Piece, double Freq)>();
        double sum = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] < 0.5) continue; // kExpectedFrequencyThreshold
            kept.Add((model.Pieces[i].Piece, expected[i]));
            sum += expected[i];
        }
        double logSum = Digamma(sum);
        return kept.Select(p => (p.Piece, Digamma(p.Freq) - logSum)).ToList();
    }

    /// <summary>ψ(x) by recurrence up to 7 and the asymptotic series (as unigram_model_trainer.cc).</summary>
    internal static double Digamma(double x)
    {
        double result = 0;
        for (; x < 7; ++x) result -= 1 / x;
        x -= 0.5;
        double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
        return result + Math.Log(x) + xx2 / 24 - 7.0 / 960 * xx4 + 31.0 / 8064 * xx4 * xx2 - 127.0 / 30720 * xx4 * xx4;
    }

    /// <summary>The best path's node ids, excluding the node (0, n, <paramref name="excludeId"/>); null when no path is left.</summary>
    private static List<int>? Viterbi(Model model, int[] chars, List<(int Start, int End, int Id)> nodes, int excludeId)
    {
        int n = chars.Length;
        var best = new double[n + 1];
        var back = new (int Start, int Id)[n + 1];
        Array.Fill(best, double.NegativeInfinity);
        best[0] = 0;
        foreach (var (s, e, id) in nodes)
        {
            if (id == excludeId && s == 0 && e == n) continue;
            if (double.IsNegativeInfinity(best[s])) continue;
            double c = best[s] + Score(model, id);
            if (c > best[e]) { best[e] = c; back[e] = (s, id); }
        }
        if (double.IsNegativeInfinity(best[n])) return null;
        var path = new List<int>();
        for (int e = n; e > 0; e = back[e].Start) path.Add(back[e].Id);
        path.Reverse();
        return path;
    }

    private static List<(string, double)> Prune(Model model, (int[] Chars, long Freq)[] words, int desired, double shrinkingFactor)
    {
        int count = model.Pieces.Count;
        var alwaysKeep = new bool[count];
        var alternatives = new List<int>?[count];
        var nodes = new List<(int Start, int End, int Id)>();
        var scratch = new List<(int, int)>();
        for (int i = 0; i < count; i++)
        {
            var chars = PieceRules.CodePoints(model.Pieces[i].Piece);
            Nodes(model, chars, nodes, scratch);
            var first = Viterbi(model, chars, nodes, -2);
            var second = Viterbi(model, chars, nodes, i);
            if (second is null) { alwaysKeep[i] = true; continue; }           // no second-best: keep
            if (first is not null && first.Count >= 2) { alwaysKeep[i] = false; continue; } // Viterbi splits it already
            alwaysKeep[i] = true;
            alternatives[i] = second;
        }

        var freq = new double[count];
        var inverted = new List<int>[count];
        double vsum = 0;
        for (int w = 0; w < words.Length; w++)
        {
            var (chars, f) = words[w];
            Nodes(model, chars, nodes, scratch);
            vsum += f;
            foreach (int id in Viterbi(model, chars, nodes, -2)!)
            {
                if (id < 0) continue;
                freq[id] += f;
                (inverted[id] ??= []).Add(w);
            }
        }
        double sum = freq.Sum();
        double logSum = Math.Log(sum);
        var kept = new List<(string, double)>();
        var candidates = new List<(int Id, double Loss)>();
        for (int i = 0; i < count; i++)
        {
            if (freq[i] == 0 || !alwaysKeep[i]) continue;
            if (alternatives[i] is not { } alt) { kept.Add(model.Pieces[i]); continue; }
            double F = 0;
            foreach (int w in inverted[i]) F += words[w].Freq;
            F /= vsum;
            double logProbSp = Math.Log(freq[i]) - logSum;
            double logSumAlt = Math.Log(sum + freq[i] * (alt.Count - 1));
            double logProbAlt = 0;
            foreach (int n in alt) logProbAlt += Math.Log((n >= 0 ? freq[n] : 0) + freq[i]) - logSumAlt;
            candidates.Add((i, F * (logProbSp - logProbAlt)));
        }
        int prunedSize = Math.Max(desired, (int)(shrinkingFactor * count));
        foreach (var (id, _) in candidates.OrderByDescending(c => c.Loss).ThenBy(c => c.Id))
        {
            if (kept.Count >= prunedSize) break;
            kept.Add(model.Pieces[id]);
        }
        return kept;
    }

    private static List<(string Piece, float Score)> Finalize(Model model, Dictionary<int, long> required, int normalCount)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in model.Pieces) scores[p.Piece] = p.Score;
        double minScore = model.Pieces.Min(p => p.Score);
        var final = new Dictionary<string, double>(StringComparer.Ordinal);
        double penalty = 0;
        foreach (var (c, _) in required.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
        {
            string s = char.ConvertFromUtf32(c);
            if (scores.TryGetValue(s, out double sc)) final[s] = sc;
            else { final[s] = minScore + penalty; penalty += 0.0001; } // kMinScorePenaltyDelta
        }
        foreach (var p in model.Pieces.OrderByDescending(p => p.Score).ThenBy(p => p.Piece, StringComparer.Ordinal))
        {
            if (final.ContainsKey(p.Piece)) continue;
            if (final.Count >= normalCount) break;
            final[p.Piece] = p.Score;
        }
        return final.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, (float)kv.Value)).ToList();
    }
}
