// A runtime error inside a value operation, before the interpreter knows the template line; the interpreter
// turns it into a TemplateException at the statement that was running.
namespace Loom.Inference.Templates;

internal sealed class JinjaError(string reason) : Exception(reason);
