// DDM and ADWIN0 against the Python reference in Fixtures/make_drift_fixtures.py on seeded Bernoulli streams with
// known change points: the same detection indices, and detections after the planted changes.
using Loom.Monitoring.Concept;

namespace Loom.Monitoring.Tests.Concept;

public sealed class DetectorTests
{
    private static readonly System.Text.Json.JsonElement Doc = Fixtures.Load("detectors.json");

    private static List<int> Run(IDriftDetector detector, int[] stream, List<int>? warnings = null)
    {
        var hits = new List<int>();
        for (int t = 0; t < stream.Length; t++)
        {
            if (detector.Update(stream[t])) hits.Add(t);
            else if (detector.InWarning) warnings?.Add(t);
        }
        return hits;
    }

    [Fact]
    public void Ddm_detects_where_the_reference_implementation_does()
    {
        foreach (var s in Doc.GetProperty("streams").EnumerateArray())
        {
            var stream = s.GetProperty("stream").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var warnings = new List<int>();
            var drifts = Run(new Ddm(), stream, warnings);
            Assert.Equal(s.GetProperty("ddm_drifts").EnumerateArray().Select(x => x.GetInt32()), drifts);
            Assert.Equal(s.GetProperty("ddm_warnings").EnumerateArray().Select(x => x.GetInt32()), warnings);
        }
    }

    [Fact]
    public void Adwin_detects_where_the_reference_implementation_does()
    {
        foreach (var s in Doc.GetProperty("streams").EnumerateArray())
        {
            var stream = s.GetProperty("stream").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(s.GetProperty("adwin_drifts").EnumerateArray().Select(x => x.GetInt32()), Run(new Adwin(clock: 32), stream));
        }
    }

    [Fact]
    public void Both_find_the_planted_change_soon_after_it_and_adwin_stays_quiet_on_a_stationary_stream()
    {
        foreach (var s in Doc.GetProperty("streams").EnumerateArray())
        {
            var stream = s.GetProperty("stream").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var segments = s.GetProperty("segments").EnumerateArray().Select(x => x[0].GetInt32()).ToArray();
            var adwin = Run(new Adwin(), stream);
            int change = 0;
            for (int i = 0; i + 1 < segments.Length; i++)
            {
                change += segments[i];
                Assert.Contains(adwin, t => t >= change && t < change + 800);
                Assert.Contains(Run(new Ddm(), stream), t => t >= change && t < change + 800);
            }
            if (segments.Length == 1) Assert.Empty(adwin);
        }
    }
}
