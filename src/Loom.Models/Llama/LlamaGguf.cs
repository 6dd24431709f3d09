// Llama in GGUF as llama.cpp's converter writes it (convert_hf_to_gguf.py LlamaModel; llama-arch.cpp
// LLM_ARCH_LLAMA): llama.* hyper-parameters, q and k rows permuted from Hugging Face's rotate-half
// RoPE to ggml's interleaved pairs, and output.weight absent when the embeddings are tied.
using Loom.Models.Formats.Gguf;

namespace Loom.Models.Llama;

/// <summary>Llama's GGUF mapping.</summary>
internal static class LlamaGguf
{
    public static GgufArchitecture Architecture { get; } = new()
    {
        Name = "llama",
        Metadata = c => Metadata((LlamaConfig)c),
        ReadConfiguration = Read,
        Tensors = c => Tensors((LlamaConfig)c),
    };

    private static IEnumerable<(string, GgufValue)> Metadata(LlamaConfig c)
    {
        // Model.set_gguf_parameters, then LlamaModel.set_gguf_parameters (vocab_size, rope dimension count, linear rope scaling).
        yield return ("llama.block_count", GgufValue.Of((uint)c.Layers));
        yield return ("llama.context_length", GgufValue.Of((uint)c.MaxPositions));
        yield return ("llama.embedding_length", GgufValue.Of((uint)c.HiddenSize));
        yield return ("llama.feed_forward_length", GgufValue.Of((uint)c.IntermediateSize));
        yield return ("llama.attention.head_count", GgufValue.Of((uint)c.Heads));
        yield return ("llama.attention.head_count_kv", GgufValue.Of((uint)c.KvHeads));
        yield return ("llama.rope.freq_base", GgufValue.Of(c.RopeTheta));
        yield return ("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(c.RmsNormEpsilon));
        yield return ("llama.vocab_size", GgufValue.Of((uint)c.VocabSize));
        yield return ("llama.rope.dimension_count", GgufValue.Of((uint)c.HeadDim));
        string scaling = c.RopeScaling?.Type ?? c.RopeScaling?.RopeType ?? "none";
        if (scaling == "linear")
        {
            yield return ("llama.rope.scaling.type", GgufValue.Of("linear"));
            yield return ("llama.rope.scaling.factor", GgufValue.Of(c.RopeScaling!.Factor));
        }
        else if (scaling is not ("none" or "default"))
            throw new NotSupportedException($"rope_scaling type \"{scaling}\" has no GGUF export in Loom yet (only linear, which llama.cpp's converter writes).");
    }

    private static object Read(GgufFile f)
    {
        int hidden = Gpt2.Gpt2Gguf.Int(f, "llama.embedding_length"), heads = Gpt2.Gpt2Gguf.Int(f, "llama.attention.head_count");
        long rope = f.GetInteger("llama.rope.dimension_count", hidden / heads);
        if (rope != hidden / heads)
            throw new NotSupportedException($"{f.Path}: llama.rope.dimension_count is {rope}; Loom's Llama rotates whole heads (embedding_length / head_count = {hidden / heads}).");
        LlamaRopeScaling? scaling = null;
        if (f.Metadata.TryGetValue("llama.rope.scaling.type", out var st) && st.Value is string type && type != "none")
        {
            if (type != "linear") throw new NotSupportedException($"{f.Path}: llama.rope.scaling.type \"{type}\" is not supported; Loom reads linear RoPE scaling.");
            scaling = new LlamaRopeScaling { Type = "linear", Factor = (float)f.GetNumber("llama.rope.scaling.factor") };
        }
        var vocab = f.Get("token_embd.weight");
        var config = new LlamaConfig
        {
            VocabSize = checked((int)vocab.Dimensions[^1]),
            HiddenSize = hidden,
            IntermediateSize = Gpt2.Gpt2Gguf.Int(f, "llama.feed_forward_length"),
            Layers = Gpt2.Gpt2Gguf.Int(f, "llama.block_count"),
            Heads = heads,
            KeyValueHeads = (int)f.GetInteger("llama.attention.head_count_kv", heads),
            MaxPositions = Gpt2.Gpt2Gguf.Int(f, "llama.context_length"),
            RmsNormEpsilon = (float)f.GetNumber("llama.attention.layer_norm_rms_epsilon", 1e-5),
            RopeTheta = (float)f.GetNumber("llama.rope.freq_base", 10000),
            RopeScaling = scaling,
            TieWordEmbeddings = f.Find("output.weight") is null,
        };
        config.Validate($"{f.Path}: ");
        return config;
    }

    private static List<GgufTensorMap> Tensors(LlamaConfig c)
    {
        var maps = new List<GgufTensorMap> { new("token_embd.weight", "model.embed_tokens.weight") };
        for (int l = 0; l < c.Layers; l++)
        {
            string b = $"blk.{l}.", p = $"model.layers.{l}.";
            maps.AddRange(
            [
                new(b + "attn_norm.weight", p + "input_layernorm.weight"),
                new(b + "attn_q.weight", p + "self_attn.q_proj.weight", GgufTensorLayout.RotaryPermuted, c.Heads),
                new(b + "attn_k.weight", p + "self_attn.k_proj.weight", GgufTensorLayout.RotaryPermuted, c.KvHeads),
                new(b + "attn_v.weight", p + "self_attn.v_proj.weight"),
                new(b + "attn_output.weight", p + "self_attn.o_proj.weight"),
                new(b + "ffn_norm.weight", p + "post_attention_layernorm.weight"),
                new(b + "ffn_gate.weight", p + "mlp.gate_proj.weight"),
                new(b + "ffn_up.weight", p + "mlp.up_proj.weight"),
                new(b + "ffn_down.weight", p + "mlp.down_proj.weight"),
            ]);
        }
        maps.Add(new("output_norm.weight", "model.norm.weight"));
        maps.Add(new("output.weight", "lm_head.weight", FallbackName: "token_embd.weight"));
        return maps;
    }
}
