// What a token is: text between tags, a tag delimiter, a piece of an expression, or the end.
namespace Loom.Inference.Templates;

internal enum JinjaTokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}
