// The Drift Detection Method (Gama, Medas, Castillo & Rodrigues, "Learning with Drift Detection", SBIA 2004), as
// river.drift.binary.DDM publishes it: over a stream of 0/1 errors keep the running error rate p and
// s = √(p(1 − p)/n); after `WarmStart` observations remember the (p, s) with the smallest p + s; p + s above
// p_min + 2·s_min is a warning, above p_min + 3·s_min a drift, after which the detector starts over.
// Fixtures/make_drift_fixtures.py holds the same algorithm in Python; the tests compare detection indices.
namespace Loom.Monitoring.Concept;

/// <summary>DDM on a 0/1 error stream.</summary>
public sealed class Ddm : IDriftDetector
{
    private long _n;
    private double _p, _pMin, _sMin, _psMin;

    /// <summary>Observations before detection starts (river: 30).</summary>
    public int WarmStart { get; }
    /// <summary>The warning level in s_min units (2).</summary>
    public double WarningThreshold { get; }
    /// <summary>The drift level in s_min units (3).</summary>
    public double DriftThreshold { get; }
    /// <inheritdoc/>
    public bool InWarning { get; private set; }

    /// <summary>A detector with river's defaults.</summary>
    public Ddm(int warmStart = 30, double warningThreshold = 2, double driftThreshold = 3)
    {
        if (warmStart < 1) throw new ArgumentOutOfRangeException(nameof(warmStart), warmStart, "The warm start must be at least 1.");
        if (!(driftThreshold > warningThreshold && warningThreshold > 0))
            throw new ArgumentException($"Need 0 < warning threshold < drift threshold; got {warningThreshold} and {driftThreshold}.");
        WarmStart = warmStart;
        WarningThreshold = warningThreshold;
        DriftThreshold = driftThreshold;
        Reset();
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _n = 0;
        _p = 0;
        _pMin = _sMin = _psMin = double.PositiveInfinity;
        InWarning = false;
    }

    /// <inheritdoc/>
    public bool Update(double value)
    {
        _n++;
        _p += (value - _p) / _n;
        double s = Math.Sqrt(_p * (1 - _p) / _n);
        InWarning = false;
        if (_n <= WarmStart) return false;
        if (_p + s <= _psMin) { _pMin = _p; _sMin = s; _psMin = _p + s; }
        if (_p + s > _pMin + DriftThreshold * _sMin) { Reset(); return true; }
        InWarning = _p + s > _pMin + WarningThreshold * _sMin;
        return false;
    }
}
