// jinja2's default Undefined: what a missing variable, attribute or item evaluates to. It prints as nothing,
// is falsy, iterates as empty and has length 0; using it as an object (an attribute, an item, a call,
// arithmetic) raises UndefinedError, which here is a TemplateException naming what was undefined.
namespace Loom.Inference.Templates;

internal sealed class JinjaUndefined
{
    public JinjaUndefined(string hint) => Hint = hint;

    /// <summary>jinja2's message for it, e.g. "'foo' is undefined" or "'dict object' has no attribute 'x'".</summary>
    public string Hint { get; }

    public override string ToString() => "";
}
