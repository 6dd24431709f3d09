// ADWIN0, the exact adaptive window of Bifet & Gavaldà ("Learning from Time-Changing Data with Adaptive
// Windowing", SDM 2007, §3): keep every observation of the current window; every `Clock` observations, while some
// split W = W0·W1 (each part at least `MinWindow` long) has |μ̂0 − μ̂1| ≥ ε_cut, with
// ε_cut = √(1/(2m)·ln(4n/δ)), m = 1/(1/n0 + 1/n1), n = |W|, drop the oldest observation; a check that dropped
// anything reports a change. Exact rather than river's exponential-histogram buckets (which approximate this):
// O(|W|) per check with running sums, fine for monitoring windows; Fixtures/make_drift_fixtures.py holds the same
// algorithm in Python and the tests compare detection indices.
namespace Loom.Monitoring.Concept;

/// <summary>ADWIN0 over a stream of values in [0, 1].</summary>
public sealed class Adwin : IDriftDetector
{
    private readonly List<double> _window = [];
    private int _start;        // the window is _window[_start..]; compacted now and then
    private long _seen;

    /// <summary>The confidence δ (0.002, as river).</summary>
    public double Delta { get; }
    /// <summary>Observations between checks (32, as river's clock).</summary>
    public int Clock { get; }
    /// <summary>The least length of each side of a split (5).</summary>
    public int MinWindow { get; }
    /// <summary>The current window length.</summary>
    public int Width => _window.Count - _start;
    /// <summary>The current window's mean.</summary>
    public double Mean { get { double s = 0; for (int i = _start; i < _window.Count; i++) s += _window[i]; return Width == 0 ? 0 : s / Width; } }
    /// <inheritdoc/>
    public bool InWarning => false;

    /// <summary>A detector with river's defaults.</summary>
    public Adwin(double delta = 0.002, int clock = 32, int minWindow = 5)
    {
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must lie in (0, 1).");
        if (clock < 1 || minWindow < 1) throw new ArgumentException($"clock and minWindow must be at least 1; got {clock} and {minWindow}.");
        Delta = delta;
        Clock = clock;
        MinWindow = minWindow;
    }

    /// <inheritdoc/>
    public void Reset() { _window.Clear(); _start = 0; _seen = 0; }

    /// <inheritdoc/>
    public bool Update(double value)
    {
        _window.Add(value);
        _seen++;
        if (_seen % Clock != 0) return false;
        bool changed = false;
        while (Width >= 2 * MinWindow && HasCut()) { _start++; changed = true; }
        if (_start > 4096 && _start > _window.Count / 2) { _window.RemoveRange(0, _start); _start = 0; }
        return changed;
    }

    private bool HasCut()
    {
        int n = Width;
        double total = 0;
        for (int i = _start; i < _window.Count; i++) total += _window[i];
        double s0 = 0, logTerm = Math.Log(4.0 * n / Delta);
        for (int n0 = 1; n0 < n; n0++)
        {
            s0 += _window[_start + n0 - 1];
            int n1 = n - n0;
            if (n0 < MinWindow || n1 < MinWindow) continue;
            double m = 1.0 / (1.0 / n0 + 1.0 / n1);
            double eps = Math.Sqrt(1.0 / (2 * m) * logTerm);
            if (Math.Abs(s0 / n0 - (total - s0) / n1) >= eps) return true;
        }
        return false;
    }
}
