using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Loom.Data.Pipeline;

namespace Loom.Data.Tests.Pipeline;

public class CuratorTests
{
    internal static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "loom-curate-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    // Paragraphs with at least six sentences, so C4's five-sentence rule keeps them.
    private static string[] Paragraphs() => File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "wikitext2_paragraphs.txt"))
        .Where(p => p.Split(" . ").Length >= 7).ToArray();

    // A corpus with known faults: good paragraphs, an exact copy (different spacing and case), a
    // near copy, a short line, a German paragraph, code, a malformed JSON line and invalid UTF-8.
    private static string WriteCorpus(string dir)
    {
        var p = Paragraphs();
        string path = Path.Combine(dir, "corpus.jsonl");
        var lines = new List<string>();
        for (int i = 0; i < 60; i++) lines.Add(JsonSerializer.Serialize(new { id = $"w{i}", text = p[i], source = "wikitext" }));
        lines.Add(JsonSerializer.Serialize(new { id = "exact", text = "  " + p[3].ToUpperInvariant().Replace(" ", "   ") }));
        int cut = p[5].IndexOf(" the ", StringComparison.Ordinal);   // one word changed: Jaccard ≈ 0.9
        lines.Add(JsonSerializer.Serialize(new { id = "near", text = p[5][..cut] + " a " + p[5][(cut + 5)..] }));
        lines.Add(JsonSerializer.Serialize(new { id = "short", text = "Too short to be a document." }));
        lines.Add(JsonSerializer.Serialize(new { id = "german", text = string.Concat(Enumerable.Repeat("Die Stadt liegt am Fluss, und die Menschen, die dort wohnen, sind freundlich und hilfsbereit. Jeden Morgen gehen sie zur Arbeit und kommen am Abend wieder nach Hause. ", 4)) }));
        lines.Add(JsonSerializer.Serialize(new { id = "code", text = p[7] + " function f() { return 1; }" }));
        lines.Add("{\"id\": \"broken\", \"text\": \"unterminated");
        lines.Add(JsonSerializer.Serialize(new { id = "pii", text = p[70] + " Write to jane.doe@example.com or call 212-555-0175 for details." }));
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        // Invalid UTF-8 inside the last paragraph's text: 0xFF is never valid.
        string last = JsonSerializer.Serialize(new { id = "bad-utf8", text = p[71] + " The end." });
        var lastBytes = Encoding.UTF8.GetBytes(last).ToList();
        lastBytes.Insert(lastBytes.Count / 2, 0xFF);
        bytes.AddRange(lastBytes);
        bytes.Add((byte)'\n');
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    private static List<JsonElement> Read(string path) => File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void DefaultPipelineRemovesEachFaultWithItsStageAndKeepsTheRest()
    {
        string dir = TempDir();
        string input = WriteCorpus(dir);
        string output = Path.Combine(dir, "out");
        var report = Curator.Run(new CurationConfig { Input = [input], Output = output }, threads: 2)!;
        var kept = Read(Path.Combine(output, "kept.jsonl"));
        var removed = Read(Path.Combine(output, "removed.jsonl")).ToDictionary(e => e.GetProperty("id").GetString()!);
        Assert.True(removed["exact"].GetProperty("_stage").GetString() == "exact_dedup", removed["exact"].ToString());
        Assert.Equal("w3", removed["exact"].GetProperty("_duplicate_of").GetString());
        Assert.Equal("near_dedup", removed["near"].GetProperty("_stage").GetString());
        Assert.Equal("w5", removed["near"].GetProperty("_duplicate_of").GetString());
        Assert.Equal("gopher_quality", removed["short"].GetProperty("_stage").GetString());
        Assert.Contains(removed["german"].GetProperty("_stage").GetString(), new[] { "gopher_quality", "language" }); // English stop-word rule or language id
        Assert.Equal("c4_curly_bracket", removed["code"].GetProperty("_reason").GetString());
        Assert.False(removed.ContainsKey("pii"), removed.GetValueOrDefault("pii").ToString());
        var pii = kept.Single(e => e.GetProperty("id").GetString() == "pii").GetProperty("text").GetString()!;
        Assert.Contains("<EMAIL_ADDRESS>", pii);
        Assert.Contains("<PHONE_NUMBER>", pii);
        Assert.DoesNotContain("jane.doe", pii);
        Assert.Equal("wikitext", kept.First(e => e.GetProperty("id").GetString() == "w0").GetProperty("source").GetString()); // metadata kept
        Assert.Equal(1, report.Quarantined);
        Assert.Contains("broken", File.ReadAllText(Path.Combine(output, "quarantine.jsonl")));
        Assert.Equal(1, report.InvalidUtf8);
        Assert.False(removed.ContainsKey("bad-utf8"), removed.GetValueOrDefault("bad-utf8").ToString());
        Assert.Contains(kept, e => e.GetProperty("id").GetString() == "bad-utf8" && e.GetProperty("text").GetString()!.Contains('\uFFFD'));
        Assert.Equal(report.Documents, report.Kept + removed.Count);
        Assert.Equal(report.Kept, kept.Count);
        Assert.Equal(kept.Sum(e => (long)e.GetProperty("text").GetString()!.Length), report.CharactersOut);
        string html = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("\"removed_by_stage\"", File.ReadAllText(Path.Combine(output, "report.json")));
    }

    [Fact]
    public void ShardedRunsMergeToTheSameOutputAndACrashedShardIsRedone()
    {
        string dir = TempDir();
        string input = WriteCorpus(dir);
        string whole = Path.Combine(dir, "whole"), sharded = Path.Combine(dir, "sharded");
        Curator.Run(new CurationConfig { Input = [input], Output = whole }, threads: 1);
        var config = new CurationConfig { Input = [input], Output = sharded };
        for (int i = 0; i < 3; i++) Assert.Null(Curator.Run(config, new ShardSpec(i, 3)));
        // Merging before every shard is done says which are missing.
        string shard1 = Path.Combine(sharded, "shards", "shard-00001-of-00003");
        Directory.Move(shard1, shard1 + ".tmp");   // as a crash mid-shard leaves it
        var ex = Assert.Throws<InvalidOperationException>(() => Curator.Merge(sharded));
        Assert.Contains("1/3", ex.Message);
        Assert.Null(Curator.Run(config, new ShardSpec(1, 3)));   // the same command again: only shard 1 is redone
        Curator.Merge(sharded);
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "kept.jsonl")), File.ReadAllLines(Path.Combine(sharded, "kept.jsonl")));
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "removed.jsonl")).Order(), File.ReadAllLines(Path.Combine(sharded, "removed.jsonl")).Order());
        // A different configuration in the same output folder is refused.
        Assert.Throws<InvalidOperationException>(() => Curator.Run(config with { Gzip = true }, new ShardSpec(0, 3)));
    }

    [Fact]
    public void ReadsTextBlocksCsvAndGzipAndSaysWhenInputIsEmpty()
    {
        string dir = TempDir();
        var p = Paragraphs();
        File.WriteAllText(Path.Combine(dir, "a.txt"), p[0] + "\n\n" + p[1] + "\n");
        File.WriteAllText(Path.Combine(dir, "b.csv"), "id,review,stars\nr1,\"" + p[2].Replace("\"", "\"\"") + "\nsecond line, \"\"quoted\"\".\",5\n");
        using (var gz = new GZipStream(File.Create(Path.Combine(dir, "c.jsonl.gz")), CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { review = p[4] }) + "\n"));
        var stats = new Loom.Data.Readers.ReadStatistics();
        var text = Loom.Data.Readers.CorpusReader.Read(Loom.Data.Readers.CorpusReader.ExpandInputs([Path.Combine(dir, "a.txt")]), new Loom.Data.Readers.ReaderOptions(), stats).ToList();
        Assert.Equal(2, text.Count);
        Assert.Equal(p[1], text[1].Text);
        var csv = Loom.Data.Readers.CorpusReader.Read([Path.Combine(dir, "b.csv")], new Loom.Data.Readers.ReaderOptions { Field = "review" }, stats).Single();
        Assert.Equal("r1", csv.Id);
        Assert.EndsWith("second line, \"quoted\".", csv.Text);
        Assert.Equal("5", csv.Metadata!["stars"]!.GetValue<string>());
        var gzDoc = Loom.Data.Readers.CorpusReader.Read(Loom.Data.Readers.CorpusReader.ExpandInputs([Path.Combine(dir, "*.jsonl.gz")]), new Loom.Data.Readers.ReaderOptions { Field = "review" }, stats).Single();
        Assert.Equal(p[4], gzDoc.Text);
        Assert.Throws<FileNotFoundException>(() => Loom.Data.Readers.CorpusReader.ExpandInputs([Path.Combine(dir, "*.parquet")]));

        File.WriteAllText(Path.Combine(dir, "empty.jsonl"), "");
        var report = Curator.Run(new CurationConfig { Input = [Path.Combine(dir, "empty.jsonl")], Output = Path.Combine(dir, "out") }, threads: 2)!;
        Assert.Equal(0, report.Documents);
        Assert.Empty(File.ReadAllLines(Path.Combine(dir, "out", "kept.jsonl")));
    }

    // A sort table larger than dedup.max_sort_megabytes is sorted in runs on disk: the result is the
    // same. The corpus also holds a document far longer than the signature buffers start at.
    [Fact]
    public void MergeSortsSpilledToDiskGiveTheSameResult()
    {
        string dir = TempDir();
        string input = WriteCorpus(dir);
        var p = Paragraphs();
        string longText = string.Join(" ", p.Skip(80).Take(30));
        Assert.True(longText.Length > 10_000);
        File.AppendAllText(input, JsonSerializer.Serialize(new { id = "long", text = longText }) + "\n");
        var inMemory = Curator.Run(new CurationConfig { Input = [input], Output = Path.Combine(dir, "memory") }, threads: 2)!;
        var spilled = Curator.Run(new CurationConfig { Input = [input], Output = Path.Combine(dir, "spilled"), Dedup = new DedupOptions { MaxSortMegabytes = 0.0005 } }, threads: 2)!;
        Assert.Equal(0, inMemory.SortSpills);
        Assert.True(spilled.SortSpills > 14, $"{spilled.SortSpills} spills");
        foreach (var name in new[] { "kept.jsonl", "removed.jsonl" })
            Assert.Equal(File.ReadAllLines(Path.Combine(dir, "memory", name)), File.ReadAllLines(Path.Combine(dir, "spilled", name)));
        Assert.Contains(Read(Path.Combine(dir, "spilled", "kept.jsonl")), e => e.GetProperty("id").GetString() == "long");
        Assert.False(Directory.Exists(Path.Combine(dir, "spilled", "shards", "sort.tmp")));
    }

    [Fact]
    public void GzipOutputHoldsTheSameLines()
    {
        string dir = TempDir();
        string input = WriteCorpus(dir);
        Curator.Run(new CurationConfig { Input = [input], Output = Path.Combine(dir, "plain") }, threads: 2);
        Curator.Run(new CurationConfig { Input = [input], Output = Path.Combine(dir, "gz"), Gzip = true }, threads: 2);
        foreach (var name in new[] { "kept", "removed" })
        {
            using var gz = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(dir, "gz", name + ".jsonl.gz")), CompressionMode.Decompress));
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "plain", name + ".jsonl")), gz.ReadToEnd());
        }
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(dir, "gz"), "*.tmp"));
    }

    [Fact]
    public void ANonPositiveSortMemoryIsRefusedWithTheKeyNamed()
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse("""{"dedup": {"max_sort_megabytes": 0}}""");
        var e = Assert.Throws<FormatException>(() => CurationConfig.FromJson(root, "p.yaml"));
        Assert.Contains("dedup.max_sort_megabytes", e.Message);
    }

    // No stages and no de-duplication: what is read is what is kept, so the tests below see the reader's effect.
    private static CurationConfig Plain(string output, params string[] input) =>
        new() { Input = [.. input], Output = output, Stages = new System.Text.Json.Nodes.JsonArray(), Dedup = new DedupOptions { Exact = false, Near = false } };

    private static List<string> KeptTexts(string output) => Read(Path.Combine(output, "kept.jsonl")).Select(e => e.GetProperty("text").GetString()!).ToList();

    [Fact]
    public void AnInputChangedAtTheSamePathIsReadAgainOnRerun()
    {
        string dir = TempDir(), input = Path.Combine(dir, "a.jsonl"), output = Path.Combine(dir, "out");
        File.WriteAllText(input, "{\"text\": \"alpha one\"}\n{\"text\": \"beta two\"}\n");
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(input, start);
        Curator.Run(Plain(output, input), threads: 2);
        Assert.Equal(["alpha one", "beta two"], KeptTexts(output));

        // Same size, new content and time: the hash tells.
        File.WriteAllText(input, "{\"text\": \"gamma one\"}\n{\"text\": \"delta two\"}\n");
        File.SetLastWriteTimeUtc(input, start.AddMinutes(1));
        var report = Curator.Run(Plain(output, input), threads: 2)!;
        Assert.Equal(["gamma one", "delta two"], KeptTexts(output));
        Assert.Equal([input], report.ChangedInputs);

        // Only the time changes (a touch): nothing is redone, the output stays right.
        File.SetLastWriteTimeUtc(input, start.AddMinutes(2));
        report = Curator.Run(Plain(output, input), threads: 2)!;
        Assert.Empty(report.ChangedInputs);
        Assert.Equal(["gamma one", "delta two"], KeptTexts(output));

        // A new file in an input folder is a change too.
        string folder = Path.Combine(dir, "folder"), folderOut = Path.Combine(dir, "folder-out");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "1.jsonl"), "{\"text\": \"first\"}\n");
        Curator.Run(Plain(folderOut, folder), threads: 2);
        File.WriteAllText(Path.Combine(folder, "2.jsonl"), "{\"text\": \"second\"}\n");
        Curator.Run(Plain(folderOut, folder), threads: 2);
        Assert.Equal(["first", "second"], KeptTexts(folderOut));
    }

    [Fact]
    public async Task AFifoAndADanglingLinkInAnInputFolderAreSkippedAndReported()
    {
        if (OperatingSystem.IsWindows()) return;
        string dir = TempDir(), folder = Path.Combine(dir, "in");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.jsonl"), "{\"text\": \"kept\"}\n");
        string fifo = Path.Combine(folder, "pipe.jsonl"), link = Path.Combine(folder, "gone.jsonl");
        using (var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [fifo]))!) p.WaitForExit();
        File.CreateSymbolicLink(link, Path.Combine(dir, "missing.jsonl"));
        // Opening the FIFO would block forever: a regression must fail here, not hang the suite.
        var report = await Task.Run(() => Curator.Run(Plain(Path.Combine(dir, "out"), folder), threads: 2)!).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(["kept"], KeptTexts(Path.Combine(dir, "out")));
        Assert.Contains(report.SkippedInputs, s => s.Path == fifo && s.Reason.Contains("FIFO"));
        Assert.Contains(report.SkippedInputs, s => s.Path == link && s.Reason.Contains("missing.jsonl"));
        Assert.Contains("pipe.jsonl", File.ReadAllText(Path.Combine(dir, "out", "report.html")));
    }

    [Fact]
    public void ATruncatedGzipInputStopsTheRunWithTheFileAndOffset()
    {
        string dir = TempDir(), input = Path.Combine(dir, "c.jsonl.gz");
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, true))
            gz.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 84).Select(i => $"{{\"text\": \"document {i} {new string('q', 3 * i)}\"}}\n"))));
        var bytes = ms.ToArray();
        File.WriteAllBytes(input, bytes[..(bytes.Length * 2 / 3)]);
        // Every shard reads the file and fails the same way: one error, not an AggregateException of them.
        var e = Assert.Throws<InvalidDataException>(() => Curator.Run(Plain(Path.Combine(dir, "out"), input), threads: 3));
        Assert.Contains(input, e.Message);
        Assert.Contains($"byte {bytes.Length * 2 / 3}", e.Message);
    }

    [Fact]
    public void LoneSurrogatesAndAnUnbalancedCsvQuoteAreCountedInTheReport()
    {
        string dir = TempDir(), json = Path.Combine(dir, "s.jsonl"), csv = Path.Combine(dir, "u.csv");
        File.WriteAllText(json, "{\"text\": \"a\\ud800b\"}\n{\"text\": \"fine\"}\n");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "csv_unbalanced.csv"), csv);
        var report = Curator.Run(Plain(Path.Combine(dir, "out"), json, csv), threads: 2)!;
        Assert.Equal(1, report.LoneSurrogates);
        Assert.Contains("a\uFFFDb", KeptTexts(Path.Combine(dir, "out")));
        Assert.Equal(1, report.Quarantined);
        Assert.Equal(2 + 9, report.Documents);       // the nine rows after the bad one are read, not swallowed
        Assert.Equal(report.Documents, report.Kept);
        var q = Read(Path.Combine(dir, "out", "quarantine.jsonl")).Single();
        Assert.Equal(4, q.GetProperty("line").GetInt64());
    }
}
