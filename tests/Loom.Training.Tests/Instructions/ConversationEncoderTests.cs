// The conversation encoder: which tokens the SFT loss sees (exactly the assistant answers and their
// end-of-turn marker, as the ChatML text says, decoded back from the mask), left truncation that keeps
// the final answer whole, and the refusals that name file:line.
using Loom.Tokenizers;
using Loom.Training.Instructions;

namespace Loom.Training.Tests.Instructions;

public class ConversationEncoderTests
{
    private static readonly BpeTokenizer Gpt2 = TiktokenEncodings.Get("gpt2");

    internal static ConversationEncoder Encoder(int maxLength = 256) => new(new ChatMl(), t => Gpt2.Encode(t, SpecialTokenPolicy.All), maxLength);

    internal static Conversation TwoTurns => new(
    [
        new("system", "You are terse."), new("user", "Capital of France?"), new("assistant", "Paris."),
        new("user", "And of Italy?"), new("assistant", "Rome."),
    ], "chat.jsonl:3");

    // The masked tokens decode to the answers with their "<|im_end|>\n", and the rest to the prompt text.
    [Fact]
    public void OnlyTheAssistantAnswersAndTheirEndMarkersAreTrained()
    {
        var s = Encoder().Encode(TwoTurns, out var reason)!;
        Assert.Null(reason);
        var trained = s.Ids.Where((_, i) => s.Assistant[i]).ToArray();
        Assert.Equal("Paris.<|im_end|>\nRome.<|im_end|>\n", Gpt2.Decode(trained));
        Assert.Equal(new ChatMl().Render(TwoTurns.Messages, false), Gpt2.Decode(s.Ids));
        var labeled = s.ToLabeled();
        Assert.Equal(s.Ids.Length - 1, labeled.Inputs.Length);
        Assert.Equal(trained.Length, labeled.LabeledCount);
        // Position t predicts token t + 1: the first trained target is the first answer token, after "assistant\n".
        int first = Array.FindIndex(labeled.Targets, t => t != -100);
        Assert.Equal("\n", Gpt2.Decode([labeled.Inputs[first]]));
        Assert.StartsWith("Paris", Gpt2.Decode([labeled.Targets[first]]));
    }

    [Fact]
    public void AlpacaRecordsBecomeAUserAndAnAssistantTurn()
    {
        var c = InstructionDataReader.ToConversation(System.Text.Json.Nodes.JsonNode.Parse("""{"instruction": "Add.", "input": "2 and 3", "output": "5"}""")!.AsObject(), "a.jsonl:1");
        Assert.Equal([new ChatMessage("user", "Add.\n\n2 and 3"), new ChatMessage("assistant", "5")], c.Messages);
        var d = InstructionDataReader.ToConversation(System.Text.Json.Nodes.JsonNode.Parse("""{"instruction": "Why?", "context": "", "response": "Because.", "category": "open_qa"}""")!.AsObject(), "d.jsonl:1");
        Assert.Equal([new ChatMessage("user", "Why?"), new ChatMessage("assistant", "Because.")], d.Messages);
    }

    [Fact]
    public void TruncationCutsEarlierTurnsButNeverTheFinalAnswer()
    {
        var full = Encoder().Encode(TwoTurns, out _)!;
        int finalAnswer = full.Ids.Length - Array.FindLastIndex(full.Assistant, a => !a) - 1;   // tokens of "Rome.<|im_end|>\n"
        var cut = Encoder(maxLength: finalAnswer + 3).Encode(TwoTurns, out var reason)!;
        Assert.Null(reason);
        Assert.True(cut.Truncated);
        Assert.Equal(finalAnswer + 4, cut.Ids.Length);
        Assert.Equal(full.Ids[^(finalAnswer + 4)..], cut.Ids);
        Assert.EndsWith("Rome.<|im_end|>\n", Gpt2.Decode(cut.Ids.Where((_, i) => cut.Assistant[i]).ToArray()));
        // One position short of the final answer plus a token of context: left out, and said with file:line.
        Assert.Null(Encoder(maxLength: finalAnswer - 1).Encode(TwoTurns, out reason));
        Assert.Contains("chat.jsonl:3", reason);
        Assert.Contains("final assistant turn", reason);
    }

    [Fact]
    public void AConversationWithoutAnAnswerOrWithAnEmptyOneNamesItsLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => Encoder().Encode(new Conversation([new("user", "Hi")], "chat.jsonl:7"), out _));
        Assert.Contains("chat.jsonl:7", e.Message);
        Assert.Contains("no assistant turn", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Encoder().Encode(new Conversation([new("user", "Hi"), new("assistant", " ")], "chat.jsonl:8"), out _));
        Assert.Contains("chat.jsonl:8: message 2 (assistant) is empty", e.Message);
    }

    // A template that renders the last message differently from earlier ones cannot be split into turns.
    [Fact]
    public void ATemplateThatDoesNotExtendItsPrefixesIsRefused()
    {
        var encoder = new ConversationEncoder(new Reversed(), t => Gpt2.Encode(t), 64);
        var e = Assert.Throws<InvalidDataException>(() => encoder.Encode(TwoTurns, out _));
        Assert.Contains("chat.jsonl:3", e.Message);
        Assert.Contains("turn by turn", e.Message);
    }

    private sealed class Reversed : IChatRenderer
    {
        public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
            string.Concat(messages.Reverse().Select(m => m.Role + ": " + m.Content + "\n")) + (addGenerationPrompt ? "assistant: " : "");
    }
}
