// An encoder-decoder model (ISeq2SeqModel: T5) presented to the one training loop
// (LanguageModelTraining: checkpoints, bit-identical resume, accumulation, mixed precision, reports)
// as an ILanguageModel that also takes source batches (ISourceConditionedModel). Source lengths
// become HF's attention_mask (1 on the first Lengths[b] positions) in a scratch row grown once per
// larger shape; the labels go to the model, which shifts them right behind its decoder start token
// exactly as the batch's decoder inputs were built (TeacherForcing), so both agree by construction.
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Parameters;
using Loom.Training.Loop;

namespace Loom.Training.Seq2Seq;

/// <summary>Trains an <see cref="ISeq2SeqModel"/> through the language-model training loop.</summary>
public sealed class Seq2SeqTrainingModel : ISourceConditionedModel
{
    private int[] _mask = [];   // (B·S) attention mask of the last source batch

    /// <param name="model">The encoder-decoder model (not disposed by this wrapper).</param>
    public Seq2SeqTrainingModel(ISeq2SeqModel model) => Model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The wrapped model.</summary>
    public ISeq2SeqModel Model { get; }

    public object Configuration => Model.Configuration;
    public int VocabularySize => Model.VocabularySize;
    /// <summary>T5's relative positions have no upper bound; lengths are limited by the data settings.</summary>
    public int ContextLength => int.MaxValue;
    public ParameterSet Parameters => Model.Parameters;

    public bool ActivationCheckpointing
    {
        get => false;
        set { if (value) throw new NotSupportedException($"{Loom.Models.CausalLanguageModels.Describe(Model.Configuration)} has no activation checkpointing; set train.activation_checkpointing: false or lower train.batch_size."); }
    }

    public void InitializeWeights(int seed) => Model.InitializeWeights(seed);
    public void LoadWeights(SafetensorsFile file, string prefix = "") => Model.LoadWeights(file, prefix);
    public void Save(string directory) => Model.Save(directory);
    public ReadOnlySpan<float> Logits => Model.Logits;

    /// <inheritdoc/>
    public float Forward(SourceBatch sources, ReadOnlySpan<int> decoderIds, ReadOnlySpan<int> labels, int batch, int time)
    {
        int s = sources.Time;
        if (sources.Ids.Length != batch * s || sources.Lengths.Length != batch)
            throw new ArgumentException($"The source batch holds {sources.Ids.Length} ids and {sources.Lengths.Length} lengths; B = {batch}, S = {s} needs {batch * s} and {batch}.");
        if (_mask.Length < batch * s) _mask = new int[batch * s];
        var mask = _mask.AsSpan(0, batch * s);
        for (int b = 0; b < batch; b++)
        {
            int real = sources.Lengths[b];
            mask.Slice(b * s, real).Fill(1);
            mask.Slice(b * s + real, s - real).Clear();
        }
        return Model.Forward(sources.Ids, mask, labels, batch, s, time);
    }

    /// <summary>Encoder-decoder models need a source: use batches with <see cref="PaddedBatch.Sources"/>.</summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time) =>
        throw new NotSupportedException($"{Loom.Models.CausalLanguageModels.Describe(Model.Configuration)} is an encoder-decoder model; it trains on (source, target) batches (span corruption or task: seq2seq), not on a single token stream.");

    public void Backward(float lossScale = 1f) => Model.Backward(lossScale);

    /// <summary>Does not dispose the wrapped model: its owner does.</summary>
    public void Dispose() { }
}
