// Hugging Face's config.problem_type for *ForSequenceClassification: it picks the loss
// (cross-entropy, MSE for num_labels = 1, BCE-with-logits for multi-label).
namespace Loom.Models.Classification;

/// <summary>What a sequence classifier's scores mean, and so which loss trains it.</summary>
public enum ProblemType
{
    /// <summary>"single_label_classification": one class per sequence, softmax cross-entropy.</summary>
    SingleLabel,
    /// <summary>"multi_label_classification": any subset of labels, sigmoid + binary cross-entropy per label.</summary>
    MultiLabel,
    /// <summary>"regression": num_labels real targets, mean squared error.</summary>
    Regression,
}
