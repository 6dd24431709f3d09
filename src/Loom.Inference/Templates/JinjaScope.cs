// Variables visible to a part of a template. jinja2's rule, which real templates depend on: a for body
// gets a fresh scope on every iteration (a plain "set" inside the loop is gone after the iteration and
// never reaches the outside; that is why templates carry state in namespace()), "if" opens no scope, and a
// macro body has its own. Lookups walk outwards to the render variables and then the globals.
namespace Loom.Inference.Templates;

internal sealed class JinjaScope(JinjaScope? parent)
{
    private Dictionary<string, object?>? _variables;

    public JinjaScope? Parent { get; } = parent;

    public void Set(string name, object? value) => (_variables ??= new Dictionary<string, object?>(StringComparer.Ordinal))[name] = value;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._variables is not null && s._variables.TryGetValue(name, out value)) return true;
        }
        value = null;
        return false;
    }
}
