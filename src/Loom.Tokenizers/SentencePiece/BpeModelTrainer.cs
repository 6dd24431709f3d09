// SentencePiece's BPE trainer (Sennrich et al. 2016 over characters, as sentencepiece's bpe_model_trainer.cc):
// words start as characters (the required characters; others are kUNKChar and never merge); each step
// merges the most frequent adjacent pair whose result is a valid piece (ties: fewer characters, then
// the smaller string), until vocab_size − meta − characters pieces exist. Scores encode the merge order:
// the i-th merge scores −i, and the characters follow with the next scores (most frequent first), so
// BpeSegmenter, which merges the highest-scoring pair first, replays the training merges.
namespace Loom.Tokenizers.SentencePiece;

internal static class BpeModelTrainer
{
    public static List<(string Piece, float Score)> Train(Dictionary<string, long> wordCounts, Dictionary<int, long> required,
        int normalCount, PieceRules rules, IProgress<string>? progress, CancellationToken ct)
    {
        var symbols = new List<string>();
        var symbolChars = new List<int[]>();
        var symbolIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(string s, int[] chars)
        {
            if (!symbolIds.TryGetValue(s, out int id)) { id = symbols.Count; symbols.Add(s); symbolChars.Add(chars); symbolIds[s] = id; }
            return id;
        }

        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal).ToArray();
        var seqs = new List<int>[words.Length];
        var freqs = new long[words.Length];
        for (int w = 0; w < words.Length; w++)
        {
            freqs[w] = words[w].Value;
            seqs[w] = [];
            foreach (var r in words[w].Key.EnumerateRunes()) seqs[w].Add(Intern(r.ToString(), [r.Value]));
        }
        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        void Count(int w, int sign)
        {
            var s = seqs[w];
            for (int i = 0; i + 1 < s.Count; i++)
            {
                var p = (s[i], s[i + 1]);
                pairCounts[p] = pairCounts.GetValueOrDefault(p) + sign * freqs[w];
                if (sign > 0) (pairWords.TryGetValue(p, out var set) ? set : pairWords[p] = []).Add(w);
            }
        }
        for (int w = 0; w < words.Length; w++) Count(w, +1);

        var invalid = new HashSet<(int, int)>();
        var merges = new List<string>();
        int target = normalCount - required.Count;
        while (merges.Count < target)
        {
            ct.ThrowIfCancellationRequested();
            (int, int) best = (-1, -1);
            long bestFreq = 0;
            int bestLen = 0;
            string? bestText = null;
            foreach (var (p, f) in pairCounts)
            {
                if (f <= 0 || f < bestFreq || invalid.Contains(p)) continue;
                int len = symbolChars[p.Item1].Length + symbolChars[p.Item2].Length;
                if (f == bestFreq && len > bestLen) continue;
                string text = symbols[p.Item1] + symbols[p.Item2];
                if (f == bestFreq && len == bestLen && string.CompareOrdinal(text, bestText) >= 0) continue;
                if (!rules.IsValid([.. symbolChars[p.Item1], .. symbolChars[p.Item2]])) { invalid.Add(p); continue; }
                (best, bestFreq, bestLen, bestText) = (p, f, len, text);
            }
            if (bestText is null) break; // nothing left to merge
            int merged = Intern(bestText, [.. symbolChars[best.Item1], .. symbolChars[best.Item2]]);
            merges.Add(bestText);
            foreach (int w in pairWords[best].ToArray())
            {
                Count(w, -1);
                var s = seqs[w];
                for (int i = 0; i + 1 < s.Count; i++)
                    if (s[i] == best.Item1 && s[i + 1] == best.Item2) { s[i] = merged; s.RemoveAt(i + 1); }
                Count(w, +1);
            }
            pairCounts.Remove(best);
            if (merges.Count % 500 == 0) progress?.Report($"bpe: {merges.Count:N0}/{target:N0} merges");
        }
        var pieces = new List<(string, float)>(normalCount);
        foreach (var m in merges) pieces.Add((m, -pieces.Count));
        foreach (var (c, _) in required.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
            pieces.Add((char.ConvertFromUtf32(c), -pieces.Count));
        return pieces;
    }
}
