// RegressionMetrics against scikit-learn 1.2.1 (MSE, MAE, r2_score) and scipy 1.10.1 (pearsonr,
// spearmanr with ties) on the fixture vectors, including the constant-target R² rules.
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class RegressionMetricsTests
{
    public static TheoryData<string> Cases => Names("regression");

    [Theory]
    [MemberData(nameof(Cases))]
    public void RegressionMetricsEqualSklearnAndScipy(string name)
    {
        var c = Case("regression", name);
        double[] y = Doubles(c.GetProperty("y_true")), p = Doubles(c.GetProperty("y_pred"));
        Near(c.GetProperty("mse"), RegressionMetrics.MeanSquaredError(y, p), "mse");
        Near(c.GetProperty("mae"), RegressionMetrics.MeanAbsoluteError(y, p), "mae");
        Near(c.GetProperty("r2"), RegressionMetrics.R2(y, p), "r2");
        if (c.TryGetProperty("pearson", out var pearson))
        {
            Near(pearson, RegressionMetrics.Pearson(y, p), "pearson");
            Near(c.GetProperty("spearman"), RegressionMetrics.Spearman(y, p), "spearman");
        }
        else
            Assert.True(double.IsNaN(RegressionMetrics.Pearson(y, p)), "a constant input has no correlation (scipy: NaN)");
    }

    [Fact]
    public void AverageRanksShareTies()
    {
        Assert.Equal([2.5, 1, 2.5, 4], RegressionMetrics.AverageRanks([5, 1, 5, 7]));
    }

    [Fact]
    public void BadInputIsNamed()
    {
        Assert.Equal("yPred", Assert.Throws<ArgumentException>(() => RegressionMetrics.MeanSquaredError([1, 2], [1])).ParamName);
        Assert.Equal("yTrue", Assert.Throws<ArgumentException>(() => RegressionMetrics.R2([1], [1])).ParamName);
        Assert.Contains("yPred[1] is NaN", Assert.Throws<ArgumentException>(() => RegressionMetrics.MeanAbsoluteError([1, 2], [1, double.NaN])).Message);
        Assert.Equal("yTrue", Assert.Throws<ArgumentException>(() => RegressionMetrics.MeanAbsoluteError([], [])).ParamName);
    }
}
