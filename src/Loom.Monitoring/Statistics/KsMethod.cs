namespace Loom.Monitoring.Statistics;

/// <summary>How <see cref="KolmogorovSmirnov.TwoSample"/> computes its p-value (scipy's ks_2samp `method`).</summary>
public enum KsMethod
{
    /// <summary>Exact when both samples hold at most 10,000 values, else asymptotic (scipy 1.10's rule).</summary>
    Auto,
    /// <summary>The exact distribution of the two-sample statistic (Hodges 1958; Viehmann 2021).</summary>
    Exact,
    /// <summary>The one-sample Kolmogorov distribution at n = round(n1·n2/(n1 + n2)).</summary>
    Asymptotic,
}
