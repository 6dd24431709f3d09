namespace Loom.Evaluation.Agreement;

/// <summary>sklearn's cohen_kappa_score weights: none (nominal), linear |i−j|, quadratic (i−j)².</summary>
public enum KappaWeights { None, Linear, Quadratic }
