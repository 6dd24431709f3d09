// Every statistic against scipy 1.10.1 / numpy 1.24.2 on the committed vectors (Fixtures/drift_stats.json,
// made by Fixtures/make_drift_fixtures.py).
using System.Text.Json;
using Loom.Monitoring.Statistics;

namespace Loom.Monitoring.Tests.Statistics;

public sealed class ScipyFixtureTests
{
    private static readonly JsonElement Doc = Fixtures.Load("drift_stats.json");

    public static TheoryData<string> NumericCases() => new(Doc.GetProperty("numeric").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static (JsonElement Case, double[] Reference, double[] Current) Numeric(string name)
    {
        var c = Doc.GetProperty("numeric").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        if (c.TryGetProperty("recipe", out var recipe))
            return (c, Fixtures.Lattice(recipe.GetProperty("reference")), Fixtures.Lattice(recipe.GetProperty("current")));
        return (c, Fixtures.Doubles(c.GetProperty("reference")), Fixtures.Doubles(c.GetProperty("current")));
    }

    [Theory, MemberData(nameof(NumericCases))]
    public void Ks_auto_matches_scipy_statistic_p_value_and_mode(string name)
    {
        var (c, r, cur) = Numeric(name);
        var ks = KolmogorovSmirnov.TwoSample(r, cur);
        var e = c.GetProperty("ks");
        Fixtures.Close(e.GetProperty("statistic").GetDouble(), ks.Statistic, 1e-12, 1e-15, name + " D");
        Fixtures.Close(e.GetProperty("p_value").GetDouble(), ks.PValue!.Value, 1e-9, 1e-14, name + " p");
        Assert.Equal(e.GetProperty("mode").GetString(), ks.Method);
    }

    [Theory, MemberData(nameof(NumericCases))]
    public void Wasserstein_psi_kl_js_match_scipy_and_numpy(string name)
    {
        var (c, r, cur) = Numeric(name);
        Fixtures.Close(c.GetProperty("wasserstein").GetDouble(), Wasserstein.Distance(r, cur), 1e-10, 1e-15, name + " wasserstein");
        var h = Histogram.Deciles(r, cur);
        Fixtures.Close(c.GetProperty("psi").GetDouble(), Divergences.Psi(h.Reference, h.Current), 1e-10, 1e-15, name + " psi");
        Fixtures.Close(c.GetProperty("kl").GetDouble(), Divergences.KullbackLeibler(h.Reference, h.Current), 1e-10, 1e-15, name + " kl");
        Fixtures.Close(c.GetProperty("js").GetDouble(), Divergences.JensenShannon(h.Reference, h.Current), 1e-10, 1e-15, name + " js");
        Fixtures.Close(c.GetProperty("psi").GetDouble(), StatTests.Run(StatTest.Psi, r, cur).Statistic, 1e-10, 1e-15, name + " psi via Run");
    }

    [Fact]
    public void Chi2_and_binned_divergences_on_categories_match_scipy()
    {
        foreach (var c in Doc.GetProperty("categorical").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var r = Fixtures.Strings(c.GetProperty("reference"));
            var cur = Fixtures.Strings(c.GetProperty("current"));
            var chi = StatTests.Run(StatTest.Chi2, r, cur);
            Fixtures.Close(c.GetProperty("chi2").GetProperty("statistic").GetDouble(), chi.Statistic, 1e-11, 0, name + " chi2");
            Fixtures.Close(c.GetProperty("chi2").GetProperty("p_value").GetDouble(), chi.PValue!.Value, 1e-10, 0, name + " chi2 p");
            Fixtures.Close(c.GetProperty("psi").GetDouble(), StatTests.Run(StatTest.Psi, r, cur).Statistic, 1e-10, 1e-15, name + " psi");
            Fixtures.Close(c.GetProperty("kl").GetDouble(), StatTests.Run(StatTest.Kl, r, cur).Statistic, 1e-10, 1e-15, name + " kl");
            Fixtures.Close(c.GetProperty("js").GetDouble(), StatTests.Run(StatTest.Js, r, cur).Statistic, 1e-10, 1e-15, name + " js");
        }
    }

    [Fact]
    public void Z_test_matches_evidentlys_formula_through_scipy()
    {
        foreach (var c in Doc.GetProperty("binary").EnumerateArray())
        {
            var z = StatTests.Run(StatTest.Z, Fixtures.Strings(c.GetProperty("reference")), Fixtures.Strings(c.GetProperty("current")));
            Fixtures.Close(c.GetProperty("z").GetProperty("statistic").GetDouble(), z.Statistic, 1e-12);
            Fixtures.Close(c.GetProperty("z").GetProperty("p_value").GetDouble(), z.PValue!.Value, 1e-9);
        }
    }

    [Fact]
    public void Incomplete_gamma_matches_scipy_gammaincc()
    {
        foreach (var c in Doc.GetProperty("gammaincc").EnumerateArray())
        {
            double a = c.GetProperty("a").GetDouble(), x = c.GetProperty("x").GetDouble();
            Fixtures.Close(c.GetProperty("q").GetDouble(), SpecialFunctions.GammaQ(a, x), 1e-10, 1e-300, $"Q({a}, {x})");
        }
    }

    [Fact]
    public void Kolmogorov_survival_matches_scipy_kstwo_sf_on_every_branch()
    {
        foreach (var c in Doc.GetProperty("kstwo_sf").EnumerateArray())
        {
            int n = c.GetProperty("n").GetInt32();
            double d = c.GetProperty("d").GetDouble();
            Fixtures.Close(c.GetProperty("sf").GetDouble(), KolmogorovDistribution.Survival(n, d), 1e-9, 1e-300, $"kstwo.sf({d}, {n})");
        }
    }
}
