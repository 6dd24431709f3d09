// SpQR-style outliers and NF4 double quantization end to end: on a layer with planted outliers the
// output error ‖WX − ŴX‖ with 1% fp16 outliers is well below plain quantization's; the outliers hold
// their weights to fp16 rounding; a fraction of 0 is plain quantization bit for bit; and quantized
// directories with outliers and double-quantized scales reopen (CausalLanguageModels.Load, the path of
// generate/serve/eval) and compute the logits of the f32 model whose weights are their decodings.
using Loom.Compression.Quantization;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Projections;
using Loom.Models.Quantization;

namespace Loom.Compression.Tests.Quantization;

public class SpqrOutliersTests
{
    private const int Out = 64, In = 256, Tokens = 512;

    // A layer whose weights are N(0, 0.02) plus 1% planted outliers (±0.3), and inputs of unequal
    // scale per channel (as transformer activations: a few channels ten times larger).
    private static (float[] W, float[] X, double[] Norms) PlantedLayer()
    {
        var rng = new Random(15);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var w = new float[Out * In];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(0.02 * Gauss());
        for (int p = 0; p < w.Length / 100; p++) w[rng.Next(w.Length)] = (float)(rng.Next(2) == 0 ? 0.3 : -0.3);
        var scale = new double[In];
        for (int j = 0; j < In; j++) scale[j] = j % 17 == 0 ? 10 : 1;
        var x = new float[Tokens * In];
        var norms = new double[In];
        for (int t = 0; t < Tokens; t++)
            for (int j = 0; j < In; j++)
            {
                float v = (float)(scale[j] * Gauss());
                x[t * In + j] = v;
                norms[j] += (double)v * v;
            }
        return (w, x, norms);
    }

    private static double OutputError(float[] w, float[] x, IQuantizedWeight q)
    {
        var deq = new float[Out * In];
        q.DequantizeRows(0, Out, deq);
        double err = 0;
        for (int t = 0; t < Tokens; t++)
            for (int o = 0; o < Out; o++)
            {
                double d = 0;
                for (int j = 0; j < In; j++) d += (double)(w[o * In + j] - deq[o * In + j]) * x[t * In + j];
                err += d * d;
            }
        return Math.Sqrt(err);
    }

    [Theory]
    [InlineData("q4_0", false)]
    [InlineData("nf4", false)]
    [InlineData("nf4", true)]
    public void OnePercentOutliersCutTheOutputErrorOfPlantedOutliers(string type, bool doubleQuant)
    {
        var (w, x, norms) = PlantedLayer();
        var format = QuantFormatInfo.Parse(type);
        Func<float[], IQuantizedWeight> quantize = doubleQuant ? a => Nf4DoubleQuantMatrix.Quantize(a, Out, In) : a => QuantizedMatrix.Quantize(format, a, Out, In);
        using var plain = SpqrOutliers.Quantize(w, Out, In, format, quantize, norms, 0);
        using var spqr = SpqrOutliers.Quantize(w, Out, In, format, quantize, norms, 0.01);
        using var blind = SpqrOutliers.Quantize(w, Out, In, format, quantize, default, 0.01);
        double e0 = OutputError(w, x, plain), e1 = OutputError(w, x, spqr), eBlind = OutputError(w, x, blind);
        var o = Assert.IsType<OutlierMatrix>(spqr);
        Assert.Equal(Out * In / 100, o.Count);
        // Keeping exactly the planted weights would give 0.30 of the plain error (numpy check); the bound leaves margin.
        Assert.True(e1 < 0.45 * e0, $"{type}: ‖WX − ŴX‖ with outliers {e1:G4}, without {e0:G4}");
        // Calibration-weighted saliency beats the plain weight error on inputs of unequal scale.
        Assert.True(e1 < eBlind, $"{type}: weighted {e1:G4}, unweighted {eBlind:G4}");

        // Every outlier's weight is stored to fp16 rounding.
        var deq = new float[Out * In];
        spqr.DequantizeRows(0, Out, deq);
        for (int i = 0; i < Out; i++)
            for (int e = o.RowStarts[i]; e < o.RowStarts[i + 1]; e++)
            {
                int f = i * In + o.OutlierColumns[e];
                Assert.True(Math.Abs(deq[f] - w[f]) <= 1e-3 * Math.Abs(w[f]) + 1e-6, $"outlier ({i}, {o.OutlierColumns[e]}): {deq[f]} vs {w[f]}");
            }
    }

    [Fact]
    public void FractionZeroIsPlainQuantizationBitForBit()
    {
        var (w, _, norms) = PlantedLayer();
        using var q = SpqrOutliers.Quantize(w, Out, In, QuantFormat.Q4_0, a => QuantizedMatrix.Quantize(QuantFormat.Q4_0, a, Out, In), norms, 0);
        using var plain = QuantizedMatrix.Quantize(QuantFormat.Q4_0, w, Out, In);
        Assert.Equal(plain.Blocks.ToArray(), Assert.IsType<QuantizedMatrix>(q).Blocks.ToArray());
    }

    [Fact]
    public void DirectoryWithOutliersZeroEqualsPlainQuantization()
    {
        string f32 = ModelQuantizerTests.SaveGpt2();
        string a = Path.Combine(Path.GetDirectoryName(f32)!, "plain"), b = Path.Combine(Path.GetDirectoryName(f32)!, "zero");
        ModelQuantizer.Quantize(f32, a, new QuantizeOptions { Format = QuantFormat.NF4 });
        ModelQuantizer.Quantize(f32, b, new QuantizeOptions { Format = QuantFormat.NF4, OutlierFraction = 0 });
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(b, QuantizedWeightParts.ExtraFile)));
    }

    [Theory]
    [InlineData("q4_0", false, 0.01)]
    [InlineData("nf4", true, 0.0)]
    [InlineData("nf4", true, 0.005)]
    public void QuantizedDirectoryReopensWithTheLogitsOfItsDecodedWeights(string type, bool doubleQuant, double outliers)
    {
        string f32 = ModelQuantizerTests.SaveGpt2();
        string q = Path.Combine(Path.GetDirectoryName(f32)!, "q");
        var report = ModelQuantizer.Quantize(f32, q, new QuantizeOptions { Format = QuantFormatInfo.Parse(type), DoubleQuant = doubleQuant, OutlierFraction = outliers });
        Assert.Equal(8, report.QuantizedTensors);
        if (doubleQuant && outliers == 0) Assert.InRange(report.BitsPerWeight, 4.12, 4.14);
        if (outliers > 0) Assert.True(report.Outliers > 0);

        using (var file = Loom.Models.Formats.SafetensorsFile.Open(Path.Combine(q, "model.safetensors")))
            foreach (var t in QuantizedWeights.Read(file).Values)
            {
                Assert.Equal(doubleQuant, t.DoubleQuant);
                Assert.Equal(outliers > 0, t.Outliers > 0);
            }

        using var quantized = CausalLanguageModels.Load(q, ModelOptions.Inference);
        // Reference: the f32 model with each weight replaced by the decoding of the same quantization made in memory.
        var options = new QuantizeOptions { Format = QuantFormatInfo.Parse(type), DoubleQuant = doubleQuant, OutlierFraction = outliers };
        using var reference = CausalLanguageModels.Load(f32, ModelOptions.Inference);
        var selected = QuantizedModels.Selectable(reference.Configuration, options.Format, quantizeHead: false);
        foreach (var (name, spec) in selected)
        {
            int index = reference.Parameters.IndexOf(name);
            using var m = ModelQuantizer.QuantizeWeight(spec, reference.Parameters.Value(index), options);
            var w = new float[spec.OutFeatures * spec.InFeatures];
            m.DequantizeRows(0, spec.OutFeatures, w);
            var v = reference.Parameters.Value(index);
            if (spec.Layout == ProjectionLayout.OutIn) w.CopyTo(v);
            else
                for (int o = 0; o < spec.OutFeatures; o++)
                    for (int k = 0; k < spec.InFeatures; k++) v[k * spec.OutFeatures + o] = w[o * spec.InFeatures + k];
        }
        Assert.Equal(8, selected.Count);
        bool q8Activations = type != "nf4";
        foreach (int time in new[] { 5, 16 })
        {
            var ids = Enumerable.Range(0, time).Select(i => (i * 37 + 11) % 300).ToArray();
            quantized.Forward(ids, default, 1, time);
            reference.Forward(ids, default, 1, time);
            var a = quantized.Logits.ToArray();
            var b = reference.Logits.ToArray();
            double maxRef = b.Max(Math.Abs), maxErr = 0;
            for (int i = 0; i < a.Length; i++) maxErr = Math.Max(maxErr, Math.Abs(a[i] - b[i]));
            double allowed = q8Activations && time <= QuantizedMatrix.DotRowLimit ? 0.02 * maxRef : 1e-4 * maxRef + 1e-5;
            Assert.True(maxErr <= allowed, $"{type} dq={doubleQuant} outliers={outliers} T={time}: max |Δlogit| {maxErr:G4}, allowed {allowed:G4}");
        }
    }

    [Fact]
    public void DoubleQuantOfANonNf4TypeIsRefusedByOptionName()
    {
        var e = Assert.Throws<ArgumentException>(() => new QuantizeOptions { Format = QuantFormat.Q4_0, DoubleQuant = true }.Validate());
        Assert.Contains("--double-quant", e.Message);
        e = Assert.Throws<ArgumentException>(() => new QuantizeOptions { Format = QuantFormat.Q4_0, OutlierFraction = 0.7 }.Validate());
        Assert.Contains("--outliers 0.7", e.Message);
    }
}
