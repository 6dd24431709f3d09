// Hugging Face's *ForSequenceClassification for any registered family: a body (IHiddenStateModel)
// and a head described by the family's SequenceClassifierLayout, the loss chosen by problem_type.
//   GPT2/LlamaForSequenceClassification (modeling_gpt2.py, modeling_llama.py):
//     r_b = rightmost t with ids[b, t] ≠ pad_token_id (0 when none; T−1 without pad_token_id, B = 1 only)
//     scores = hidden[b, r_b]·W_scoreᵀ                                  score: (N, C), no bias
//   BertForSequenceClassification (modeling_bert.py):
//     pooled = tanh(hidden[b, 0]·W_poolᵀ + b_pool)                      BertPooler on [CLS], computed once by the body (IPooledHiddenStateModel)
//     scores = drop(pooled)·W_clsᵀ + b_cls                              classifier: (N, C) + (N)
//   loss (HF loss_utils.ForSequenceClassificationLoss): cross-entropy (ignore −100) for single-label,
//   MSE for regression, BCE-with-logits for multi-label, each a mean.
// Backward runs the same lines in reverse and hands the body a hidden-state gradient that is zero
// except on the pooled rows. Head tensors live in the body's ParameterSet (ModelOptions.HeadParameters).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Losses;
using Loom.Models.Parameters;
using Loom.Models.Projections;
using Loom.Models.Regularization;

namespace Loom.Models.Classification;

/// <summary>A body and a sequence-classification head, trained and saved as Hugging Face's *ForSequenceClassification.</summary>
public sealed class SequenceClassifier : ISequenceClassificationModel, ITrainingMode
{
    private readonly IHiddenStateModel _body;
    private readonly SequenceClassifierLayout _layout;
    private readonly WorkerPool _pool;
    private readonly IProjection _score;          // (N, C) (+ (N))
    private readonly IPooledHiddenStateModel? _pooler;   // the body's own pooler (BertModel.pooler), when the layout pools through it
    private readonly int _scoreW, _scoreB;        // head tensor indexes (−1: no bias)
    private readonly bool _bodyTrains;            // some body tensor below the head trains
    private readonly float _dropout;
    private readonly ulong _dropoutSeed;
    private readonly JsonObject? _sourceConfig;   // config.json the model was loaded from (fields Loom does not model are kept on Save)
    private readonly bool _dropoutExplicit;
    private bool _checkpointing;
    private bool _training;
    private ulong _ownStep;

    // Per-batch buffers, grown to the largest (B, T) seen; spans are sliced to the current shape.
    private int _b, _t;
    private int[] _rows = [];                     // (B) the hidden row each sequence is classified by
    private float[] _sel = [], _pooled = [], _mask = [], _dropped = [];   // (B, C)
    private float[] _scores = [], _dscores = [], _losses = [];           // (B, N), (B, N), (B)
    private float[] _dx = [], _dsel = [];                                // (B, C)
    private float[] _dhidden = [];                                       // (B, T, C)
    private int[] _classes = [];                                         // (B)
    private float[] _values = [];                                        // (B, N)
    private bool _hasLabels, _headDropped;

    internal SequenceClassifier(object configuration, SequenceClassifierLayout layout, IHiddenStateModel body, ModelOptions options,
        int numLabels, ProblemType problemType, IReadOnlyList<string> labels, int? padTokenId, float dropout, bool dropoutExplicit,
        JsonObject? sourceConfig, WorkerPool? pool)
    {
        Configuration = configuration;
        _layout = layout;
        _body = body;
        _pool = pool ?? WorkerPool.Shared;
        NumLabels = numLabels;
        ProblemType = problemType;
        Labels = labels;
        PadTokenId = padTokenId;
        _dropout = dropout;
        _dropoutExplicit = dropoutExplicit;
        _dropoutSeed = options.Dropout.Seed;
        _sourceConfig = sourceConfig;
        ContextLength = layout.ContextLength(configuration);
        var p = body.Parameters;
        int C = body.HiddenSize;
        _scoreW = p.IndexOf(layout.ScoreModule + ".weight");
        _scoreB = layout.ScoreBias ? p.IndexOf(layout.ScoreModule + ".bias") : -1;
        _score = options.Project(new ProjectionSpec(layout.ScoreModule, ProjectionLayout.OutIn, C, numLabels, _scoreW, _scoreB), p, _pool);
        if (layout.Pooling == SequencePooling.FirstTokenPooler)
            _pooler = body as IPooledHiddenStateModel
                ?? throw new NotSupportedException($"{layout.Architecture} reads the body's pooled output, but the body ({body.GetType().Name}) has no pooler.");
        _bodyTrains = p.Specs.Any(s => s.IsTrainable && !IsHeadTensor(s.Name));
    }

    /// <summary>The head's tensors for a layout and label count (name, shape, weight decay), as HF names them.</summary>
    internal static IReadOnlyList<(string Name, long[] Shape, bool WeightDecay)> HeadTensors(SequenceClassifierLayout layout, int hidden, int numLabels)
    {
        var list = new List<(string, long[], bool)> { (layout.ScoreModule + ".weight", [numLabels, hidden], true) };
        if (layout.ScoreBias) list.Add((layout.ScoreModule + ".bias", [numLabels], false));
        return list;
    }

    // The pooler belongs to the body (as in HF's BertModel) but only the head's loss reaches it.
    private bool IsHeadTensor(string name) =>
        name.StartsWith(_layout.ScoreModule + ".", StringComparison.Ordinal)
        || (_layout.PoolerModule is { } m && name.StartsWith(m + ".", StringComparison.Ordinal));

    /// <inheritdoc/>
    public object Configuration { get; }

    /// <inheritdoc/>
    public int NumLabels { get; }

    /// <inheritdoc/>
    public ProblemType ProblemType { get; }

    /// <summary>id2label: the name of each class id.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The padding id the last-token pooling skips (null: none, batches of one sequence only).</summary>
    public int? PadTokenId { get; }

    /// <summary>The head's module name ("score", "classifier").</summary>
    public string ScoreModule => _layout.ScoreModule;

    /// <summary>The architecture written to config.json.</summary>
    public string Architecture => _layout.Architecture;

    /// <summary>The body.</summary>
    public IHiddenStateModel Body => _body;

    /// <inheritdoc/>
    public int ContextLength { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters => _body.Parameters;

    /// <inheritdoc/>
    public bool ActivationCheckpointing
    {
        get => _checkpointing;
        set
        {
            if (value == _checkpointing) return;
            if (_layout.SetActivationCheckpointing is null)
            {
                if (value) throw new NotSupportedException($"Activation checkpointing is not available for {_layout.Architecture}; turn it off.");
                return;
            }
            _layout.SetActivationCheckpointing(_body, value);
            _checkpointing = value;
        }
    }

    /// <inheritdoc/>
    public bool IsTraining
    {
        get => _training;
        set
        {
            _training = value;
            if (_body is ITrainingMode t) t.IsTraining = value;
        }
    }

    /// <inheritdoc/>
    public ulong DropoutStep
    {
        get => _body is ITrainingMode t ? t.DropoutStep : _ownStep;
        set { if (_body is ITrainingMode t) t.DropoutStep = value; else _ownStep = value; }
    }

    /// <summary>The hidden row (b·T + t) each sequence of the last forward was classified by, (B).</summary>
    public ReadOnlySpan<int> PooledRows => _rows.AsSpan(0, _b);

    /// <inheritdoc/>
    public ReadOnlySpan<float> Scores => _b == 0 ? throw new InvalidOperationException("Run Forward first.") : _scores.AsSpan(0, _b * NumLabels);

    /// <inheritdoc/>
    public float Forward(in TokenBatch batch, ClassificationLabels labels)
    {
        int B = batch.Batch, T = batch.Time, C = _body.HiddenSize, N = NumLabels;
        if (T > ContextLength) throw new ArgumentException($"Sequence length {T} exceeds the model's context length {ContextLength}; truncate the inputs.");
        CheckLabels(labels, B);
        var hidden = _body.ForwardHidden(batch);
        Grow(B, T);
        var rows = _rows.AsSpan(0, B);
        if (_layout.Pooling == SequencePooling.FirstTokenPooler)
            for (int b = 0; b < B; b++) rows[b] = b * T;
        else
            LastNonPadRows(batch.Ids, B, T, rows);

        var sel = _sel.AsSpan(0, B * C);
        for (int b = 0; b < B; b++) hidden.Slice(rows[b] * C, C).CopyTo(sel.Slice(b * C, C));
        Span<float> x = sel;
        if (_pooler != null)
        {
            // pooled = tanh(x[:, 0]·Wpᵀ + b), computed by the body's BertPooler in ForwardHidden
            var pooled = _pooled.AsSpan(0, B * C);
            _pooler.Pooled.CopyTo(pooled);
            x = pooled;
        }
        _headDropped = IsTraining && _dropout > 0;
        if (_headDropped)
        {
            // layer −2 keeps the head's stream apart from the body's (embeddings −1, blocks 0..L−1)
            Dropout.FillMask(_mask.AsSpan(0, B * C), _dropout, _dropoutSeed, Dropout.Stream(DropoutStep, -2, 3));
            Dropout.Apply(x, _mask.AsSpan(0, B * C), _dropped.AsSpan(0, B * C));
            x = _dropped.AsSpan(0, B * C);
        }
        var scores = _scores.AsSpan(0, B * N);
        _score.Forward(x, scores, B);

        _hasLabels = !labels.IsEmpty;
        if (!_hasLabels) return float.NaN;
        switch (ProblemType)
        {
            case ProblemType.SingleLabel:
                labels.Classes.CopyTo(_classes);
                return CrossEntropyLoss.Forward(scores, _classes.AsSpan(0, B), N, _losses.AsSpan(0, B), _pool);
            case ProblemType.Regression:
                labels.Values.CopyTo(_values);
                return MeanSquaredErrorLoss.ForwardBackward(scores, _values.AsSpan(0, B * N), default);
            default:
                labels.Values.CopyTo(_values);
                return BinaryCrossEntropyWithLogitsLoss.ForwardBackward(scores, _values.AsSpan(0, B * N), default);
        }
    }

    // HF (transformers ≥ 4.48): non_pad_mask = ids ≠ pad; last = argmax(arange(T)·non_pad_mask), so the
    // rightmost non-pad token (0 when the row is all padding); without pad_token_id the last position,
    // and "Cannot handle batch sizes > 1 if no padding token is defined."
    private void LastNonPadRows(ReadOnlySpan<int> ids, int B, int T, Span<int> rows)
    {
        if (PadTokenId is not { } pad)
        {
            if (B != 1)
                throw new InvalidOperationException($"{_layout.Architecture} reads each sequence's last non-padding token, but the model has no pad_token_id, so a batch of {B} sequences cannot be read (Hugging Face: \"Cannot handle batch sizes > 1 if no padding token is defined\"). Set pad_token_id in config.json or SequenceClassifierOptions.PadTokenId, or use batches of one sequence.");
            rows[0] = T - 1;
            return;
        }
        for (int b = 0; b < B; b++)
        {
            int last = 0;
            for (int t = T - 1; t > 0; t--)
                if (ids[b * T + t] != pad) { last = t; break; }
            rows[b] = b * T + last;
        }
    }

    private void CheckLabels(ClassificationLabels labels, int B)
    {
        if (labels.IsEmpty) return;
        int N = NumLabels;
        if (ProblemType == ProblemType.SingleLabel)
        {
            if (labels.Classes.Length != B)
                throw new ArgumentException(labels.Classes.IsEmpty
                    ? $"problem_type single_label_classification takes one class id per sequence (ClassificationLabels.FromClasses); got {labels.Values.Length} real values."
                    : $"{labels.Classes.Length} class ids for a batch of {B} sequences; give one per sequence.");
            for (int b = 0; b < B; b++)
            {
                int c = labels.Classes[b];
                if (c != CrossEntropyLoss.IgnoreIndex && (c < 0 || c >= N))
                    throw new ArgumentException($"Label {c} of sequence {b} is outside the {N} classes (ids 0..{N - 1}, or −100 to leave the sequence out of the loss).");
            }
        }
        else
        {
            string name = ProblemType == ProblemType.Regression ? "regression" : "multi_label_classification";
            if (labels.Values.Length != (long)B * N)
                throw new ArgumentException(labels.Values.IsEmpty
                    ? $"problem_type {name} takes {N} real value(s) per sequence (ClassificationLabels.FromValues); got class ids."
                    : $"{labels.Values.Length} label values for {B} sequences × {N} labels = {(long)B * N}.");
            for (int i = 0; i < labels.Values.Length; i++)
            {
                float v = labels.Values[i];
                if (!float.IsFinite(v) || (ProblemType == ProblemType.MultiLabel && (v < 0 || v > 1)))
                    throw new ArgumentException($"Label value {v} of sequence {i / N}, label {i % N} is not {(ProblemType == ProblemType.MultiLabel ? "in [0, 1]" : "a finite number")}.");
            }
        }
    }

    private void Grow(int B, int T)
    {
        int C = _body.HiddenSize, N = NumLabels;
        if (B > _rows.Length)
        {
            _rows = new int[B]; _classes = new int[B]; _losses = new float[B];
            _sel = new float[B * C]; _pooled = new float[B * C]; _mask = new float[B * C]; _dropped = new float[B * C];
            _dx = new float[B * C]; _dsel = new float[B * C];
            _scores = new float[B * N]; _dscores = new float[B * N]; _values = new float[B * N];
        }
        if ((long)B * T * C > _dhidden.Length) _dhidden = new float[checked(B * T * C)];
        _b = B;
        _t = T;
    }

    /// <inheritdoc/>
    public void Backward(float lossScale = 1f)
    {
        if (_b == 0) throw new InvalidOperationException("Run Forward with labels before Backward.");
        if (!_hasLabels) throw new InvalidOperationException("Backward needs the last Forward to have had labels.");
        Parameters.EnsureGradients();
        int B = _b, T = _t, C = _body.HiddenSize, N = NumLabels;
        var scores = _scores.AsSpan(0, B * N);
        var dscores = _dscores.AsSpan(0, B * N);
        switch (ProblemType)
        {
            case ProblemType.SingleLabel:
                scores.CopyTo(dscores);
                CrossEntropyLoss.Backward(dscores, _classes.AsSpan(0, B), N, _losses.AsSpan(0, B), lossScale, _pool);
                break;
            case ProblemType.Regression:
                MeanSquaredErrorLoss.ForwardBackward(scores, _values.AsSpan(0, B * N), dscores, lossScale);
                break;
            default:
                BinaryCrossEntropyWithLogitsLoss.ForwardBackward(scores, _values.AsSpan(0, B * N), dscores, lossScale);
                break;
        }
        BackwardFromScores(dscores, _bodyTrains);
    }

    /// <inheritdoc/>
    public void BackwardScores(ReadOnlySpan<float> scoreGradient)
    {
        if (_b == 0) throw new InvalidOperationException("Run Forward before BackwardScores.");
        if (scoreGradient.Length != _b * NumLabels) throw new ArgumentException($"The score gradient has {scoreGradient.Length} values; B·num_labels = {_b * NumLabels}.");
        Parameters.EnsureGradients();
        scoreGradient.CopyTo(_dscores);
        BackwardFromScores(_dscores.AsSpan(0, _b * NumLabels), throughBody: true);
    }

    // The head and body backward from d(scores), (B, N).
    private void BackwardFromScores(Span<float> dscores, bool throughBody)
    {
        int B = _b, T = _t, C = _body.HiddenSize;
        // scores = x·Wᵀ (+ b)
        Span<float> x = _pooler != null ? _pooled.AsSpan(0, B * C) : _sel.AsSpan(0, B * C);
        var dx = _dx.AsSpan(0, B * C);
        _score.Backward(dscores, _headDropped ? _dropped.AsSpan(0, B * C) : x, dx, B);
        // x = drop(pooled)
        if (_headDropped) Dropout.Apply(dx, _mask.AsSpan(0, B * C));
        var dsel = dx;
        if (_pooler != null)
        {
            // pooled = tanh(sel·Wpᵀ + b): the body's pooler differentiates itself
            dsel = _dsel.AsSpan(0, B * C);
            _pooler.BackwardPooled(dx, dsel);
        }
        ulong step = DropoutStep;
        if (throughBody)
        {
            // Only the pooled rows of the hidden states reach the loss.
            var dhidden = _dhidden.AsSpan(0, B * T * C);
            dhidden.Clear();
            for (int b = 0; b < B; b++) dsel.Slice(b * C, C).CopyTo(dhidden.Slice(_rows[b] * C, C));
            _body.BackwardHidden(dhidden);
        }
        // The next training forward draws new masks, also when the body drew none.
        if (IsTraining && DropoutStep == step) DropoutStep = step + 1;
    }

    /// <inheritdoc/>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var p = Parameters;
        var items = new List<SafetensorsWriter.Item>();
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var s = p.Specs[i];
            if (_layout.OutsideClassifier(s.Name)) continue;
            string name = s.Name.StartsWith(_layout.ScoreModule + ".", StringComparison.Ordinal) ? s.Name : _layout.BodyPrefix + s.Name;
            items.Add(new SafetensorsWriter.Item(name, s.Shape, p.Value(i).ToArray()));
        }
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), items, new Dictionary<string, string> { ["format"] = "pt" });
        DurableFile.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>config.json as Hugging Face's AutoModelForSequenceClassification reads it.</summary>
    public JsonObject ConfigJson()
    {
        var json = _sourceConfig?.DeepClone().AsObject() ?? new JsonObject();
        foreach (var (k, v) in JsonSerializer.SerializeToNode(Configuration, Configuration.GetType())!.AsObject())
            json[k] = v?.DeepClone();
        json.Remove("num_labels");   // implied by id2label, as HF writes it
        json["architectures"] = new JsonArray(_layout.Architecture);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < Labels.Count; i++)
        {
            id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Labels[i];
            label2id[Labels[i]] = i;
        }
        json["id2label"] = id2label;
        json["label2id"] = label2id;
        json["problem_type"] = SequenceClassifiers.ProblemTypeName(ProblemType);
        if (PadTokenId is { } pad) json["pad_token_id"] = pad;
        if (_dropoutExplicit) json["classifier_dropout"] = _dropout;
        return json;
    }

    public void Dispose()
    {
        _score.Dispose();
        _body.Dispose();
    }
}
