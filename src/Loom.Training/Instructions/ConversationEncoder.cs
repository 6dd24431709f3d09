// Turns conversations into token sequences with an assistant mask, through the model's chat template.
// The template is rendered incrementally, as HF's assistant-mask logic needs no {% generation %} tags:
// for each assistant message i, the text from render(messages[..i], add_generation_prompt=true) to
// render(messages[..i+1]) is that turn's answer with its end-of-turn marker (e.g. "reply<|im_end|>\n"),
// so the model learns to stop; everything before it is prompt. Each segment is tokenized on its own
// (special-token text such as <|im_start|> becomes its special id when the tokenizer has it), so a
// BPE merge can never straddle the prompt/answer boundary and blur the mask.
// Truncation (max_length = most input positions, i.e. at most max_length + 1 tokens): earlier turns are
// cut from the left; the final assistant turn is never cut — a conversation whose final answer does not
// fit (with one token of context before it) is refused with its file:line, and the caller reports it.
namespace Loom.Training.Instructions;

/// <summary>Renders and tokenizes conversations for supervised fine-tuning.</summary>
public sealed class ConversationEncoder
{
    private readonly IChatRenderer _renderer;
    private readonly Func<string, int[]> _encode;

    /// <summary>Most input positions per sequence (the sequence holds at most this + 1 tokens).</summary>
    public int MaxLength { get; }

    /// <param name="renderer">The chat template.</param>
    /// <param name="encode">Text to ids (special-token text recognised).</param>
    /// <param name="maxLength">Most input positions per sequence (train.max_length).</param>
    public ConversationEncoder(IChatRenderer renderer, Func<string, int[]> encode, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentException($"train.max_length is {maxLength}; a conversation needs at least 2 positions.");
        _renderer = renderer;
        _encode = encode;
        MaxLength = maxLength;
    }

    /// <summary>
    /// The conversation's tokens and assistant mask, or null (with <paramref name="reason"/>) when its final
    /// assistant turn does not fit in max_length. Throws <see cref="InvalidDataException"/> naming the source
    /// when the conversation has no assistant turn, an empty answer, or the template does not extend prefixes.
    /// </summary>
    public SupervisedSequence? Encode(Conversation conversation, out string? reason)
    {
        reason = null;
        var messages = conversation.Messages;
        int last = conversation.LastAssistant;
        if (last < 0)
            throw new InvalidDataException($"{conversation.Source}: the conversation has no assistant turn, so there is nothing to learn; add a {{\"role\": \"assistant\", \"content\": ...}} message or remove the line.");
        var ids = new List<int>();
        var mask = new List<bool>();
        string done = "";
        int finalStart = 0;
        for (int i = 0; i <= last; i++)
        {
            if (messages[i].Role != "assistant") continue;
            if (string.IsNullOrWhiteSpace(messages[i].Content))
                throw new InvalidDataException($"{conversation.Source}: message {i + 1} (assistant) is empty; give the answer the model should learn, or remove the line.");
            string prompt = _renderer.Render(Slice(messages, i), addGenerationPrompt: true);
            string full = _renderer.Render(Slice(messages, i + 1), addGenerationPrompt: false);
            if (!prompt.StartsWith(done, StringComparison.Ordinal) || !full.StartsWith(prompt, StringComparison.Ordinal) || full.Length == prompt.Length)
                throw new InvalidDataException($"{conversation.Source}: the chat template does not render this conversation turn by turn (the text up to assistant message {i + 1} is not a prefix of the text after it), so the answer's tokens cannot be told apart; use a template that appends each message (e.g. ChatML, sft.chat_template).");
            Add(prompt[done.Length..], false);
            finalStart = ids.Count;
            Add(full[prompt.Length..], true);
            done = full;
        }
        int total = ids.Count;
        if (total < 2) throw new InvalidDataException($"{conversation.Source}: the conversation renders to {total} token(s); at least 2 are needed.");
        var idArray = ids.ToArray();
        var maskArray = mask.ToArray();
        bool truncated = false;
        if (total > MaxLength + 1)
        {
            int keepFrom = total - (MaxLength + 1);
            // The first answer token must keep one token of context before it to be a target.
            if (keepFrom >= finalStart)
            {
                reason = $"{conversation.Source}: the final assistant turn is {total - finalStart} tokens; with its context it needs more than train.max_length {MaxLength}";
                return null;
            }
            idArray = idArray[keepFrom..];
            maskArray = maskArray[keepFrom..];
            truncated = true;
        }
        return new SupervisedSequence(idArray, maskArray, conversation.Source) { Truncated = truncated };

        void Add(string text, bool assistant)
        {
            if (text.Length == 0) return;
            foreach (int id in _encode(text)) { ids.Add(id); mask.Add(assistant); }
        }
    }

    private static IReadOnlyList<ChatMessage> Slice(IReadOnlyList<ChatMessage> messages, int count) =>
        messages is List<ChatMessage> list ? list.GetRange(0, count) : messages.Take(count).ToList();
}
