// Unigram segmentation (Kudo 2018, "Subword Regularization"): the Viterbi path of maximum total piece score
// through the lattice of every vocabulary piece matching the normalized text, as sentencepiece's
// unigram_model.cc Model::EncodeOptimized computes it over UTF-8 byte positions:
//   best[end] = max over pieces p = text[start..end) of best[start] + score(p);
//   a user-defined piece scores length·max_score − 0.1 (in double, so it always wins);
//   where no piece covers exactly the one character at start, an unknown node of score min_score − 10
//   (kUnkPenalty) spans that character. Ties keep the first candidate found (shorter pieces are found first).
namespace Loom.Tokenizers.SentencePiece;

/// <summary>Viterbi segmentation over a unigram vocabulary.</summary>
internal sealed class UnigramSegmenter : ISentencePieceSegmenter
{
    private const float UnkPenalty = 10.0f;
    private readonly SentencePieceVocabulary _vocab;

    [ThreadStatic] private static BestNode[]? t_best;

    private struct BestNode
    {
        public int Id;
        public float Score;
        public int StartsAt;
    }

    public UnigramSegmenter(SentencePieceVocabulary vocab) => _vocab = vocab;

    public void Segment(ReadOnlySpan<byte> text, List<PieceSpan> output)
    {
        int size = text.Length;
        if (size == 0) return;
        var best = t_best is { } b && b.Length > size ? b : t_best = new BestNode[Math.Max(size + 1, 256)];
        for (int i = 0; i <= size; i++) best[i] = new BestNode { Id = -1, Score = 0, StartsAt = -1 };
        var trie = _vocab.Matchable;
        var types = _vocab.Types;
        var scores = _vocab.Scores;
        float unkScore = _vocab.MinScore - UnkPenalty;
        float maxScore = _vocab.MaxScore;
        int startsAt = 0;
        while (startsAt < size)
        {
            float tillHere = best[startsAt].Score;
            bool hasSingleNode = false;
            int mblen = Math.Min(Utf8Chars.OneCharLen(text[startsAt]), size - startsAt);
            int node = 0;
            for (int keyPos = startsAt; keyPos < size;)
            {
                node = trie.Step(node, text[keyPos]);
                keyPos++;
                if (node < 0) break;
                int id = trie.ValueAt(node);
                if (id < 0 || types[id] == SentencePieceType.Unused) continue;
                int length = keyPos - startsAt;
                ref var target = ref best[keyPos];
                // C++: `const auto score = IsUserDefined ? (length * max_score_ - 0.1) : GetScore(ret)` is a double
                // for user-defined pieces and a float otherwise; the sum is rounded to float when stored.
                if (types[id] == SentencePieceType.UserDefined)
                {
                    double candidate = (length * maxScore - 0.1) + tillHere;
                    if (target.StartsAt == -1 || candidate > target.Score) { target.Score = (float)candidate; target.StartsAt = startsAt; target.Id = id; }
                }
                else
                {
                    float candidate = scores[id] + tillHere;
                    if (target.StartsAt == -1 || candidate > target.Score) { target.Score = candidate; target.StartsAt = startsAt; target.Id = id; }
                }
                if (!hasSingleNode && length == mblen) hasSingleNode = true;
            }
            if (!hasSingleNode)
            {
                ref var target = ref best[startsAt + mblen];
                float candidate = unkScore + tillHere;
                if (target.StartsAt == -1 || candidate > target.Score) { target.Score = candidate; target.StartsAt = startsAt; target.Id = _vocab.UnkId; }
            }
            startsAt += mblen;
        }
        int first = output.Count;
        for (int end = size; end > 0;)
        {
            var n = best[end];
            output.Add(new PieceSpan(n.StartsAt, end - n.StartsAt, n.Id));
            end = n.StartsAt;
        }
        output.Reverse(first, output.Count - first);
    }
}
