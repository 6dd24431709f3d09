using System.Text;
using System.Text.Json.Nodes;
using Loom.Data.Documents;
using Loom.Data.Readers;
using Loom.Data.Writers;

namespace Loom.Data.Tests.Readers;

public class CorpusReaderTests
{
    private static string Write(string name, byte[] bytes)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-read-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static List<Document> Read(string path, ReaderOptions? options = null, List<QuarantinedRecord>? quarantined = null, ReadStatistics? stats = null) =>
        CorpusReader.Read([path], options ?? new ReaderOptions(), stats ?? new ReadStatistics(), q => quarantined?.Add(q)).ToList();

    [Fact]
    public void JsonlKeepsOtherMembersVerbatimAndQuarantinesWhatItCannotRead()
    {
        string lines = "\uFEFF{\"id\": 7, \"text\": \"caf\\u00e9 \\\"quoted\\\"\", \"meta\": {\"a\": [1, 2.50, null]}, \"name\": \"Zoë\"}\r\n" +
                       "   \r\n" +                                         // blank (with a CR): not a record
                       "{\"text\": \"no id\"}\n" +
                       "{\"id\": \"x\", \"text\": 5}\n" +                  // text not a string
                       "{\"id\": \"y\", \"body\": \"wrong field\"}\n" +
                       "{\"id\": \"z\", \"text\": \"ok\"} trailing\n" +
                       "[1, 2]\n" +
                       "{\"id\": \"last\", \"text\": \"no newline at the end\"}";
        string path = Write("c.jsonl", Encoding.UTF8.GetBytes(lines));
        var quarantined = new List<QuarantinedRecord>();
        var docs = Read(path, quarantined: quarantined);
        Assert.Equal(["7", "c.jsonl:3", "last"], docs.Select(d => d.Id));
        Assert.Equal("café \"quoted\"", docs[0].Text);
        Assert.Equal("\"meta\": {\"a\": [1, 2.50, null]},\"name\": \"Zoë\"", Encoding.UTF8.GetString(docs[0].MetadataJson!));
        Assert.Equal("Zoë", docs[0].Metadata!["name"]!.GetValue<string>());
        Assert.Null(docs[1].MetadataJson);
        Assert.Equal([4L, 5, 6, 7], quarantined.Select(q => q.Line));
        Assert.Contains("is not a string", quarantined[0].Reason);
        Assert.Contains("no string field \"text\"", quarantined[1].Reason);
        Assert.Contains("malformed JSON", quarantined[2].Reason);
        Assert.Contains("not a JSON object", quarantined[3].Reason);
        Assert.Equal(8, docs[2].Line);

        // Written back, the members come out byte for byte as they came in.
        string outPath = Path.Combine(Path.GetDirectoryName(path)!, "out.jsonl");
        using (var w = new JsonlWriter(outPath))
        {
            foreach (var d in docs) w.Write(d, "text");
            w.Complete();
        }
        var written = File.ReadAllLines(outPath);
        Assert.Equal("{\"id\":\"7\",\"text\":\"café \\\"quoted\\\"\",\"meta\": {\"a\": [1, 2.50, null]},\"name\": \"Zoë\"}", written[0]);
        Assert.Equal("2.50", JsonNode.Parse(written[0])!["meta"]!["a"]![1]!.ToJsonString());
    }

    [Fact]
    public void InvalidUtf8IsReplacedAndCountedOncePerSequence()
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("{\"id\": \"a\", \"text\": \"x"));
        bytes.AddRange([0xFF, 0xC3, (byte)'y', 0xE2, 0x82]);               // three ill-formed subsequences
        bytes.AddRange(Encoding.UTF8.GetBytes("z\"}\n{\"id\": \"b\", \"text\": \"fine\"}\n"));
        var stats = new ReadStatistics();
        var docs = Read(Write("u.jsonl", bytes.ToArray()), stats: stats);
        Assert.Equal("x\uFFFD\uFFFDy\uFFFDz", docs[0].Text);
        Assert.Equal(3, stats.InvalidUtf8Sequences);
        Assert.Equal("fine", docs[1].Text);
    }

    [Fact]
    public void TextBlocksLinesAndCsvSplitOnBytes()
    {
        string text = "first block\r\nstill first\n\u00A0\u3000\n\nsecond\n \t\nthird";
        string path = Write("t.txt", Encoding.UTF8.GetBytes(text));
        var blocks = Read(path);
        Assert.Equal(["first block\nstill first", "second", "third"], blocks.Select(d => d.Text));
        Assert.Equal([1L, 5, 7], blocks.Select(d => d.Line));
        Assert.Equal(["first block", "still first", "second", "third"], Read(path, new ReaderOptions { TextSplit = TextSplit.Lines }).Select(d => d.Text));
        Assert.Equal("first block\nstill first\n\u00A0\u3000\n\nsecond\n \t\nthird", Read(path, new ReaderOptions { TextSplit = TextSplit.File }).Single().Text);

        string csv = "id,text,stars\n\nr1,\"multi\nline, \"\"quoted\"\"\",5\nr2,plain,4\n";
        var rows = Read(Write("r.csv", Encoding.UTF8.GetBytes(csv)));
        Assert.Equal(["multi\nline, \"quoted\"", "plain"], rows.Select(d => d.Text));
        Assert.Equal([3L, 5], rows.Select(d => d.Line));
        Assert.Equal("4", rows[1].Metadata!["stars"]!.GetValue<string>());
    }

    [Fact]
    public void ALineLongerThanTheBufferAndShardSkippingWork()
    {
        string big = new('w', 3_000_000);
        var sb = new StringBuilder();
        for (int i = 0; i < 10; i++) sb.Append("{\"id\": \"d").Append(i).Append("\", \"text\": \"").Append(i == 4 ? big : "t" + i).Append("\"}\n");
        string path = Write("big.jsonl", Encoding.UTF8.GetBytes(sb.ToString()));
        var all = Read(path);
        Assert.Equal(10, all.Count);
        Assert.Equal(big, all[4].Text);
        var odd = CorpusReader.Read([path], new ReaderOptions(), new ReadStatistics(), take: i => i % 2 == 1).ToList();
        Assert.Equal(["d1", "d3", "d5", "d7", "d9"], odd.Select(d => d.Id));
        Assert.Equal([1L, 3, 5, 7, 9], odd.Select(d => d.Index));
    }

    // A stream that hands out 1 to 7 bytes per read, as pipes and decompressors may: records must not
    // depend on where reads end.
    private sealed class TrickleStream(byte[] data, int seed) : MemoryStream(data)
    {
        private readonly Random _rng = new(seed);
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, _rng.Next(1, 8)));
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, _rng.Next(1, 8))]);
    }

    private static List<(string Record, long Line)> Records(Stream stream, RecordSplit split)
    {
        var records = new List<(string, long)>();
        using var reader = new RecordReader(stream, split);
        while (reader.Next(out var record, out long line)) records.Add((Encoding.UTF8.GetString(record), line));
        return records;
    }

    [Fact]
    public void RecordsDoNotDependOnHowTheStreamIsRead()
    {
        var rng = new Random(4);
        string[] pieces = ["word", " ", "\n", "\r\n", "\n\n", "\"", "\"\"", ",", "é", "\t", "  \n"];
        for (int t = 0; t < 200; t++)
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, rng.Next(0, 200)).Select(_ => pieces[rng.Next(pieces.Length)])));
            foreach (var split in new[] { RecordSplit.Lines, RecordSplit.Blocks, RecordSplit.Csv, RecordSplit.File })
                Assert.Equal(Records(new MemoryStream(bytes), split), Records(new TrickleStream(bytes, t), split));
        }
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    // Python's csv keeps "\r\n" inside a quoted field; Loom drops the '\r' of every line end, inside quotes too (documented).
    private static string Lf(string s) => s.Replace("\r\n", "\n");

    [Fact]
    public void WellFormedCsvReadsAsPythonsCsvModule()
    {
        var expected = JsonNode.Parse(File.ReadAllText(Fixture("csv_wellformed.expected.json")))!.AsArray();
        var quarantined = new List<QuarantinedRecord>();
        var docs = Read(Fixture("csv_wellformed.csv"), quarantined: quarantined);
        Assert.Empty(quarantined);
        Assert.Equal(expected.Select(r => Lf(r![2]!.GetValue<string>())), docs.Select(d => d.Text));
        Assert.Equal(expected.Select(r => r![1]!.GetValue<string>()), docs.Select(d => d.Id));
        Assert.Equal(expected.Select(r => r![0]!.GetValue<long>()), docs.Select(d => d.Line));
    }

    [Fact]
    public void AnUnbalancedQuoteQuarantinesItsRowAndReadingResumesOnTheNextLine()
    {
        // Reference: Python's csv module on the same file without the broken line (make_csv_fixture.py).
        var expected = JsonNode.Parse(File.ReadAllText(Fixture("csv_unbalanced.expected.json")))!;
        long badLine = expected["bad_line"]!.GetValue<long>();
        var rows = expected["rows"]!.AsArray();
        var quarantined = new List<QuarantinedRecord>();
        var docs = Read(Fixture("csv_unbalanced.csv"), quarantined: quarantined);
        Assert.Equal(rows.Select(r => Lf(r![2]!.GetValue<string>())), docs.Select(d => d.Text));
        Assert.Equal(rows.Select(r => r![0]!.GetValue<long>()), docs.Select(d => d.Line));
        var bad = Assert.Single(quarantined);
        Assert.Equal(badLine, bad.Line);
        Assert.Contains($"line {badLine}", bad.Reason);
        Assert.StartsWith("3,\"an unclosed quote", bad.Raw);

        // Shards split the file into the same records: the union of two halves is the whole.
        var even = CorpusReader.Read([Fixture("csv_unbalanced.csv")], new ReaderOptions(), new ReadStatistics(), take: i => i % 2 == 0).ToList();
        var odd = CorpusReader.Read([Fixture("csv_unbalanced.csv")], new ReaderOptions(), new ReadStatistics(), take: i => i % 2 == 1).ToList();
        Assert.Equal(docs.Select(d => d.Id).Order(), even.Concat(odd).Select(d => d.Id).Order());
    }

    [Fact]
    public void AQuotedFieldLongerThanTheLimitsIsQuarantinedAndReadingResumes()
    {
        string csv = "id,text\n1,\"a\nb\nc\nd\"\n2,ok\n3,\"" + new string('x', 200) + "\n" + new string('y', 200) + "\"\n4,fine\n";
        string path = Write("long.csv", Encoding.UTF8.GetBytes(csv));
        // Within the limits the fields are whole.
        Assert.Equal(["a\nb\nc\nd", "ok", new string('x', 200) + "\n" + new string('y', 200), "fine"], Read(path).Select(d => d.Text));
        var quarantined = new List<QuarantinedRecord>();
        var docs = Read(path, new ReaderOptions { CsvMaxQuotedLines = 3, CsvMaxQuotedBytes = 300 }, quarantined);
        Assert.Contains(quarantined, q => q.Line == 2 && q.Reason.Contains("csv_max_quoted_lines"));
        Assert.Contains(quarantined, q => q.Line == 7 && q.Reason.Contains("csv_max_quoted_bytes"));
        Assert.Contains("ok", docs.Select(d => d.Text));
        Assert.Contains("fine", docs.Select(d => d.Text));
        Assert.Equal([6L, 9], docs.Where(d => d.Text is "ok" or "fine").Select(d => d.Line));
    }

    [Fact]
    public void TruncatedGzipIsAnErrorAndConcatenatedGzipReadsWhole()
    {
        byte[] Gz(string text)
        {
            var ms = new MemoryStream();
            using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Optimal, true)) gz.Write(Encoding.UTF8.GetBytes(text));
            return ms.ToArray();
        }
        string a = string.Concat(Enumerable.Range(0, 84).Select(i => $"{{\"text\": \"document {i} {new string('z', i)}\"}}\n"));
        var full = Gz(a);
        string both = Write("both.jsonl.gz", [.. full, .. Gz("{\"text\": \"tail\"}\n")]);
        Assert.Equal(85, Read(both).Count);
        foreach (int cut in new[] { 5, full.Length / 2, full.Length - 4 })
        {
            string path = Write("cut.jsonl.gz", full[..cut]);
            var e = Assert.Throws<InvalidDataException>(() => Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains($"byte {cut}", e.Message);
        }
    }

    [Fact]
    public void LoneSurrogateEscapesBecomeReplacementCharactersAndAreCounted()
    {
        // What Python's json.dumps({"id": "s\ud800", "text": "x\udc00y"}) writes.
        string path = Write("s.jsonl", Encoding.UTF8.GetBytes("{\"id\": \"s\\ud800\", \"text\": \"x\\udc00y\"}\n{\"text\": \"fine \\ud83d\\ude00\"}\n"));
        var stats = new ReadStatistics();
        var quarantined = new List<QuarantinedRecord>();
        var docs = Read(path, quarantined: quarantined, stats: stats);
        Assert.Empty(quarantined);
        Assert.Equal(["x\uFFFDy", "fine " + char.ConvertFromUtf32(0x1F600)], docs.Select(d => d.Text));
        Assert.Equal("s\uFFFD", docs[0].Id);
        Assert.Equal(2, stats.LoneSurrogates);
    }
}
