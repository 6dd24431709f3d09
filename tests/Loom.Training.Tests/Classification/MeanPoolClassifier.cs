// A small, honest test double for ISequenceClassificationModel while the real heads are built
// elsewhere: embeddings mean-pooled over the attention mask, then a linear layer (scores = W·h + b),
// with the three Hugging Face losses (softmax cross-entropy, MSE, BCE-with-logits) and a real
// backward pass (checked against finite differences in MeanPoolClassifierTests).
using Loom.Models;
using Loom.Models.Classification;
using Loom.Models.Parameters;

namespace Loom.Training.Tests.Classification;

internal sealed class MeanPoolClassifier : ISequenceClassificationModel
{
    private readonly int _vocab, _width;
    private float[] _scores = [];
    private float[] _pooled = [];        // (B, C)
    private int[] _ids = [], _mask = [];
    private int[] _classes = [];
    private float[] _values = [];
    private int _b, _t;
    private bool _hasLabels;

    public MeanPoolClassifier(int vocab, int width, int labels, ProblemType type, int seed = 1)
    {
        _vocab = vocab;
        _width = width;
        NumLabels = labels;
        ProblemType = type;
        Parameters = new ParameterSet([("embeddings", [vocab, width], false), ("score.weight", [labels, width], true), ("score.bias", [labels], false)]);
        var rng = new Random(seed);
        foreach (int i in new[] { 0, 1 })
        {
            var v = Parameters.Value(i);
            for (int j = 0; j < v.Length; j++) v[j] = (float)(rng.NextDouble() - 0.5) * 0.2f;
        }
    }

    public object Configuration => new { model_type = "mean_pool", vocab_size = _vocab, hidden_size = _width, num_labels = NumLabels };
    public int NumLabels { get; }
    public ProblemType ProblemType { get; }
    public int ContextLength => 512;
    public ParameterSet Parameters { get; }
    public bool ActivationCheckpointing { get; set; }
    public ReadOnlySpan<float> Scores => _scores.AsSpan(0, _b * NumLabels);
    public int SaveCount { get; private set; }

    public float Forward(in TokenBatch batch, ClassificationLabels labels)
    {
        _b = batch.Batch; _t = batch.Time;
        int k = NumLabels, c = _width;
        _ids = batch.Ids.ToArray();
        _mask = batch.AttentionMask.IsEmpty ? Enumerable.Repeat(1, _ids.Length).ToArray() : batch.AttentionMask.ToArray();
        _scores = new float[_b * k];
        _pooled = new float[_b * c];
        var e = Parameters.Value(0); var w = Parameters.Value(1); var bias = Parameters.Value(2);
        for (int r = 0; r < _b; r++)
        {
            int n = 0;
            for (int t = 0; t < _t; t++)
            {
                if (_mask[r * _t + t] == 0) continue;
                n++;
                int id = _ids[r * _t + t];
                for (int j = 0; j < c; j++) _pooled[r * c + j] += e[id * c + j];
            }
            for (int j = 0; j < c; j++) _pooled[r * c + j] /= Math.Max(1, n);
            for (int o = 0; o < k; o++)
            {
                double s = bias[o];
                for (int j = 0; j < c; j++) s += w[o * c + j] * _pooled[r * c + j];
                _scores[r * k + o] = (float)s;
            }
        }
        _hasLabels = !labels.IsEmpty;
        if (!_hasLabels) return float.NaN;
        _classes = labels.Classes.ToArray();
        _values = labels.Values.ToArray();
        double loss = 0;
        for (int r = 0; r < _b; r++) loss += RowLoss(r, null);
        return (float)(loss / _b);
    }

    // The loss of row r; with grad, writes dLoss_r/dscores.
    private double RowLoss(int r, Span<double> grad)
    {
        int k = NumLabels;
        var z = _scores.AsSpan(r * k, k);
        switch (ProblemType)
        {
            case ProblemType.SingleLabel:
            {
                double max = double.NegativeInfinity;
                foreach (var v in z) max = Math.Max(max, v);
                double sum = 0;
                foreach (var v in z) sum += Math.Exp(v - max);
                int y = _classes[r];
                if (!grad.IsEmpty) for (int o = 0; o < k; o++) grad[o] = Math.Exp(z[o] - max) / sum - (o == y ? 1 : 0);
                return -(z[y] - max - Math.Log(sum));
            }
            case ProblemType.MultiLabel:
            {
                double l = 0;
                for (int o = 0; o < k; o++)
                {
                    double x = z[o], y = _values[r * k + o];
                    l += Math.Max(x, 0) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
                    if (!grad.IsEmpty) grad[o] = (1 / (1 + Math.Exp(-x)) - y) / k;
                }
                return l / k;
            }
            default:
            {
                double l = 0;
                for (int o = 0; o < k; o++)
                {
                    double d = z[o] - _values[r * k + o];
                    l += d * d;
                    if (!grad.IsEmpty) grad[o] = 2 * d / k;
                }
                return l / k;
            }
        }
    }

    public void Backward(float lossScale = 1f)
    {
        if (!_hasLabels) throw new InvalidOperationException("Backward needs a forward with labels.");
        int k = NumLabels, c = _width;
        var e = Parameters.Value(0); var w = Parameters.Value(1);
        var de = Parameters.Gradient(0); var dw = Parameters.Gradient(1); var db = Parameters.Gradient(2);
        Span<double> dz = stackalloc double[k];
        var dh = new double[c];
        for (int r = 0; r < _b; r++)
        {
            RowLoss(r, dz);
            for (int o = 0; o < k; o++) dz[o] *= lossScale / _b;
            Array.Clear(dh);
            for (int o = 0; o < k; o++)
            {
                db[o] += (float)dz[o];
                for (int j = 0; j < c; j++)
                {
                    dw[o * c + j] += (float)(dz[o] * _pooled[r * c + j]);
                    dh[j] += dz[o] * w[o * c + j];
                }
            }
            int n = 0;
            for (int t = 0; t < _t; t++) n += _mask[r * _t + t];
            for (int t = 0; t < _t; t++)
            {
                if (_mask[r * _t + t] == 0) continue;
                int id = _ids[r * _t + t];
                for (int j = 0; j < c; j++) de[id * c + j] += (float)(dh[j] / Math.Max(1, n));
            }
        }
        _ = e;
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SaveCount++;
        Loom.Models.Formats.SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            Parameters.Specs.Select((s, i) => new Loom.Models.Formats.SafetensorsWriter.Item(s.Name, s.Shape, Parameters.Value(i).ToArray())));
        File.WriteAllText(Path.Combine(directory, "config.json"), System.Text.Json.JsonSerializer.Serialize(Configuration));
    }

    public void Dispose() => Parameters.Dispose();
}
