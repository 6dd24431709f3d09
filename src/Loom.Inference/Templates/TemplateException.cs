// The one error a chat template raises: a syntax error found while parsing, a runtime error (an undefined
// value used as an object, a type error, a sandbox refusal), or the template's own raise_exception(msg).
// It derives from InvalidOperationException so the CLI's CommandGuard reports it as an expected error
// (one line, exit 1), and its message names the template's source and line as jinja2's do.
namespace Loom.Inference.Templates;

/// <summary>A chat template failed to parse or to render; <see cref="Line"/> is the 1-based template line.</summary>
public sealed class TemplateException : InvalidOperationException
{
    /// <summary>Creates the error for <paramref name="reason"/> at <paramref name="line"/> of <paramref name="source"/>.</summary>
    public TemplateException(string source, int line, string reason, bool raisedByTemplate = false)
        : base(raisedByTemplate
            ? $"{source} line {line}: the template raised: {reason}"
            : $"{source} line {line}: {reason}")
    {
        Source = source;
        Line = line;
        Reason = reason;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>Where the template came from (a file path, "tokenizer_config.json chat_template", ...).</summary>
    public new string Source { get; }

    /// <summary>The 1-based line of the template the error belongs to.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the source and line; for raise_exception, the template's own message.</summary>
    public string Reason { get; }

    /// <summary>True when the template called raise_exception (jinja2's TemplateError from HF's global).</summary>
    public bool RaisedByTemplate { get; }
}
