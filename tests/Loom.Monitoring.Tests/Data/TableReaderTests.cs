using Loom.Monitoring.Data;

namespace Loom.Monitoring.Tests.Data;

public sealed class TableReaderTests
{
    [Fact]
    public void Reads_jsonl_csv_plain_numbers_and_gzip_with_kinds_and_times()
    {
        string dir = RequestLogs.TempDir();
        string jsonl = Path.Combine(dir, "a.jsonl");
        File.WriteAllText(jsonl, "{\"x\": 1.5, \"c\": \"a\", \"time\": \"2026-01-01T00:00:00Z\"}\n\n{\"x\": 2, \"c\": \"b\", \"extra\": true, \"time\": 1767225660}\n");
        var t = TableReader.Read(jsonl);
        Assert.Equal(2, t.RowCount);
        Assert.Equal([1.5, 2.0], t.Find("x")!.Values());
        Assert.Equal(ColumnKind.Categorical, t.Find("c")!.InferKind());
        Assert.Null(t.Find("extra")!.Cells[0]);
        Assert.Equal("true", t.Find("extra")!.Cells[1]);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero), t.Times![1]);

        string csv = Path.Combine(dir, "b.csv");
        File.WriteAllText(csv, "x,text\n1,\"hello, \"\"world\"\" and more words here\"\n2,plain\n");
        var c = TableReader.Read(csv);
        Assert.Equal("hello, \"world\" and more words here", c.Find("text")!.Cells[0]);
        Assert.True(c.Find("x")!.IsNumeric);

        string nums = Path.Combine(dir, "n.txt.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(nums), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write("1\n2.5\n-3e2\n"u8);
        Assert.Equal([1, 2.5, -300], TableReader.Read(nums).Find("value")!.Values());

        File.WriteAllText(Path.Combine(dir, "bad.txt"), "1\n2\nthree\n");
        var e = Assert.Throws<InvalidDataException>(() => TableReader.Read(Path.Combine(dir, "bad.txt"), "--current"));
        Assert.Contains("bad.txt:3", e.Message);
        Assert.Contains("--current", e.Message);
        Directory.Delete(dir, true);
    }
}
