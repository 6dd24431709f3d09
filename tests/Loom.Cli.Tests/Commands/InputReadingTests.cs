using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Loom.Tokenizers;

namespace Loom.Cli.Tests.Commands;

// Bad input files through every command that reads them: `data curate`, `tokenize`, `tokenizer train`,
// `tokenizer encode` (and `decode`) and `train`. Each case must be an expected error (exit 1, one
// message naming the file) or a warning on the console, never a stack trace, a hang or data loss.
public class InputReadingTests
{
    private static string TrainConfig(string dir, string data) => $"""
        output: {dir}/run
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2{"}"}
        train:
          batch_size: 2
          sequence_length: 8
          max_steps: 2
          warmup_steps: 1
          eval_every: 2
          eval_batches: 1
          checkpoint_every: 2
        validation_fraction: 0.5
        """;

    // Every command that reads `input`, as argument lists.
    private static IEnumerable<(string Name, string[] Args)> Commands(string dir, string input)
    {
        string yaml = Path.Combine(dir, $"train-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(yaml, TrainConfig(dir, input));
        yield return ("data curate", ["data", "curate", "--input", input, "--output", Path.Combine(dir, "curated-" + Guid.NewGuid().ToString("N")), "--threads", "2"]);
        yield return ("tokenize", ["tokenize", "--tokenizer", "gpt2", "--input", input, "--output", Path.Combine(dir, "shards-" + Guid.NewGuid().ToString("N"))]);
        yield return ("tokenizer train", ["tokenizer", "train", "--input", input, "--vocab-size", "300", "--min-frequency", "1", "--output", Path.Combine(dir, "tok-" + Guid.NewGuid().ToString("N"))]);
        yield return ("tokenizer encode", ["tokenizer", "encode", "--tokenizer", "gpt2", "--input", input]);
        yield return ("train", ["train", "--config", yaml]);
    }

    private static string Corpus(int documents) =>
        string.Concat(Enumerable.Range(0, documents).Select(i => JsonSerializer.Serialize(new { text = $"Document {i} says {string.Join(' ', Enumerable.Range(0, 20).Select(j => (i * 31 + j * 7) % 101))}." }) + "\n"));

    [Fact]
    public void TruncatedGzipIsAnErrorNamingTheFileAndOffsetInEveryCommand()
    {
        string dir = CliRunner.TempDir();
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, true)) gz.Write(Encoding.UTF8.GetBytes(Corpus(84)));
        var bytes = ms.ToArray();
        int cut = bytes.Length * 3 / 5;
        string input = Path.Combine(dir, "corpus.jsonl.gz");
        File.WriteAllBytes(input, bytes[..cut]);
        foreach (var (name, args) in Commands(dir, input))
        {
            var (code, output, console) = CliRunner.Run(args);
            Assert.True(code == 1, $"{name}: exit {code}\n{console}");
            Assert.Contains(input, console);
            Assert.Contains($"byte {cut}", console);
            Assert.Contains("truncated", console);
            Assert.DoesNotContain("   at ", console + output);
        }
    }

    [Fact]
    public void LoneSurrogateEscapesAreReadAsReplacementCharactersWithAWarningInEveryCommand()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "s.jsonl");
        // What Python's json.dumps writes for strings holding lone surrogates.
        File.WriteAllText(input, "{\"text\": \"lone \\ud800 high\"}\n{\"text\": \"lone \\udfff low\"}\n" + Corpus(40));
        foreach (var (name, args) in Commands(dir, input))
        {
            var (code, output, console) = CliRunner.Run(args);
            Assert.True(code == 0, $"{name}: exit {code}\n{console}");
            Assert.Contains("lone-surrogate", console);
            Assert.DoesNotContain("surrogate", output);          // warnings never go into the data output
            if (name == "tokenizer encode")
            {
                // Reference: tiktoken encodes a lone surrogate as U+FFFD.
                var gpt2 = TiktokenEncodings.Get("gpt2");
                var first = output.Split('\n')[0];
                Assert.Equal(JsonSerializer.Serialize(gpt2.EncodeOrdinary("lone \uFFFD high")), first);
            }
            if (name == "data curate")
            {
                string outDir = args[Array.IndexOf(args, "--output") + 1];
                Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json"))).RootElement.GetProperty("lone_surrogates").GetInt64());
            }
        }
    }

    [Fact]
    public void BadLinesInTokenizerTrainInputAreRefusedWithFileAndLine()
    {
        string dir = CliRunner.TempDir();
        foreach (var (content, reason) in new[] { ("{\"text\": \"ok\"}\n{\"text\": oops}\n", "invalid JSON"), ("{\"text\": \"ok\"}\n{\"body\": \"x\"}\n", "no string field"), ("{\"text\": \"ok\"}\n{\"text\": null}\n", "not a string") })
        {
            string input = Path.Combine(dir, $"bad-{Guid.NewGuid():N}.jsonl");
            File.WriteAllText(input, content);
            var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", input, "--vocab-size", "300", "--output", Path.Combine(dir, "tok"));
            Assert.Equal(1, code);
            Assert.Contains($"{input}:2", console);
            Assert.Contains(reason, console);
            Assert.DoesNotContain("   at ", console);
        }
    }

    [Fact]
    public async Task FifosAndDanglingLinksInInputFoldersAreSkippedWithAWarningAndNeverHang()
    {
        if (OperatingSystem.IsWindows()) return;
        string dir = CliRunner.TempDir(), folder = Path.Combine(dir, "in");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.jsonl"), Corpus(30));
        string fifo = Path.Combine(folder, "pipe.jsonl"), link = Path.Combine(folder, "gone.jsonl");
        using (var p = Process.Start(new ProcessStartInfo("mkfifo", [fifo]))!) p.WaitForExit();
        File.CreateSymbolicLink(link, Path.Combine(dir, "missing.jsonl"));
        foreach (var (name, args) in Commands(dir, folder).Where(c => c.Name is "data curate" or "tokenize" or "tokenizer train"))
        {
            var (code, _, console) = await Task.Run(() => CliRunner.Run(args)).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(code == 0, $"{name}: exit {code}\n{console}");
            Assert.Contains($"skipped {fifo}", console);
            Assert.Contains("FIFO", console);
            Assert.Contains($"skipped {link}", console);
            Assert.Contains("missing.jsonl", console);
        }
        // Named directly, a FIFO is an error (it could block forever, and curation reads inputs more than once).
        foreach (var (name, args) in Commands(dir, fifo).Append(("quickstart", ["quickstart", "--data", fifo, "--output", Path.Combine(dir, "qs")])))
        {
            var (code, _, console) = await Task.Run(() => CliRunner.Run(args)).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(code == 1, $"{name}: exit {code}\n{console}");
            Assert.Contains("not a regular file", console);
            Assert.DoesNotContain("   at ", console);
        }
    }

    [Fact]
    public void ADirectoryOrAMissingPathWhereAFileIsExpectedIsAClearError()
    {
        string dir = CliRunner.TempDir(), folder = Path.Combine(dir, "folder"), missing = Path.Combine(dir, "missing.jsonl");
        Directory.CreateDirectory(folder);
        foreach (var args in new[] { new[] { "tokenizer", "encode", "--tokenizer", "gpt2", "--input", folder }, ["tokenizer", "decode", "--tokenizer", "gpt2", "--input", folder] })
        {
            var (code, _, console) = CliRunner.Run(args);
            Assert.Equal(1, code);
            Assert.Contains($"--input {folder} is a directory", console);
            Assert.DoesNotContain("   at ", console);
        }
        foreach (var (name, args) in Commands(dir, missing).Append(("decode", ["tokenizer", "decode", "--tokenizer", "gpt2", "--input", missing])))
        {
            var (code, _, console) = CliRunner.Run(args);
            Assert.True(code == 1, $"{name}: exit {code}\n{console}");
            Assert.Contains(missing, console);
            Assert.Contains("does not exist", console);
            Assert.DoesNotContain("   at ", console);
        }
        // tokenize and tokenizer train read a folder's .txt/.jsonl files.
        File.WriteAllText(Path.Combine(folder, "a.jsonl"), Corpus(10));
        File.WriteAllText(Path.Combine(folder, "b.txt"), "plain text file\n");
        var (c, _, log) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", folder, "--output", Path.Combine(dir, "shards"));
        Assert.True(c == 0, log);
        Assert.Contains("11 documents", log);
        (c, _, log) = CliRunner.Run("tokenizer", "train", "--input", folder, "--vocab-size", "280", "--min-frequency", "1", "--output", Path.Combine(dir, "tok"));
        Assert.True(c == 0, log);
    }
}
