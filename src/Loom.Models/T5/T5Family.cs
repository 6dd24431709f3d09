// T5's row in the model-family registry (ModelFamilies): what configs, checkpoints, memory checks and
// messages need to know of an encoder-decoder family — read and validate config.json, the parameter
// tensors by HF name, the vocabulary and a description. It has no causal or masked LM (generation
// goes through ISeq2SeqModel), which NotCausalReason says in the user's words.
using Loom.Models.Families;

namespace Loom.Models.T5;

/// <summary>The registry row of model_type "t5".</summary>
public static class T5Family
{
    /// <summary>The row (registered by ModelFamilies' static constructor).</summary>
    public static ModelFamily Row { get; } = new()
    {
        ModelType = "t5",
        ConfigurationType = typeof(T5Config),
        ReadConfiguration = n => T5Config.Parse(n.ToJsonString()),
        Validate = (c, prefix) => ((T5Config)c).Validate(prefix),
        VocabularySize = c => ((T5Config)c).VocabSize,
        ParameterTensors = c => T5Model.ParameterSpecs((T5Config)c),
        NotCausalReason = "model_type \"t5\" is an encoder-decoder (T5ForConditionalGeneration), not a causal language model: generate with it from its directory (loom generate --model DIR), pre-train it with loom train (span corruption) or fine-tune it with loom finetune (task: seq2seq).",
        Describe = c => c is T5Config t ? $"t5 {t.NumLayers}+{t.NumDecoderLayers} layers × {t.DModel} ({t.FeedForwardProj}), vocab {t.VocabSize}" : c.ToString() ?? "?",
    };
}
