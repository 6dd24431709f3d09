// The "loop" variable inside a for body (jinja2's LoopContext): index (1-based), index0, revindex,
// revindex0, first, last, length, previtem, nextitem, depth, depth0 and cycle(...). The items are
// materialised first (jinja2 does too when length or last is used), so every field is exact.
namespace Loom.Inference.Templates;

internal sealed class JinjaLoop(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new JinjaUndefined("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new JinjaUndefined("there is no next item"),
        "cycle" => new JinjaCallable("loop.cycle", (args, _, _) => args.Count == 0 ? new JinjaUndefined("no items for cycling given") : args[Index0 % args.Count]),
        _ => new JinjaUndefined($"'LoopContext object' has no attribute '{name}'"),
    };

    public override string ToString() => $"<LoopContext {Index0 + 1}/{items.Count}>";
}
