using Loom.Training.Seq2Seq;

namespace Loom.Training.Tests.Seq2Seq;

// A test tokenizer with T5's special ids (pad 0, </s> 1, unk 2) and sentinels at the top of the
// vocabulary: each whitespace-separated word gets the next free id.
internal sealed class WordTokenizer(int vocabularySize = 200, int sentinels = 10) : ITextToTextTokenizer
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _words = ["<pad>", "</s>", "<unk>"];

    public void Encode(string text, List<int> ids)
    {
        foreach (var w in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!_ids.TryGetValue(w, out int id))
            {
                id = _words.Count < FirstSentinelId - sentinels + 1 ? _words.Count : 2;
                if (id != 2) { _ids[w] = id; _words.Add(w); }
            }
            ids.Add(id);
        }
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var words = new List<string>();
        foreach (int id in ids) if (id > 2 && id < _words.Count) words.Add(_words[id]);
        return string.Join(' ', words);
    }

    public int EosId => 1;
    public int PadId => 0;
    public int FirstSentinelId => vocabularySize - 1;
    public int SentinelCount => sentinels;
}
