// Bad instruction and preference data is an error naming file:line and the fix (issue 14 §5).
using Loom.Training.Instructions;

namespace Loom.Training.Tests.Instructions;

public class InstructionDataReaderTests
{
    private static string Write(string content)
    {
        string path = Path.Combine(Path.GetTempPath(), "loom-instr-" + Guid.NewGuid().ToString("N") + ".jsonl");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ChatAlpacaAndDollyLinesAreRead()
    {
        string path = Write("""
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
            {"instruction": "Add", "input": "1 1", "output": "2"}
            {"instruction": "Why", "context": "", "response": "So", "category": "open_qa"}
            """);
        var list = InstructionDataReader.ReadConversations(path);
        Assert.Equal(3, list.Count);
        Assert.Equal($"{path}:2", list[1].Source);
        Assert.Equal("Hello", list[0].Messages[1].Content);
    }

    [Fact]
    public void AnEmptyChosenAnswerNamesFileLineAndFix()
    {
        string path = Write("""
            {"prompt": "Say hi", "chosen": "hi", "rejected": "no"}
            {"prompt": "Say hi", "chosen": "", "rejected": "no"}
            """);
        var e = Assert.Throws<InvalidDataException>(() => InstructionDataReader.ReadPreferences(path));
        Assert.Contains($"{path}:2: \"chosen\" is empty", e.Message);
        Assert.Contains("remove the line or fill it in", e.Message);
    }

    [Fact]
    public void MissingFieldsAndBadMessagesNameTheirLine()
    {
        string path = Write("{\"prompt\": \"x\", \"chosen\": \"a\"}\n");
        Assert.Contains($"{path}:1: the field \"rejected\" is missing", Assert.Throws<InvalidDataException>(() => InstructionDataReader.ReadPreferences(path)).Message);
        path = Write("{\"messages\": [{\"role\": \"user\"}]}\n");
        Assert.Contains($"{path}:1: messages[0] (user) needs a \"content\" string", Assert.Throws<InvalidDataException>(() => InstructionDataReader.ReadConversations(path)).Message);
        path = Write("{\"text\": \"plain\"}\n");
        Assert.Contains($"{path}:1: neither \"messages\" nor \"instruction\"", Assert.Throws<InvalidDataException>(() => InstructionDataReader.ReadConversations(path)).Message);
        path = Write("{\"instruction\": \"x\", \"output\": \"  \"}\n");
        Assert.Contains($"{path}:1: \"output\" is empty", Assert.Throws<InvalidDataException>(() => InstructionDataReader.ReadConversations(path)).Message);
    }
}
