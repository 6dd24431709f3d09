// Hugging Face's BertForMaskedLM as a trainable language model: the BERT body with its masked-LM
// head (cls.predictions, decoder tied to the word embeddings), trained on (masked ids, labels)
// batches whose labels are −100 except at the positions chosen for prediction (Devlin et al. 2019,
// §3.1 "Masked LM"). Sequences are full windows (no padding), so every attention-mask entry is 1 and
// every token type 0, as in single-segment MLM pre-training (RoBERTa's FULL-SENTENCES, HF's
// run_mlm group_texts). BertForMaskedLM has no pooler (add_pooling_layer=False): the body's pooler
// is frozen here, gets no gradient or optimizer moments, and is left out of the saved files.
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models.Bert;

/// <summary>BERT with the masked-LM head, trained and saved as Hugging Face's BertForMaskedLM.</summary>
public sealed class BertForMaskedLM : ILanguageModel, ITrainingMode
{
    private const string PoolerPrefix = "bert.pooler.";
    private int[] _types = [], _mask = [];    // (B·T) zeros and ones, resized only when B·T changes

    /// <summary>The encoder with its masked-LM head.</summary>
    public BertModel Body { get; }

    /// <summary>The config record.</summary>
    public BertConfig Config => Body.Config;

    /// <param name="config">The BERT configuration.</param>
    /// <param name="options">Roles and projections; the pooler is frozen whatever they say.</param>
    /// <param name="pool">Worker pool.</param>
    public BertForMaskedLM(BertConfig config, ModelOptions? options = null, WorkerPool? pool = null)
    {
        options ??= ModelOptions.Default;
        var trainable = options.Trainable;
        Body = new BertModel(config, options with { Trainable = name => !name.StartsWith(PoolerPrefix, StringComparison.Ordinal) && (trainable?.Invoke(name) ?? true) }, pool)
        {
            // Pre-training predicts ~15% of the positions: the head (its (C, V) decoder dominates at a 16k+ vocabulary)
            // runs on those rows only; loss and gradients are unchanged (BertMaskedRowsTests).
            LogitsForTargetsOnly = true,
        };
    }

    /// <inheritdoc/>
    public object Configuration => Body.Config;
    /// <inheritdoc/>
    public int VocabularySize => Body.Config.VocabSize;
    /// <inheritdoc/>
    public int ContextLength => Body.Config.MaxPositions;
    /// <inheritdoc/>
    public ParameterSet Parameters => Body.Parameters;
    /// <summary>Logits of the last forward: (B·T, V) without targets; with targets only the rows whose target is not −100, (M, V) in position order.</summary>
    public ReadOnlySpan<float> Logits => Body.Logits;
    /// <inheritdoc/>
    public bool IsTraining { get => Body.IsTraining; set => Body.IsTraining = value; }
    /// <inheritdoc/>
    public ulong DropoutStep { get => Body.DropoutStep; set => Body.DropoutStep = value; }

    /// <inheritdoc/>
    /// <remarks>The body's per-layer checkpointing (BertModel.ActivationCheckpointing): loss and gradients are bit-identical to a run without it.</remarks>
    public bool ActivationCheckpointing
    {
        get => Body.ActivationCheckpointing;
        set => Body.ActivationCheckpointing = value;
    }

    /// <inheritdoc/>
    public void InitializeWeights(int seed) => Body.InitializeWeights(seed);

    /// <inheritdoc/>
    public void LoadWeights(SafetensorsFile file, string prefix = "") => Body.LoadWeights(file, prefix);

    /// <inheritdoc/>
    public bool MayBeAbsentFromWeights(string name) => name.StartsWith(PoolerPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Writes model.safetensors with BertForMaskedLM's tensor names (no pooler) and config.json with
    /// architectures ["BertForMaskedLM"], so transformers' AutoModelForMaskedLM and
    /// AutoModelForSequenceClassification (which then adds a fresh pooler and classifier) load it.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var p = Parameters;
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            p.Specs.Select((s, i) => (s, i)).Where(x => !MayBeAbsentFromWeights(x.s.Name))
                .Select(x => new SafetensorsWriter.Item(x.s.Name, x.s.Shape, p.Value(x.i).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        var config = System.Text.Json.JsonSerializer.SerializeToNode(Config)!.AsObject();
        config["architectures"] = new JsonArray("BertForMaskedLM");
        DurableFile.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <inheritdoc/>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        int bt = batch * time;
        if (_types.Length != bt)
        {
            _types = new int[bt];
            _mask = new int[bt];
            Array.Fill(_mask, 1);
        }
        return Body.Forward(ids, _types, _mask, targets, batch, time);
    }

    /// <inheritdoc/>
    public void Backward(float lossScale = 1f) => Body.Backward(lossScale);

    public void Dispose() => Body.Dispose();
}
