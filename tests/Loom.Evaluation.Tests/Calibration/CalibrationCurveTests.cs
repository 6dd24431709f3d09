// CalibrationCurve against scikit-learn 1.2.1's calibration_curve (uniform and quantile bins, 5
// and 10 of them, probabilities exactly on bin edges and at 0 and 1) and the ECE the fixture script
// writes out by hand; the top-label form against a naive construction in the test.
using Loom.Evaluation.Calibration;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Calibration;

public sealed class CalibrationCurveTests
{
    public static TheoryData<string> Cases => Names("calibration");

    [Theory]
    [MemberData(nameof(Cases))]
    public void BinsAndEceEqualSklearnAndTheHandWrittenEce(string name)
    {
        var c = Case("calibration", name);
        int[] y = Ints(c.GetProperty("y_true"));
        double[] p = Doubles(c.GetProperty("probabilities"));
        foreach (var e in c.GetProperty("curves").EnumerateArray())
        {
            var strategy = e.GetProperty("strategy").GetString() == "uniform" ? CalibrationStrategy.Uniform : CalibrationStrategy.Quantile;
            int bins = e.GetProperty("n_bins").GetInt32();
            var curve = CalibrationCurve.Compute(y, p, bins, strategy);
            string what = $"{strategy} {bins}";
            Near(Doubles(e.GetProperty("prob_true")), curve.ProbabilityTrue, what + " prob_true");
            Near(Doubles(e.GetProperty("prob_pred")), curve.ProbabilityPredicted, what + " prob_pred");
            Assert.Equal(Longs(e.GetProperty("counts")), curve.Counts);
            Near(e.GetProperty("ece"), curve.ExpectedCalibrationError, what + " ece");
            Assert.Equal(bins + 1, curve.BinEdges.Length);
        }
    }

    [Fact]
    public void TopLabelBinsTheMaxProbabilityAgainstArgmaxCorrectness()
    {
        var c = Case("classification", "multi5_imbalanced");
        int[] y = Ints(c.GetProperty("y_true"));
        double[] proba = Doubles(c.GetProperty("probabilities"));
        int k = 5, n = y.Length;
        var correct = new int[n];
        var confidence = new double[n];
        for (int i = 0; i < n; i++)
        {
            var row = proba.AsSpan(i * k, k);
            int arg = row.IndexOf(row.ToArray().Max());
            confidence[i] = row[arg];
            correct[i] = arg == y[i] ? 1 : 0;
        }
        var expected = CalibrationCurve.Compute(correct, confidence, 10);
        var actual = CalibrationCurve.TopLabel(y, proba, k, 10);
        Assert.Equal(expected.Counts, actual.Counts);
        Assert.Equal(expected.ProbabilityTrue, actual.ProbabilityTrue);
        Assert.Equal(expected.ExpectedCalibrationError, actual.ExpectedCalibrationError);
        // ECE of a perfectly calibrated bin set is 0; of always-confident wrong answers, 1
        Assert.Equal(1.0, CalibrationCurve.Compute([0, 0], [1.0, 1.0]).ExpectedCalibrationError);
        Assert.Equal(0.0, CalibrationCurve.Compute([1, 0], [0.5, 0.5]).ExpectedCalibrationError);
    }

    [Fact]
    public void BadInputIsNamed()
    {
        Assert.Contains("[0, 1]", Assert.Throws<ArgumentException>(() => CalibrationCurve.Compute([0, 1], [0.5, 1.5])).Message);
        Assert.Contains("TopLabel", Assert.Throws<ArgumentException>(() => CalibrationCurve.Compute([0, 1, 2], [0.1, 0.2, 0.3])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CalibrationCurve.Compute([0, 1], [0.1, 0.2], binCount: 0));
        Assert.Contains("row 1", Assert.Throws<ArgumentException>(() => CalibrationCurve.TopLabel([0, 1], [0.5, 0.5, 0.9, 0.9], 2)).Message);
    }
}
