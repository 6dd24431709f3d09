// The signature of everything a template calls: positional arguments, keyword arguments, and the template
// line of the call (for raise_exception's error).
namespace Loom.Inference.Templates;

internal delegate object? JinjaFunction(List<object?> args, Dictionary<string, object?> kwargs, int line);
