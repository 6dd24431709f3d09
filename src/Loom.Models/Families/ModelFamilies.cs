// The model-family registry: GPT-2, Llama and BERT are registered here; another family (or a test)
// adds itself with Register. CausalLanguageModels, checkpoints and the CLI look families up by
// model_type or by config type.
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.T5;

namespace Loom.Models.Families;

/// <summary>Registered model families, by model_type.</summary>
public static class ModelFamilies
{
    private static readonly ConcurrentDictionary<string, ModelFamily> s_families = new(StringComparer.Ordinal);

    // Configs are read through source-generated metadata (ModelConfigJson: named literals and quoted
    // numbers bind, so "NaN" reaches Validate and is refused by name), which NativeAOT builds can use.

    static ModelFamilies()
    {
        Register(new ModelFamily
        {
            ModelType = "gpt2",
            ConfigurationType = typeof(Gpt2Config),
            ReadConfiguration = n => ModelConfigJson.Read(n, ModelConfigJson.Default.Gpt2Config, new Gpt2Config()),
            Validate = (c, prefix) => ((Gpt2Config)c).Validate(prefix),
            PlanMemory = (c, b, t, checkpointing) => Gpt2Model.PlanMemory((Gpt2Config)c, b, t, checkpointing),
            VocabularySize = c => ((Gpt2Config)c).VocabSize,
            ParameterTensors = c => Gpt2Model.ParameterSpecs((Gpt2Config)c),
            CreateCausalLanguageModel = (c, o, p) => new Gpt2Model((Gpt2Config)c, o, p),
            CreateHiddenStateModel = (c, o, p) => new Gpt2Model((Gpt2Config)c, o, p),
            TensorParallelSplit = Gpt2Model.TensorParallelSplit,
            LayerCount = c => ((Gpt2Config)c).Layers,
            // HF modeling_gpt2.py GPT2ForSequenceClassification: transformer = GPT2Model, score = Linear(n_embd, num_labels, bias=False)
            SequenceClassifier = new SequenceClassifierLayout
            {
                Architecture = "GPT2ForSequenceClassification",
                Pooling = SequencePooling.LastNonPadToken,
                ScoreModule = "score",
                BodyPrefix = "transformer.",
                BodyTensors = c => Gpt2Model.ParameterSpecs((Gpt2Config)c),
                HiddenSize = c => ((Gpt2Config)c).Embedding,
                ContextLength = c => ((Gpt2Config)c).MaxPositions,
                InitializeBody = (m, seed) => ((Gpt2Model)m).InitializeWeights(seed),
                SetActivationCheckpointing = (m, on) => ((Gpt2Model)m).ActivationCheckpointing = on,
            },
            Gguf = Gpt2Gguf.Architecture,
            Describe = c => c is Gpt2Config g ? $"gpt2 {g.Layers} layers × {g.Embedding}, vocab {g.VocabSize}" : c.ToString() ?? "?",
        });
        Register(new ModelFamily
        {
            ModelType = "llama",
            ConfigurationType = typeof(LlamaConfig),
            ReadConfiguration = n => ModelConfigJson.Read(n, ModelConfigJson.Default.LlamaConfig, new LlamaConfig(), ModelConfigJson.LlamaNested),
            Validate = (c, prefix) => ((LlamaConfig)c).Validate(prefix),
            PlanMemory = (c, b, t, checkpointing) => LlamaModel.PlanMemory((LlamaConfig)c, b, t, checkpointing),
            VocabularySize = c => ((LlamaConfig)c).VocabSize,
            ParameterTensors = c => LlamaModel.ParameterSpecs((LlamaConfig)c),
            CreateCausalLanguageModel = (c, o, p) => new LlamaModel((LlamaConfig)c, o, p),
            CreateHiddenStateModel = (c, o, p) => new LlamaModel((LlamaConfig)c, o, p),
            // HF modeling_llama.py LlamaForSequenceClassification: model = LlamaModel, score = Linear(hidden_size, num_labels, bias=False)
            SequenceClassifier = new SequenceClassifierLayout
            {
                Architecture = "LlamaForSequenceClassification",
                Pooling = SequencePooling.LastNonPadToken,
                ScoreModule = "score",
                AlternativeNames = n => n.StartsWith("model.", StringComparison.Ordinal) ? [n["model.".Length..]] : [],
                OutsideClassifier = n => n == "lm_head.weight",
                BodyTensors = c => LlamaModel.ParameterSpecs((LlamaConfig)c, lmHead: false),
                HiddenSize = c => ((LlamaConfig)c).HiddenSize,
                ContextLength = c => ((LlamaConfig)c).MaxPositions,
                InitializeBody = (m, seed) => ((LlamaModel)m).InitializeWeights(seed),
                SetActivationCheckpointing = (m, on) => ((LlamaModel)m).ActivationCheckpointing = on,
            },
            Gguf = LlamaGguf.Architecture,
            Describe = c => c is LlamaConfig l ? $"llama {l.Layers} layers × {l.HiddenSize}, vocab {l.VocabSize}" : c.ToString() ?? "?",
        });
        Register(new ModelFamily
        {
            ModelType = "bert",
            ConfigurationType = typeof(BertConfig),
            ReadConfiguration = n => ModelConfigJson.Read(n, ModelConfigJson.Default.BertConfig, new BertConfig()),
            Validate = (c, prefix) => ((BertConfig)c).Validate(prefix),
            VocabularySize = c => ((BertConfig)c).VocabSize,
            CreateHiddenStateModel = (c, o, p) => new BertModel((BertConfig)c, o, p),
            // HF modeling_bert.py BertForSequenceClassification: bert = BertModel (with pooler),
            // dropout(classifier_dropout ?? hidden_dropout_prob), classifier = Linear(hidden_size, num_labels)
            SequenceClassifier = new SequenceClassifierLayout
            {
                Architecture = "BertForSequenceClassification",
                Pooling = SequencePooling.FirstTokenPooler,
                ScoreModule = "classifier",
                ScoreBias = true,
                PoolerModule = "bert.pooler.dense",
                AlternativeNames = n => n.StartsWith("bert.", StringComparison.Ordinal) ? [n["bert.".Length..]] : [],
                OutsideClassifier = n => n.StartsWith("cls.", StringComparison.Ordinal),
                BodyTensors = c => BertModel.ParameterSpecs((BertConfig)c, maskedLmHead: false),
                ClassifierDropoutFallback = "hidden_dropout_prob",
                HiddenSize = c => ((BertConfig)c).HiddenSize,
                ContextLength = c => ((BertConfig)c).MaxPositions,
                InitializeBody = (m, seed) => ((BertModel)m).InitializeWeights(seed),
                SetActivationCheckpointing = (m, on) => ((BertModel)m).ActivationCheckpointing = on,
            },
            CreateMaskedLanguageModel = (c, o, p) => new BertForMaskedLM((BertConfig)c, o, p),
            NotCausalReason = "model_type \"bert\" is an encoder (masked LM), not a causal language model: it cannot generate text or be scored by next-token loss; fine-tune it for a task (loom finetune) or train it with loom train (masked-LM loss).",
            Describe = c => c is BertConfig b ? $"bert {b.Layers} layers × {b.HiddenSize}, vocab {b.VocabSize}" : c.ToString() ?? "?",
        });
        Register(new ModelFamily
        {
            ModelType = "t5",
            ConfigurationType = typeof(T5Config),
            ReadConfiguration = n => ModelConfigJson.Read(n, ModelConfigJson.Default.T5Config, new T5Config()),
            Validate = (c, prefix) => ((T5Config)c).Validate(prefix),
            VocabularySize = c => ((T5Config)c).VocabSize,
            ParameterTensors = c => T5Model.ParameterSpecs((T5Config)c),
            CreateSeq2SeqModel = (c, o, p) => new T5Model((T5Config)c, o, p),
            NotCausalReason = "model_type \"t5\" is an encoder-decoder (T5ForConditionalGeneration), not a causal language model: generate with it through loom generate (which encodes the prompt and decodes from decoder_start_token_id) or fine-tune it with task: seq2seq.",
            Describe = c => c is T5Config t ? $"t5 {t.NumLayers}+{t.NumDecoderLayers} layers × {t.DModel}, {t.FeedForwardProj}, vocab {t.VocabSize}" : c.ToString() ?? "?",
        });
    }

    /// <summary>Adds or replaces the family for its model_type.</summary>
    public static void Register(ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        s_families[family.ModelType] = family;
    }

    /// <summary>Every registered family.</summary>
    public static IReadOnlyCollection<ModelFamily> All => s_families.Values.OrderBy(f => f.ModelType, StringComparer.Ordinal).ToList();

    /// <summary>The family of <paramref name="modelType"/>, or null.</summary>
    public static ModelFamily? Find(string modelType) => s_families.TryGetValue(modelType, out var f) ? f : null;

    /// <summary>The family whose GGUF general.architecture is <paramref name="architecture"/>, or null.</summary>
    public static ModelFamily? ForGgufArchitecture(string architecture) =>
        s_families.Values.FirstOrDefault(f => f.Gguf?.Name == architecture);

    /// <summary>The family whose config record <paramref name="configuration"/> is, or null.</summary>
    public static ModelFamily? ForConfiguration(object configuration) =>
        s_families.Values.FirstOrDefault(f => f.ConfigurationType == configuration.GetType());
}
