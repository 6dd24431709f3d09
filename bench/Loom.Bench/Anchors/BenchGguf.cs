// Loom's random GPT-2 written as a GGUF file of one type, so Loom, llama.cpp's llama-bench and LLamaSharp decode
// the same file (same weights, same tensor types: GgufModels.TensorType follows llama-quantize, e.g. a Q4_0 file's
// output.weight is Q6_K and token_embd Q4_0, as llama.cpp itself would write it). llama.cpp needs tokenizer
// metadata to load a model, so the GPT-2 vocabulary is copied from llama.cpp's models/ggml-vocab-gpt-2.gguf
// (next to the anchors' models). Files are cached under LOOM_BENCH_GGUF (default ${TMPDIR:-/tmp}/loom-bench-gguf),
// named by a checksum of the weights so a changed initializer writes a new file.
using Loom.Models;
using Loom.Models.Formats.Gguf;

namespace Loom.Bench.Anchors;

internal static class BenchGguf
{
    /// <summary>The GGUF path of <paramref name="model"/> at <paramref name="type"/>, written if missing; null when the vocabulary file is absent.</summary>
    public static string? Export(ICausalLanguageModel model, string name, GgufFileType type)
    {
        string vocabPath = Path.Combine(LlamaAnchors.ModelsDirectory, "ggml-vocab-gpt-2.gguf");
        if (!File.Exists(vocabPath)) return null;
        string dir = Environment.GetEnvironmentVariable("LOOM_BENCH_GGUF") ?? Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") ?? "/tmp", "loom-bench-gguf");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{name}-loom-{Checksum(model):x8}-{type}.gguf");
        if (File.Exists(path)) return path;
        GgufVocabulary vocabulary;
        using (var v = GgufFile.Open(vocabPath))
            vocabulary = GgufVocabulary.Read(v) ?? throw new InvalidDataException($"{vocabPath}: no tokenizer.ggml.* metadata.");
        if (vocabulary.Tokens.Length != model.VocabularySize) return null;
        var writer = new GgufWriter();
        GgufModels.AddModel(writer, model, type, name);
        vocabulary.AddTo(writer);
        writer.Write(path + ".tmp");
        File.Move(path + ".tmp", path, overwrite: true);
        Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1e6:F1} MB)");
        return path;
    }

    // FNV-1a over the first 4096 values of every parameter.
    private static uint Checksum(ICausalLanguageModel model)
    {
        uint h = 2166136261;
        var p = model.Parameters;
        for (int i = 0; i < p.Specs.Count; i++)
            foreach (float f in p.Value(i)[..Math.Min(4096, p.Value(i).Length)])
                h = (h ^ (uint)BitConverter.SingleToInt32Bits(f)) * 16777619;
        return h;
    }
}
