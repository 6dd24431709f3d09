namespace Loom.Monitoring.Data;

/// <summary>What a column means to the model, which names the kind of drift it shows.</summary>
public enum ColumnRole
{
    /// <summary>A model input: data drift.</summary>
    Input,
    /// <summary>A model output (class, score, generated text): prediction drift.</summary>
    Prediction,
    /// <summary>Ground truth: label drift (and, with a prediction, concept drift).</summary>
    Label,
    /// <summary>Not monitored (ids, timestamps).</summary>
    Ignored,
}
