// The budget knobs of the finetune suite's Loom cases, read from environment variables so a smoke run
// (`LOOM_BENCH_IMDB_TRAIN=300 LOOM_BENCH_PRETRAIN_MINUTES=0.5 ... --filter imdb`) and the full 60-minute run
// use the same code. Defaults are the full recipe of examples/imdb/*.yaml, sized from short quiet-machine
// calibration runs (2026-12-02) for 60 minutes wall clock on 2 cores: a 16k WordPiece (~10 s), 33 min of
// masked-LM pre-training of a 4 × 256 BERT at 256 tokens (~8.7k tokens/s, the head on masked rows only),
// 2 epochs of fine-tuning at 256 tokens (~7 min each), ~3 min classifying the 25,000 test reviews.
using System.Globalization;

namespace Loom.Bench.Suites.Finetune;

internal sealed record ImdbSettings
{
    /// <summary>Labelled train reviews used (a seeded random subset; 0: all 25,000). LOOM_BENCH_IMDB_TRAIN.</summary>
    public int TrainReviews { get; init; }

    /// <summary>Test reviews classified (the first N; 0: all 25,000). LOOM_BENCH_IMDB_TEST.</summary>
    public int TestReviews { get; init; }

    /// <summary>Unlabelled reviews added to the tokenizer and pre-training text (0: all 50,000). LOOM_BENCH_IMDB_UNSUP.</summary>
    public int UnsupReviews { get; init; }

    /// <summary>Masked-LM pre-training wall-clock minutes (0: fine-tune a fresh BERT). LOOM_BENCH_PRETRAIN_MINUTES.</summary>
    public double PretrainMinutes { get; init; } = 33;

    /// <summary>
    /// bert (WordPiece, masked-LM BERT, examples/imdb/pretrain.yaml + finetune.yaml) or gpt2 (byte-level BPE, causal-LM
    /// GPT-2, examples/imdb/pretrain-gpt2.yaml + finetune-gpt2.yaml). LOOM_BENCH_IMDB_FAMILY.
    /// </summary>
    public string Family { get; init; } = "bert";

    /// <summary>Pre-training window in tokens. LOOM_BENCH_PRETRAIN_SEQ.</summary>
    public int PretrainSequenceLength { get; init; } = 256;

    /// <summary>WordPiece vocabulary size. LOOM_BENCH_VOCAB.</summary>
    public int VocabSize { get; init; } = 16000;

    /// <summary>BERT hidden size (heads: hidden/64, at least 2; intermediate: 4 × hidden). LOOM_BENCH_HIDDEN.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>BERT layers. LOOM_BENCH_LAYERS.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Fine-tuning and classify length in tokens (head_tail truncation). LOOM_BENCH_MAX_LENGTH.</summary>
    public int MaxLength { get; init; } = 256;

    /// <summary>Fine-tuning epochs. LOOM_BENCH_EPOCHS.</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>Ladder: train reviews (seeded subset) and validation reviews (from test). LOOM_BENCH_LADDER_TRAIN / _VALIDATION.</summary>
    public int LadderTrain { get; init; } = 2000;

    public int LadderValidation { get; init; } = 500;

    /// <summary>classify-throughput: test reviews classified (the first N; 0: all 25,000). LOOM_BENCH_CLASSIFY_REVIEWS.</summary>
    public int ClassifyReviews { get; init; }

    /// <summary>Where runs and logs go. LOOM_BENCH_WORK (default runs/bench-finetune).</summary>
    public string WorkDir { get; init; } = Path.Combine(BenchPaths.RepoRoot, "runs", "bench-finetune");

    public int Heads => Math.Max(2, Hidden / 64);

    public static ImdbSettings FromEnvironment()
    {
        var d = new ImdbSettings();
        return new ImdbSettings
        {
            TrainReviews = Int("LOOM_BENCH_IMDB_TRAIN", d.TrainReviews),
            TestReviews = Int("LOOM_BENCH_IMDB_TEST", d.TestReviews),
            UnsupReviews = Int("LOOM_BENCH_IMDB_UNSUP", d.UnsupReviews),
            PretrainMinutes = Number("LOOM_BENCH_PRETRAIN_MINUTES", d.PretrainMinutes),
            Family = Environment.GetEnvironmentVariable("LOOM_BENCH_IMDB_FAMILY") is { Length: > 0 } f
                ? f is "bert" or "gpt2" ? f : throw new FormatException($"LOOM_BENCH_IMDB_FAMILY is \"{f}\"; it must be bert or gpt2.")
                : d.Family,
            PretrainSequenceLength = Int("LOOM_BENCH_PRETRAIN_SEQ", d.PretrainSequenceLength),
            VocabSize = Int("LOOM_BENCH_VOCAB", d.VocabSize),
            Hidden = Int("LOOM_BENCH_HIDDEN", d.Hidden),
            Layers = Int("LOOM_BENCH_LAYERS", d.Layers),
            MaxLength = Int("LOOM_BENCH_MAX_LENGTH", d.MaxLength),
            Epochs = Int("LOOM_BENCH_EPOCHS", d.Epochs),
            LadderTrain = Int("LOOM_BENCH_LADDER_TRAIN", d.LadderTrain),
            LadderValidation = Int("LOOM_BENCH_LADDER_VALIDATION", d.LadderValidation),
            ClassifyReviews = Int("LOOM_BENCH_CLASSIFY_REVIEWS", d.ClassifyReviews),
            WorkDir = Environment.GetEnvironmentVariable("LOOM_BENCH_WORK") is { Length: > 0 } w ? Path.GetFullPath(w) : d.WorkDir,
        };
    }

    private static int Int(string name, int fallback)
    {
        string? v = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(v)) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0
            ? n : throw new FormatException($"{name} is \"{v}\"; it must be a whole number ≥ 0.");
    }

    private static double Number(string name, double fallback)
    {
        string? v = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(v)) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x >= 0
            ? x : throw new FormatException($"{name} is \"{v}\"; it must be a number ≥ 0.");
    }
}
