// Text-to-text data as Hugging Face's run_summarization.py prepares it: T5Tokenizer(truncation=True)
// keeps </s> after cutting to max_length − 1 tokens; DataCollatorForSeq2Seq pads labels with −100
// and sources with the pad id; T5's _shift_right makes the decoder inputs (decoder_start_token_id,
// then labels[:-1] with −100 → pad). Bad records are file:line errors.
using Loom.Training.Loop;
using Loom.Training.Seq2Seq;

namespace Loom.Training.Tests.Seq2Seq;

public sealed class Seq2SeqDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-s2s-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void ReadsConfiguredFieldsAndNamesFileAndLineOfBadRecords()
    {
        string good = Write("good.jsonl", """{"question": "what is two plus two", "answer": "4"}""", "", """{"question": "x y", "answer": "z", "extra": 1}""");
        var options = new Seq2SeqDataOptions { SourceField = "question", TargetField = "answer" };
        var pairs = Seq2SeqDataReader.Read(good, options);
        Assert.Equal(2, pairs.Count);
        Assert.Equal("what is two plus two", pairs[0].Source);
        Assert.Equal($"{good}:3", pairs[1].Where);

        string missing = Write("missing.jsonl", """{"question": "a", "answer": "b"}""", """{"question": "a", "reply": "b"}""");
        var e = Assert.Throws<InvalidDataException>(() => Seq2SeqDataReader.Read(missing, options));
        Assert.Contains($"{missing}:2", e.Message);
        Assert.Contains("\"answer\" is missing", e.Message);
        Assert.Contains("seq2seq.target_field", e.Message);

        string notString = Write("num.jsonl", """{"source": 5, "target": "b"}""");
        Assert.Contains($"{notString}:1: \"source\" is number", Assert.Throws<InvalidDataException>(() => Seq2SeqDataReader.Read(notString, new())).Message);
        string broken = Write("broken.jsonl", """{"source": "a", "target": "b"}""", "{oops");
        Assert.Contains($"{broken}:2: not valid JSON", Assert.Throws<InvalidDataException>(() => Seq2SeqDataReader.Read(broken, new())).Message);
        Assert.Contains("must be a field other than seq2seq.source_field",
            Assert.Throws<ArgumentException>(() => Seq2SeqDataReader.Read(good, new Seq2SeqDataOptions { TargetField = "source" })).Message);
    }

    [Fact]
    public void TruncationKeepsEosAndIsCounted()
    {
        var tok = new WordTokenizer();
        var pairs = new List<TextPair> { new("a b c d e f", "g h", "1"), new("a b", "g h i j k", "2"), new("a", "g", "3") };
        var data = Seq2SeqDataset.Encode(pairs, tok, new Seq2SeqDataOptions { MaxSourceLength = 4, MaxTargetLength = 3, SourcePrefix = "p: " });
        Assert.Equal(1, data.TruncatedSources);   // "p: a b c d e f" is 7 tokens; "p: a b" fits 3 + </s>
        Assert.Equal(1, data.TruncatedTargets);
        var ids = new List<int>();
        tok.Encode("p: a b", ids);
        Assert.Equal([.. ids, 1], data.Examples[0].Source);         // cut to 3 content ids + </s>
        Assert.Equal([.. ids, 1], data.Examples[1].Source);
        Assert.Equal(3, data.Examples[1].Labels.Length);
        Assert.Equal(1, data.Examples[1].Labels[^1]);
    }

    [Fact]
    public void BatchesPadSourcesAndLabelsAndShiftDecoderInputs()
    {
        var examples = new List<Seq2SeqExample>
        {
            new([5, 6, 7, 1], [8, 9, 1], "a"),
            new([5, 1], [10, 11, 12, 13, 1], "b"),
            new([7, 7, 7, 7, 7, 1], [8, 1], "c"),
        };
        var batches = new Seq2SeqBatches(examples, batchSize: 2, maxTokens: 0, padId: 0, decoderStartId: 0, shuffle: false, seed: 1);
        Assert.Equal(2, batches.BatchesPerPass());
        var b = batches.Next();
        var src = b.Sources!.Value;
        Assert.Equal(4, src.Time);
        Assert.Equal(new[] { 5, 6, 7, 1, 5, 1, 0, 0 }, src.Ids);
        Assert.Equal(new[] { 4, 2 }, src.Lengths);
        Assert.Equal(5, b.Time);
        const int I = TeacherForcing.IgnoreIndex;
        Assert.Equal(new[] { 8, 9, 1, I, I, 10, 11, 12, 13, 1 }, b.Targets);
        Assert.Equal(new[] { 0, 8, 9, 1, 0, 0, 10, 11, 12, 13 }, b.Inputs);
        Assert.Equal(8, b.RealTokens);
        var c = batches.Next();
        Assert.Equal(1, c.Batch);
        Assert.Equal(6, c.Sources!.Value.Time);

        // By tokens: B × (S + T) ≤ 12 puts (4 + 3) alone, then (2 + 5) alone, then (6 + 2).
        var byTokens = new Seq2SeqBatches(examples, batchSize: 8, maxTokens: 12, padId: 0, decoderStartId: 0, shuffle: false, seed: 1);
        Assert.Equal(3, byTokens.BatchesPerPass());
        Assert.Equal(1, byTokens.Next().Batch);
    }

    [Fact]
    public void ShuffledBatchesResumeExactly()
    {
        var examples = Enumerable.Range(0, 23).Select(i => new Seq2SeqExample(Enumerable.Repeat(3 + i, 1 + i % 5).Append(1).ToArray(), [3 + i, 1], i.ToString())).ToList();
        var a = new Seq2SeqBatches(examples, 4, 0, 0, 0, shuffle: true, seed: 9);
        for (int i = 0; i < 8; i++) a.Next();   // into the second epoch
        var state = a.State;
        var expected = Enumerable.Range(0, 10).Select(_ => { var b = a.Next(); return (int[])b.Sources!.Value.Ids.Clone(); }).ToList();
        var resumed = new Seq2SeqBatches(examples, 4, 0, 0, 0, shuffle: true, seed: 12345) { State = state };
        foreach (var ids in expected) Assert.Equal(ids, resumed.Next().Sources!.Value.Ids);
        // Every example once per epoch.
        var fresh = new Seq2SeqBatches(examples, 4, 0, 0, 0, shuffle: true, seed: 3);
        var seen = new List<int>();
        for (int i = 0; i < 6; i++) { var b = fresh.Next(); for (int r = 0; r < b.Batch; r++) seen.Add(b.Targets[r * b.Time]); }
        Assert.Equal(Enumerable.Range(3, 23), seen.Order());
    }
}
