// Anything a template may call: a global (range, namespace, raise_exception, strftime_now), a bound
// method of a string, list or dict ("x.strip()"), or a macro. Arguments arrive as Python's would:
// positional, then keyword.
namespace Loom.Inference.Templates;

internal sealed class JinjaCallable(string name, JinjaFunction function)
{
    public string Name { get; } = name;

    public JinjaFunction Function { get; } = function;

    public override string ToString() => $"<function {Name}>";
}
