// jinja2's namespace(): the one object a template may change from inside a loop ("{% set ns.x = 1 %}"),
// which is how templates carry state out of a for body (jinja2 scopes plain "set" to the loop iteration).
namespace Loom.Inference.Templates;

internal sealed class JinjaNamespace
{
    public JinjaDict Values { get; } = new();
}
