namespace Loom.Monitoring.Reports;

/// <summary>Concept drift: the error stream (prediction ≠ label) of the current rows, in time order, run through DDM
/// after the reference's errors set its baseline, and ADWIN on the same stream.</summary>
/// <param name="PredictionColumn">The prediction column.</param>
/// <param name="LabelColumn">The label column.</param>
/// <param name="ReferenceAccuracy">Accuracy on the reference.</param>
/// <param name="CurrentAccuracy">Accuracy on the current rows.</param>
/// <param name="DdmDetections">Current-row indices where DDM signalled drift.</param>
/// <param name="AdwinDetections">Current-row indices where ADWIN shrank its window.</param>
/// <param name="Drifted">True when DDM signalled within the current rows.</param>
public sealed record ConceptDriftResult(string PredictionColumn, string LabelColumn, double ReferenceAccuracy, double CurrentAccuracy,
    IReadOnlyList<int> DdmDetections, IReadOnlyList<int> AdwinDetections, bool Drifted);
