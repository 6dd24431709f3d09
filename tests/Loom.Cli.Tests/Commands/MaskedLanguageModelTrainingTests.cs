using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

// `loom train` with model_type bert: masked-LM pre-training end to end on the shipped text.
public class MaskedLanguageModelTrainingTests
{
    private static string ShippedText()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "data", "tinyshakespeare", "input.txt");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("data/tinyshakespeare/input.txt not found above the test's directory.");
    }

    private static string Config(string dir, string data, string tokenizer) => $"""
        output: {dir}/run
        data: [{data}]
        tokenizer: {tokenizer}
        model:
          model_type: bert
          hidden_size: 64
          num_hidden_layers: 2
          num_attention_heads: 2
          intermediate_size: 128
          max_position_embeddings: 32
        train:
          batch_size: 16
          sequence_length: 32
          max_steps: 400
          learning_rate: 0.002
          min_learning_rate: 0.0001
          warmup_steps: 20
          eval_every: 100
          eval_batches: 4
          checkpoint_every: 200
        """;

    private static float[] TrainLosses(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train").Select(e => e.GetProperty("loss").GetSingle()).ToArray();

    private static List<string> SafetensorsNames(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n));
        return header.RootElement.EnumerateObject().Select(p => p.Name).Where(p => p != "__metadata__").ToList();
    }

    // train.activation_checkpointing with model_type bert (refused before issue 12): the same losses
    // and the same final weights, bit for bit, as without it.
    [Fact]
    public void BertPreTrainingWithActivationCheckpointingIsBitIdenticalToWithout()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllLines(data, File.ReadLines(ShippedText()).Take(200));
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", data, "--vocab-size", "200", "--model", "wordpiece", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string yaml = Path.Combine(dir, "bert.yaml");
        File.WriteAllText(yaml, Config(dir, data, Path.Combine(dir, "tok")));
        (float[] Losses, byte[] Weights) Run(bool checkpointing)
        {
            string output = Path.Combine(dir, checkpointing ? "ckpt" : "plain");
            var (c, _, log) = CliRunner.Run("train", "--config", yaml, "--set", $"output={output}", "--set", "train.max_steps=12", "--set", "train.batch_size=4",
                "--set", "train.eval_every=6", "--set", "train.checkpoint_every=12",
                "--set", $"train.activation_checkpointing={(checkpointing ? "true" : "false")}");
            Assert.True(c == 0, log);
            Assert.DoesNotContain("   at ", log);
            return (TrainLosses(output), File.ReadAllBytes(Path.Combine(output, "model.safetensors")));
        }
        var plain = Run(false);
        var checkpointed = Run(true);
        Assert.Equal(12, plain.Losses.Length);
        Assert.Equal(plain.Losses, checkpointed.Losses);
        Assert.Equal(plain.Weights, checkpointed.Weights);
    }

    [Fact]
    public void ATinyBertLearnsFromShippedTextResumesBitIdenticallyAndIsSavedAsBertForMaskedLM()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllLines(data, File.ReadLines(ShippedText()).Take(400));
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", data, "--vocab-size", "300", "--model", "wordpiece", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string yaml = Path.Combine(dir, "bert.yaml");
        File.WriteAllText(yaml, Config(dir, data, Path.Combine(dir, "tok")));

        (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.True(code == 0, console);
        Assert.Contains("masked LM", console);
        string run = Path.Combine(dir, "run");
        var straight = TrainLosses(run);
        Assert.Equal(400, straight.Length);
        var evals = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "eval").Select(e => e.GetProperty("val_loss").GetSingle()).ToArray();
        // Untrained, the loss is about ln(vocab) (uniform logits); trained, the held-out masked-LM loss is well below it.
        double lnVocab = Math.Log(300);
        Assert.InRange(evals[0], lnVocab - 0.1, lnVocab + 0.1);
        Assert.True(evals[^1] < lnVocab - 0.4, $"validation masked-LM loss {evals[^1]} vs ln(300) = {lnVocab:F3}");
        Assert.True(straight[^50..].Average() < straight[..50].Average() - 0.3, "the training loss falls");

        // A Hugging Face BertForMaskedLM directory: architectures, HF tensor names without the pooler, the tokenizer's files.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            Assert.Equal("bert", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal("BertForMaskedLM", config.RootElement.GetProperty("architectures")[0].GetString());
            Assert.Equal(300, config.RootElement.GetProperty("vocab_size").GetInt32());
        }
        var names = SafetensorsNames(Path.Combine(run, "model.safetensors"));
        Assert.Contains("bert.embeddings.word_embeddings.weight", names);
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.bias", names);
        Assert.Contains("cls.predictions.transform.dense.weight", names);
        Assert.Contains("cls.predictions.bias", names);
        Assert.DoesNotContain(names, n => n.StartsWith("bert.pooler.", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "tok", "vocab.txt")), File.ReadAllText(Path.Combine(run, "vocab.txt")));
        Assert.True(File.Exists(Path.Combine(run, "tokenizer.json")));

        // Resume from the middle checkpoint: the same losses, bit for bit.
        File.Delete(Path.Combine(run, "metrics.jsonl"));
        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--resume", Path.Combine(run, "checkpoints", "step_000200"));
        Assert.True(code == 0, console);
        Assert.Equal(straight[200..], TrainLosses(run));

        // A resume that changes the masking is refused, naming the setting.
        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "mlm.whole_word_mask=true", "--resume", Path.Combine(run, "checkpoints", "step_000200"));
        Assert.Equal(1, code);
        Assert.Contains("mlm.whole_word_mask", console);

        // eval and generate need a causal model: a clear error, not a crash.
        (code, _, console) = CliRunner.Run("generate", "--model", run, "--prompt", "First Citizen");
        Assert.Equal(1, code);
        Assert.Contains("not a causal language model", console);
        Assert.DoesNotContain("   at ", console);
        (code, _, console) = CliRunner.Run("eval", "--model", run, "--data", data);
        Assert.Equal(1, code);
        Assert.Contains("not a causal language model", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void WholeWordMaskingTrainsToo()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllLines(data, File.ReadLines(ShippedText()).Take(200));
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", data, "--vocab-size", "200", "--model", "wordpiece", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string yaml = Path.Combine(dir, "bert.yaml");
        File.WriteAllText(yaml, Config(dir, data, Path.Combine(dir, "tok", "vocab.txt")));
        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "mlm.whole_word_mask=true", "--set", "train.max_steps=20", "--set", "train.eval_every=10");
        Assert.True(code == 0, console);
        Assert.Contains("whole words", console);
        Assert.True(File.Exists(Path.Combine(dir, "run", "vocab.txt")));
    }

    [Fact]
    public void ABertConfigWithABpeTokenizerOrDocumentBatchingIsAClearError()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllLines(data, File.ReadLines(ShippedText()).Take(50));
        string yaml = Path.Combine(dir, "bert.yaml");
        File.WriteAllText(yaml, Config(dir, data, "gpt2"));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.Equal(1, code);
        Assert.Contains("tokenizer is \"gpt2\"", console);
        Assert.Contains("not a WordPiece tokenizer", console);
        Assert.Contains("--model wordpiece", console);
        Assert.DoesNotContain("   at ", console);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));

        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "batching=documents");
        Assert.Equal(1, code);
        Assert.Contains("batching is \"documents\"", console);

        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "mlm.probability=1.5");
        Assert.Equal(1, code);
        Assert.Contains("mlm.probability is 1.5", console);
        Assert.DoesNotContain("   at ", console);
    }
}
