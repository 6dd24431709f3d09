// The syntax tree of a parsed template, as jinja2's nodes.py names them: statements (text, output, if,
// for, set, macro, ...) and expressions (constants, names, attribute and item access, calls, filters,
// tests, operators). Every node keeps its template line for error messages. The node kinds are nested
// here because they are only data: the parser builds them, the interpreter walks them.
namespace Loom.Inference.Templates;

internal abstract record JinjaNode(int Line)
{
    // ---- statements ----
    internal sealed record Text(int Line, string Value) : JinjaNode(Line);

    internal sealed record Output(int Line, JinjaNode Expression) : JinjaNode(Line);

    internal sealed record If(int Line, List<(JinjaNode Test, List<JinjaNode> Body)> Branches, List<JinjaNode>? Else) : JinjaNode(Line);

    internal sealed record For(int Line, JinjaNode Target, JinjaNode Iterable, JinjaNode? Condition, List<JinjaNode> Body, List<JinjaNode>? Else) : JinjaNode(Line);

    internal sealed record Set(int Line, JinjaNode Target, JinjaNode Value) : JinjaNode(Line);

    internal sealed record SetBlock(int Line, JinjaNode Target, List<JinjaNode> Body, List<Filter> Filters) : JinjaNode(Line);

    internal sealed record Macro(int Line, string MacroName, List<(string Name, JinjaNode? Default)> Parameters, List<JinjaNode> Body) : JinjaNode(Line);

    internal sealed record FilterBlock(int Line, List<Filter> Filters, List<JinjaNode> Body) : JinjaNode(Line);

    /// <summary>A body rendered as is: HF's "{% generation %}" (AssistantTracker) marks assistant text, nothing more.</summary>
    internal sealed record Scope(int Line, List<JinjaNode> Body) : JinjaNode(Line);

    internal sealed record Break(int Line) : JinjaNode(Line);

    internal sealed record Continue(int Line) : JinjaNode(Line);

    // ---- expressions ----
    internal sealed record Const(int Line, object? Value) : JinjaNode(Line);

    internal sealed record Name(int Line, string Identifier) : JinjaNode(Line);

    internal sealed record ListLiteral(int Line, List<JinjaNode> Items) : JinjaNode(Line);

    internal sealed record TupleLiteral(int Line, List<JinjaNode> Items) : JinjaNode(Line);

    internal sealed record DictLiteral(int Line, List<(JinjaNode Key, JinjaNode Value)> Pairs) : JinjaNode(Line);

    /// <summary>x.name (jinja2's Getattr: attribute first, then item).</summary>
    internal sealed record GetAttr(int Line, JinjaNode Target, string Attribute) : JinjaNode(Line);

    /// <summary>x[key] (jinja2's Getitem: item first, then attribute).</summary>
    internal sealed record GetItem(int Line, JinjaNode Target, JinjaNode Key) : JinjaNode(Line);

    internal sealed record Slice(int Line, JinjaNode? Start, JinjaNode? Stop, JinjaNode? Step) : JinjaNode(Line);

    internal sealed record Call(int Line, JinjaNode Callee, List<JinjaNode> Args, List<(string Name, JinjaNode Value)> Kwargs) : JinjaNode(Line);

    internal sealed record Filter(int Line, JinjaNode? Target, string FilterName, List<JinjaNode> Args, List<(string Name, JinjaNode Value)> Kwargs) : JinjaNode(Line);

    internal sealed record Test(int Line, JinjaNode Target, string TestName, List<JinjaNode> Args, bool Negated) : JinjaNode(Line);

    internal sealed record Unary(int Line, string Operator, JinjaNode Operand) : JinjaNode(Line);

    internal sealed record Binary(int Line, string Operator, JinjaNode Left, JinjaNode Right) : JinjaNode(Line);

    internal sealed record Compare(int Line, JinjaNode First, List<(string Operator, JinjaNode Operand)> Rest) : JinjaNode(Line);

    internal sealed record Concat(int Line, List<JinjaNode> Parts) : JinjaNode(Line);

    internal sealed record Conditional(int Line, JinjaNode Condition, JinjaNode Then, JinjaNode? Else) : JinjaNode(Line);
}
