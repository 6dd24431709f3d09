// GPT-2 in GGUF as llama.cpp's converter writes it (convert_hf_to_gguf.py GPT2Model; llama-arch.cpp
// LLM_ARCH_GPT2): gpt2.* hyper-parameters, Conv1D weights transposed to nn.Linear's (out, in), and the
// tied head written a second time as output.weight (llama.cpp's gpt2 loader requires it).
using Loom.Models.Formats.Gguf;

namespace Loom.Models.Gpt2;

/// <summary>GPT-2's GGUF mapping.</summary>
internal static class Gpt2Gguf
{
    public static GgufArchitecture Architecture { get; } = new()
    {
        Name = "gpt2",
        Metadata = c => Metadata((Gpt2Config)c),
        ReadConfiguration = Read,
        Tensors = c => Tensors((Gpt2Config)c),
        KeepF32 = new HashSet<string>(StringComparer.Ordinal) { "position_embd.weight" },
    };

    private static IEnumerable<(string, GgufValue)> Metadata(Gpt2Config c)
    {
        // GPT2Model.set_gguf_parameters: block_count, context_length, embedding_length, feed_forward_length (4·n_embd), head_count, layer_norm_eps.
        yield return ("gpt2.block_count", GgufValue.Of((uint)c.Layers));
        yield return ("gpt2.context_length", GgufValue.Of((uint)c.MaxPositions));
        yield return ("gpt2.embedding_length", GgufValue.Of((uint)c.Embedding));
        yield return ("gpt2.feed_forward_length", GgufValue.Of((uint)(4 * c.Embedding)));
        yield return ("gpt2.attention.head_count", GgufValue.Of((uint)c.Heads));
        yield return ("gpt2.attention.layer_norm_epsilon", GgufValue.Of(c.LayerNormEpsilon));
    }

    private static object Read(GgufFile f)
    {
        int embd = Int(f, "gpt2.embedding_length");
        long ff = f.GetInteger("gpt2.feed_forward_length", 4L * embd);
        if (ff != 4L * embd)
            throw new NotSupportedException($"{f.Path}: gpt2.feed_forward_length is {ff}; Loom's GPT-2 has an MLP of 4 × embedding_length ({4L * embd}).");
        var vocab = f.Get("token_embd.weight");
        var config = new Gpt2Config
        {
            VocabSize = checked((int)vocab.Dimensions[^1]),
            MaxPositions = Int(f, "gpt2.context_length"),
            Embedding = embd,
            Layers = Int(f, "gpt2.block_count"),
            Heads = Int(f, "gpt2.attention.head_count"),
            LayerNormEpsilon = (float)f.GetNumber("gpt2.attention.layer_norm_epsilon", 1e-5),
        };
        config.Validate($"{f.Path}: ");
        return config;
    }

    internal static int Int(GgufFile f, string key)
    {
        long v = f.GetInteger(key);
        return v is >= 1 and <= int.MaxValue ? (int)v : throw new InvalidDataException($"{f.Path}: metadata {key} is {v}; it must be a whole number from 1 to {int.MaxValue}.");
    }

    private static List<GgufTensorMap> Tensors(Gpt2Config c)
    {
        var t = GgufTensorLayout.Transposed;
        var maps = new List<GgufTensorMap> { new("token_embd.weight", "wte.weight"), new("position_embd.weight", "wpe.weight") };
        for (int l = 0; l < c.Layers; l++)
        {
            string b = $"blk.{l}.", h = $"h.{l}.";
            maps.AddRange(
            [
                new(b + "attn_norm.weight", h + "ln_1.weight"), new(b + "attn_norm.bias", h + "ln_1.bias"),
                new(b + "attn_qkv.weight", h + "attn.c_attn.weight", t), new(b + "attn_qkv.bias", h + "attn.c_attn.bias"),
                new(b + "attn_output.weight", h + "attn.c_proj.weight", t), new(b + "attn_output.bias", h + "attn.c_proj.bias"),
                new(b + "ffn_norm.weight", h + "ln_2.weight"), new(b + "ffn_norm.bias", h + "ln_2.bias"),
                new(b + "ffn_up.weight", h + "mlp.c_fc.weight", t), new(b + "ffn_up.bias", h + "mlp.c_fc.bias"),
                new(b + "ffn_down.weight", h + "mlp.c_proj.weight", t), new(b + "ffn_down.bias", h + "mlp.c_proj.bias"),
            ]);
        }
        maps.Add(new("output_norm.weight", "ln_f.weight"));
        maps.Add(new("output_norm.bias", "ln_f.bias"));
        maps.Add(new("output.weight", "wte.weight", Copy: true));
        return maps;
    }
}
