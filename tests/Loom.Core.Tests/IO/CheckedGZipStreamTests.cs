using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Loom.Core.IO;

namespace Loom.Core.Tests.IO;

public class CheckedGZipStreamTests
{
    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "loom-gz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static byte[] Text(int lines) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, lines).Select(i => $"{{\"text\": \"line {i}: {i * 7919 % 1013} words\"}}\n")));

    private static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] ReadAll(string path)
    {
        using var s = CompressedInput.Open(path);
        var o = new MemoryStream();
        s.CopyTo(o, 4096);
        return o.ToArray();
    }

    [Fact]
    public void ReadsSingleAndConcatenatedMembersIncludingGzipToolHeaders()
    {
        string dir = TempDir();
        var a = Text(5000); var b = Text(300);
        string single = Path.Combine(dir, "a.jsonl.gz");
        File.WriteAllBytes(single, Gzip(a));
        Assert.Equal(a, ReadAll(single));

        // `cat a.gz b.gz` is one valid gzip file of both contents; the second member comes from the gzip tool (FNAME header).
        string plain = Path.Combine(dir, "b.jsonl");
        File.WriteAllBytes(plain, b);
        using (var p = Process.Start(new ProcessStartInfo("gzip", ["-k", "-f", plain]))!) p.WaitForExit();
        string both = Path.Combine(dir, "both.jsonl.gz");
        File.WriteAllBytes(both, [.. Gzip(a), .. File.ReadAllBytes(plain + ".gz"), .. Gzip([]), .. Gzip(b)]);
        Assert.Equal([.. a, .. b, .. b], ReadAll(both));
    }

    [Fact]
    public void EveryTruncationIsAnErrorNamingTheFileAndTheOffset()
    {
        string dir = TempDir();
        var data = Text(2000);
        var full = Gzip(data);
        var two = (byte[])[.. Gzip(Text(40)), .. full];
        int first = two.Length - full.Length;
        // Every cut in the header and the trailer, and every 61st in the deflate data (which spans several of DeflateStream's read chunks).
        IEnumerable<int> Cuts(int from, int length) => Enumerable.Range(from, length).Where(c => c - from < 40 || from + length - c <= 16 || c % 61 == 0);
        foreach (var (bytes, cuts) in new[] { (full, Cuts(0, full.Length)), (two, Cuts(first + 1, full.Length - 1)) })
            foreach (int cut in cuts)
            {
                string path = Path.Combine(dir, $"cut{cut}.txt.gz");
                File.WriteAllBytes(path, bytes[..cut]);
                // .NET's GZipStream reads most of these cuts as a complete, shorter file: the reason for this stream.
                var e = Assert.Throws<InvalidDataException>(() => ReadAll(path));
                Assert.Contains(path, e.Message);
                Assert.Contains($"byte {cut}", e.Message);
                File.Delete(path);
            }
    }

    [Fact]
    public void AFlippedByteIsAnErrorOrChangesNothing()
    {
        string dir = TempDir();
        var data = Text(300);
        var full = Gzip(data);
        int errors = 0, tried = 0;
        for (int at = 0; at < full.Length; at++)
        {
            if (at >= 24 && full.Length - at > 16 && at % 5 != 0) continue;     // all of the header and trailer, every 5th deflate byte
            tried++;
            var bad = (byte[])full.Clone();
            bad[at] ^= 0x20;
            string path = Path.Combine(dir, "flip.txt.gz");
            File.WriteAllBytes(path, bad);
            try
            {
                // A flip may only go unnoticed where it cannot change the content (the header's time and OS fields, padding bits).
                Assert.Equal(data, ReadAll(path));
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
                Assert.Contains("byte", e.Message);
                errors++;
            }
        }
        Assert.True(errors >= tried - 12, $"{errors} of {tried} flips detected");
    }

    [Fact]
    public void EmptyAndNonGzipFilesWithAGzNameAreErrors()
    {
        string dir = TempDir();
        string empty = Path.Combine(dir, "empty.txt.gz"), text = Path.Combine(dir, "text.txt.gz"), trailing = Path.Combine(dir, "trailing.txt.gz");
        File.WriteAllBytes(empty, []);
        File.WriteAllText(text, "plain text, not gzip");
        File.WriteAllBytes(trailing, [.. Gzip(Text(3)), (byte)'x', (byte)'y']);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => ReadAll(empty)).Message);
        Assert.Contains("not a gzip file", Assert.Throws<InvalidDataException>(() => ReadAll(text)).Message);
        Assert.Contains("not another gzip member", Assert.Throws<InvalidDataException>(() => ReadAll(trailing)).Message);
    }
}
