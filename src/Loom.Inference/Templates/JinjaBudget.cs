// The resource limits of one render (ChatTemplateOptions.MaxOutputLength, MaxValueLength, MaxSteps) and
// the steps spent so far. The interpreter asks before it builds a value whose size it can compute
// (count × length for repetition, the sum for + and ~), so a hostile template fails before allocating,
// and it counts loop iterations, macro calls and range() items so that fan-out (nested loops, a macro
// calling itself twice per level) is bounded, which the 200-level depth cap alone does not do.
// Exceeding a limit is a JinjaError; the interpreter turns it into a TemplateException naming the line.
namespace Loom.Inference.Templates;

internal sealed class JinjaBudget
{
    private readonly long _maxSteps;
    private long _steps;

    public JinjaBudget(ChatTemplateOptions options)
    {
        if (options.MaxOutputLength < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxOutputLength, $"ChatTemplateOptions.MaxOutputLength is {options.MaxOutputLength}; it must be at least 1.");
        if (options.MaxValueLength < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxValueLength, $"ChatTemplateOptions.MaxValueLength is {options.MaxValueLength}; it must be at least 1.");
        if (options.MaxSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxSteps, $"ChatTemplateOptions.MaxSteps is {options.MaxSteps}; it must be at least 1.");
        MaxOutputLength = options.MaxOutputLength;
        MaxValueLength = options.MaxValueLength;
        _maxSteps = options.MaxSteps;
    }

    public int MaxOutputLength { get; }

    public int MaxValueLength { get; }

    /// <summary>Spends <paramref name="count"/> steps (a loop iteration, a macro call, a range() item).</summary>
    public void Step(long count = 1)
    {
        _steps += count;
        if (_steps > _maxSteps)
            throw new JinjaError($"the template ran more than {_maxSteps:N0} steps (loop iterations, macro calls, range() items); "
                + "this limit (ChatTemplateOptions.MaxSteps) guards against templates that never finish — raise it only for a template you trust");
    }

    /// <summary>Refuses a value of <paramref name="length"/> characters or items before it is built, and charges the work of building it.</summary>
    public void Value(long length, string what)
    {
        if (length > MaxValueLength)
            throw new JinjaError($"{what} would make {length:N0} {(what.Contains("list") ? "items" : "characters")}, above the limit of {MaxValueLength:N0} "
                + "(ChatTemplateOptions.MaxValueLength); raise it only for a template you trust");
        if (length >= 1024) Step(length >> 10);
    }

    /// <summary>Refuses rendered text longer than MaxOutputLength.</summary>
    public void Output(int length)
    {
        if (length > MaxOutputLength)
            throw new JinjaError($"the rendered text passed {MaxOutputLength:N0} characters (ChatTemplateOptions.MaxOutputLength); "
                + "raise it only for a template you trust");
    }
}
