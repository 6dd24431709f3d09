// The tokenizer.ggml.* metadata of a GGUF file (ggml docs/gguf.md "Tokenizer"; llama.cpp llama-vocab.cpp
// reads it): the tokenizer model ("gpt2" is byte-level BPE, "llama" is SentencePiece), the pre-tokenizer
// name llama.cpp maps to its regex ("gpt-2", "llama-bpe", ...), tokens in id order, their types, BPE
// merges "left right" in rank order, and the special ids. Plain data: converting to and from a Loom
// tokenizer happens where the tokenizers are known (Loom.Inference's GgufModelFiles).
namespace Loom.Models.Formats.Gguf;

/// <summary>llama.cpp's token types (llama_token_type / gguf-py TokenType).</summary>
public enum GgufTokenType
{
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
}

/// <summary>tokenizer.ggml.* as data.</summary>
public sealed record GgufVocabulary
{
    /// <summary>tokenizer.ggml.model ("gpt2" for byte-level BPE).</summary>
    public required string Model { get; init; }

    /// <summary>tokenizer.ggml.pre, llama.cpp's pre-tokenizer name; null when absent (llama.cpp then uses its default).</summary>
    public string? Pre { get; init; }

    /// <summary>tokenizer.ggml.tokens, by id (byte-level text for "gpt2").</summary>
    public required string[] Tokens { get; init; }

    /// <summary>tokenizer.ggml.token_type, by id; null when absent.</summary>
    public int[]? TokenTypes { get; init; }

    /// <summary>tokenizer.ggml.merges ("left right", rank order); null when absent.</summary>
    public string[]? Merges { get; init; }

    public uint? BosId { get; init; }
    public uint? EosId { get; init; }
    public uint? UnknownId { get; init; }
    public uint? PaddingId { get; init; }

    /// <summary>tokenizer.ggml.add_bos_token; null when absent (llama.cpp then decides by tokenizer model: true for SPM, false for gpt2 BPE).</summary>
    public bool? AddBos { get; init; }

    /// <summary>tokenizer.chat_template, when the model has one.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Reads tokenizer.ggml.* from <paramref name="file"/>; null when the file has no tokenizer.</summary>
    public static GgufVocabulary? Read(GgufFile file)
    {
        if (!file.Metadata.ContainsKey("tokenizer.ggml.model")) return null;
        uint? Id(string key)
        {
            if (!file.Metadata.TryGetValue(key, out var v)) return null;
            long id = v.AsInteger ?? throw new InvalidDataException($"{file.Path}: metadata {key} is {v} ({v.Type}); it must be a token id.");
            return id is >= 0 and <= uint.MaxValue ? (uint)id : throw new InvalidDataException($"{file.Path}: metadata {key} is {id}; it must be a token id ≥ 0.");
        }
        var tokens = file.GetArray<string>("tokenizer.ggml.tokens") ?? throw new InvalidDataException($"{file.Path}: metadata tokenizer.ggml.tokens is missing; the file names a tokenizer model but has no tokens.");
        var types = file.GetArray<int>("tokenizer.ggml.token_type");
        if (types != null && types.Length != tokens.Length)
            throw new InvalidDataException($"{file.Path}: metadata tokenizer.ggml.token_type has {types.Length} entries for {tokens.Length} tokens.");
        var vocab = new GgufVocabulary
        {
            Model = file.GetString("tokenizer.ggml.model"),
            Pre = file.Metadata.TryGetValue("tokenizer.ggml.pre", out var pre) ? pre.Value as string : null,
            Tokens = tokens,
            TokenTypes = types,
            Merges = file.GetArray<string>("tokenizer.ggml.merges"),
            BosId = Id("tokenizer.ggml.bos_token_id"),
            EosId = Id("tokenizer.ggml.eos_token_id"),
            UnknownId = Id("tokenizer.ggml.unknown_token_id"),
            PaddingId = Id("tokenizer.ggml.padding_token_id"),
            AddBos = file.Metadata.TryGetValue("tokenizer.ggml.add_bos_token", out var ab) ? ab.Value as bool? : null,
            ChatTemplate = file.Metadata.TryGetValue("tokenizer.chat_template", out var ct) ? ct.Value as string : null,
        };
        foreach (var (key, id) in new[] { ("bos", vocab.BosId), ("eos", vocab.EosId), ("unknown", vocab.UnknownId), ("padding", vocab.PaddingId) })
            if (id is uint i && i >= tokens.Length)
                throw new InvalidDataException($"{file.Path}: metadata tokenizer.ggml.{key}_token_id is {i}, beyond the {tokens.Length} tokens.");
        return vocab;
    }

    /// <summary>Adds tokenizer.ggml.* to <paramref name="writer"/> in the order gguf-py's converter writes them.</summary>
    public void AddTo(GgufWriter writer)
    {
        writer.Add("tokenizer.ggml.model", GgufValue.Of(Model));
        if (Pre != null) writer.Add("tokenizer.ggml.pre", GgufValue.Of(Pre));
        writer.Add("tokenizer.ggml.tokens", GgufValue.Of(Tokens));
        if (TokenTypes != null) writer.Add("tokenizer.ggml.token_type", GgufValue.Of(TokenTypes));
        if (Merges != null) writer.Add("tokenizer.ggml.merges", GgufValue.Of(Merges));
        if (BosId is uint bos) writer.Add("tokenizer.ggml.bos_token_id", GgufValue.Of(bos));
        if (EosId is uint eos) writer.Add("tokenizer.ggml.eos_token_id", GgufValue.Of(eos));
        if (UnknownId is uint unk) writer.Add("tokenizer.ggml.unknown_token_id", GgufValue.Of(unk));
        if (PaddingId is uint pad) writer.Add("tokenizer.ggml.padding_token_id", GgufValue.Of(pad));
        if (AddBos is bool add) writer.Add("tokenizer.ggml.add_bos_token", GgufValue.Of(add));
        if (ChatTemplate != null) writer.Add("tokenizer.chat_template", GgufValue.Of(ChatTemplate));
    }
}
