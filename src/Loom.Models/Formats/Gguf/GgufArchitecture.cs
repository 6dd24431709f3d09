// One model family's GGUF conventions, as llama.cpp's converter (convert_hf_to_gguf.py) writes them: the
// general.architecture name, the "<arch>.*" hyper-parameter keys, and the tensor names. A family adds a
// GgufArchitecture to its ModelFamily row; GgufModels reads and writes any family through it and never
// tests a model's type.
namespace Loom.Models.Formats.Gguf;

/// <summary>A family's GGUF mapping.</summary>
public sealed record GgufArchitecture
{
    /// <summary>general.architecture ("gpt2", "llama").</summary>
    public required string Name { get; init; }

    /// <summary>The "<c>arch</c>.*" hyper-parameter keys of a config record, in the converter's order.</summary>
    public required Func<object, IEnumerable<(string Key, GgufValue Value)>> Metadata { get; init; }

    /// <summary>The config record that a GGUF file's metadata (and tensor shapes) describe; errors name the key.</summary>
    public required Func<GgufFile, object> ReadConfiguration { get; init; }

    /// <summary>Every GGUF tensor of a config record, in the converter's order.</summary>
    public required Func<object, IReadOnlyList<GgufTensorMap>> Tensors { get; init; }

    /// <summary>Names (GGUF) that llama.cpp keeps in F32 in every file type besides 1-D tensors (GPT-2's position_embd).</summary>
    public IReadOnlySet<string> KeepF32 { get; init; } = new HashSet<string>();
}
