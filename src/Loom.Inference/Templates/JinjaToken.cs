// One token of a Jinja template: text between tags, a tag delimiter, or a piece of an expression.
namespace Loom.Inference.Templates;

/// <summary>A token: <see cref="Value"/> is the text, name, decoded string literal or operator.</summary>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line)
{
    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsOperator(string op) => Kind == JinjaTokenKind.Operator && Value == op;

    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Value == name;

    public override string ToString() => Kind switch
    {
        JinjaTokenKind.End => "end of template",
        JinjaTokenKind.VariableEnd => "'}}'",
        JinjaTokenKind.BlockEnd => "'%}'",
        JinjaTokenKind.String => $"string '{Value}'",
        _ => $"'{Value}'",
    };
}
