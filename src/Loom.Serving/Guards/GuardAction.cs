// What the server does with a request a guard flags (`loom serve --injection-guard flag|refuse|strip`).
namespace Loom.Serving.Guards;

/// <summary>The server's response to a flagged request.</summary>
public enum GuardAction
{
    /// <summary>No guard runs.</summary>
    Off,
    /// <summary>Answer as usual; the response carries the X-Loom-Prompt-Injection header with the score and rules.</summary>
    Flag,
    /// <summary>Answer 400 in OpenAI's error shape, code prompt_injection_detected.</summary>
    Refuse,
    /// <summary>Remove the flagged spans from the user's text, then answer (and flag).</summary>
    Strip,
}
