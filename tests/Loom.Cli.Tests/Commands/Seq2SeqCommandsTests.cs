using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

// `loom train` with model_type t5 (span-corruption pre-training) and `loom finetune` with task: seq2seq,
// end to end on tiny models with the shipped T5-style SentencePiece model (pad 0, </s> 1, <unk> 2; T5Tokenizer's
// 100 sentinels appended): the runs finish, write a T5 directory Hugging Face loads (config.json with
// model_type t5, model.safetensors, spiece.model), metrics.jsonl with a falling loss, and for seq2seq the
// validation generations scored with ROUGE and exact match; the pre-trained directory is a valid init_from.
public class Seq2SeqCommandsTests
{
    private static string Tokenizer => Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentencepiece", "t5style.model.gz");

    private const string TinyT5 = """
          model_type: t5
          d_model: 32
          d_kv: 8
          d_ff: 64
          num_layers: 1
          num_heads: 4
          feed_forward_proj: gated-gelu
          relative_attention_num_buckets: 8
          relative_attention_max_distance: 16
        """;

    private static float[] TrainLosses(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("type", out var t) && t.GetString() == "train").Select(e => e.GetProperty("loss").GetSingle()).ToArray();

    private static string Pairs(string dir, int n)
    {
        string[] words = "the cat dog sat ran on a mat big small red blue green house tree".Split(' ');
        var rng = new Random(5);
        string path = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, n).Select(_ =>
        {
            string text = string.Join(' ', Enumerable.Range(0, rng.Next(2, 5)).Select(_ => words[rng.Next(words.Length)]));
            return JsonSerializer.Serialize(new { q = "copy: " + text, a = text });
        }));
        return path;
    }

    [Fact]
    public void SpanCorruptionPreTrainingThenSeq2SeqFineTuning()
    {
        string dir = CliRunner.TempDir();
        string text = Path.Combine(dir, "text.txt");
        string[] words = "the cat dog sat ran on a mat big small red blue green house tree car book sun moon sea".Split(' ');
        var rng = new Random(1);
        File.WriteAllLines(text, Enumerable.Range(0, 300).Select(_ => string.Join(' ', Enumerable.Range(0, 12).Select(_ => words[rng.Next(words.Length)]))));
        string pre = Path.Combine(dir, "pre.yaml");
        File.WriteAllText(pre, $"""
            output: {dir}/pre
            data: [{text}]
            tokenizer: {Tokenizer}
            model:
            {TinyT5}
            train:
              batch_size: 8
              sequence_length: 32
              max_steps: 30
              learning_rate: 0.003
              warmup_steps: 3
              eval_every: 10
              eval_batches: 2
              checkpoint_every: 10
            """);
        var (code, output, console) = CliRunner.Run("train", "--config", pre);
        Assert.True(code == 0, output + console);
        Assert.Contains("span corruption", console);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "pre", "config.json"))))
        {
            Assert.Equal("t5", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal(2100, config.RootElement.GetProperty("vocab_size").GetInt32());
        }
        Assert.True(File.Exists(Path.Combine(dir, "pre", "spiece.model")));
        float[] losses = TrainLosses(Path.Combine(dir, "pre"));
        Assert.Equal(30, losses.Length);
        Assert.True(losses[^3..].Average() < losses[..3].Average() - 1, $"span-corruption loss {losses[0]} → {losses[^1]}");

        string data = Pairs(dir, 60);
        string ft = Path.Combine(dir, "ft.yaml");
        File.WriteAllText(ft, $"""
            task: seq2seq
            output: {dir}/ft
            init_from: {dir}/pre
            data:
              train: {data}
              validation_fraction: 0.2
            seq2seq:
              source_field: q
              target_field: a
              max_source_length: 16
              max_target_length: 12
            train:
              batch_size: 8
              max_steps: 20
              learning_rate: 0.003
              eval_every: 10
            """);
        (code, output, console) = CliRunner.Run("finetune", "--config", ft);
        Assert.True(code == 0, output + console);
        Assert.Contains("ROUGE-1", console);
        using (var g = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "ft", "generation.json"))))
        {
            Assert.Equal(12, g.RootElement.GetProperty("examples").GetInt32());
            foreach (var name in new[] { "rouge1", "rouge2", "rougeL", "exact_match" })
                Assert.InRange(g.RootElement.GetProperty(name).GetDouble(), 0, 1);
        }
        Assert.Equal(12, File.ReadAllLines(Path.Combine(dir, "ft", "predictions.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "ft", "model", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "ft", "model", "spiece.model")));
        Assert.True(File.Exists(Path.Combine(dir, "ft", "report.html")));
        Assert.Contains("exact_match", File.ReadAllLines(Path.Combine(dir, "ft", "metrics.jsonl"))[^1]);
        // The fine-tuned directory generates through `loom generate` (t5's seq2seq path).
        (code, output, console) = CliRunner.Run("generate", "--model", Path.Combine(dir, "ft", "model"), "--prompt", "copy: the cat", "--max-new-tokens", "8");
        Assert.True(code == 0, output + console);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void BadRecordsAndSettingsAreOneLineErrors()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "bad.jsonl");
        File.WriteAllLines(data, ["""{"source": "a b", "target": "c"}""", """{"source": "a b"}"""]);
        string ft = Path.Combine(dir, "ft.yaml");
        File.WriteAllText(ft, $"""
            task: seq2seq
            output: {dir}/ft
            tokenizer: {Tokenizer}
            model:
            {TinyT5}
            data:
              train: {data}
            train:
              max_steps: 2
            """);
        var (code, output, console) = CliRunner.Run("finetune", "--config", ft);
        output += console;
        Assert.Equal(1, code);
        Assert.Contains($"{data}:2: the field \"target\" is missing", output);
        Assert.Contains("seq2seq.target_field", output);
        (code, output, console) = CliRunner.Run("finetune", "--config", ft, "--set", "seq2seq.max_target_length=1");
        output += console;
        Assert.Equal(1, code);
        Assert.Contains("seq2seq.max_target_length is 1", output);
        Directory.Delete(dir, recursive: true);
    }
}
