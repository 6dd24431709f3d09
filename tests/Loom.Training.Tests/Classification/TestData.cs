// Small files for the fine-tuning tests: a WordPiece vocabulary and a trivially learnable sentiment set
// (a review holding "great" or "good" is positive, one holding "awful" or "bad" negative).
namespace Loom.Training.Tests.Classification;

internal static class TestData
{
    public static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "good", "awful", "bad", "plot", "and", "a", "very", "film", "##s", "it", "is", ",", "."];

    public static string Directory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-ft-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A folder with vocab.txt (BERT's layout, lowercasing).</summary>
    public static string WordPieceTokenizer(string dir)
    {
        string tok = Path.Combine(dir, "tokenizer");
        System.IO.Directory.CreateDirectory(tok);
        File.WriteAllLines(Path.Combine(tok, "vocab.txt"), Vocabulary);
        return tok;
    }

    /// <summary>n JSONL sentiment records, alternating labels, with filler words so lengths vary.</summary>
    public static string Sentiment(string dir, int n, string name = "train.jsonl", int seed = 0)
    {
        var rng = new Random(seed);
        var lines = new List<string>();
        string[] pos = ["great", "good"], neg = ["awful", "bad"], filler = ["the", "movie", "was", "plot", "and", "a", "very", "film", "it", "is"];
        for (int i = 0; i < n; i++)
        {
            bool positive = i % 2 == 0;
            var words = Enumerable.Range(0, 2 + rng.Next(8)).Select(_ => filler[rng.Next(filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), positive ? pos[rng.Next(2)] : neg[rng.Next(2)]);
            lines.Add(System.Text.Json.JsonSerializer.Serialize(new { text = string.Join(' ', words), label = positive ? "positive" : "negative" }));
        }
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
