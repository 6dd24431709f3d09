namespace Loom.Monitoring.Concept;

/// <summary>A streaming change detector fed one observation at a time (an error indicator or a metric).</summary>
public interface IDriftDetector
{
    /// <summary>Adds <paramref name="value"/>; true when a change is detected at it.</summary>
    bool Update(double value);
    /// <summary>True while the detector is in its warning zone (DDM); always false for detectors without one.</summary>
    bool InWarning { get; }
    /// <summary>Forgets everything seen.</summary>
    void Reset();
}
