namespace Loom.Monitoring.Data;

/// <summary>What a column holds, which decides its features and its default test.</summary>
public enum ColumnKind
{
    /// <summary>Numbers.</summary>
    Numerical,
    /// <summary>A few distinct strings (labels, finish reasons, languages).</summary>
    Categorical,
    /// <summary>Free text: described by derived features (length, OOV rate, language, …) and embeddings.</summary>
    Text,
}
