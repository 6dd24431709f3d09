// Which vector of a sequence Hugging Face's *ForSequenceClassification heads classify.
namespace Loom.Models.Classification;

/// <summary>How a sequence classifier picks one vector per sequence from the body's hidden states.</summary>
public enum SequencePooling
{
    /// <summary>
    /// GPT2/LlamaForSequenceClassification: the rightmost token whose id is not pad_token_id (position 0
    /// when every token is padding); the last position when the config has no pad_token_id, which
    /// then allows only batches of one sequence.
    /// </summary>
    LastNonPadToken,

    /// <summary>BertForSequenceClassification: BertPooler, tanh(dense(hidden[:, 0])) on [CLS], then dropout.</summary>
    FirstTokenPooler,
}
