// The tests of "x is name" with jinja2 3.1's semantics (jinja2/tests.py): defined/undefined, none,
// boolean/true/false, integer/float/number (a bool is a number but not an integer), string, mapping,
// iterable, sequence, callable, sameas, odd/even, divisibleby, the comparison aliases and "in".
namespace Loom.Inference.Templates;

internal sealed partial class JinjaInterpreter
{
    /// <summary>The tests <see cref="ApplyTest"/> knows; the parser refuses others, as jinja2 does at compile time.</summary>
    public static readonly HashSet<string> TestNames =
    [
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "sameas", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=",
        "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "lower", "upper", "escaped",
    ];

    private bool ApplyTest(string name, object? value, List<object?> args)
    {
        object? Arg0() => args.Count > 0 ? args[0] : throw new JinjaError($"the test '{name}' needs an argument");
        switch (name)
        {
            case "defined": return value is not JinjaUndefined;
            case "undefined": return value is JinjaUndefined;
            case "none": return value is null;
            case "boolean": return value is bool;
            case "true": return value is true;
            case "false": return value is false;
            case "integer": return value is long;
            case "float": return value is double;
            case "number": return value is long or double or bool;
            case "string": return value is string;
            case "mapping": return value is JinjaDict;
            case "iterable": return value is string or List<object?> or object?[] or JinjaDict or JinjaUndefined;
            case "sequence": return value is string or List<object?> or object?[] or JinjaDict or JinjaUndefined;
            case "callable": return value is JinjaCallable;
            case "sameas":
            {
                var other = Arg0();
                if (value is null || other is null) return value is null && other is null;
                if (value is bool || other is bool) return Equals(value, other);
                return ReferenceEquals(value, other) || (value is long l1 && other is long l2 && l1 == l2 && l1 is >= -5 and <= 256);
            }
            case "odd": return JinjaValues.AsInt(value, "odd's value") % 2 != 0;
            case "even": return JinjaValues.AsInt(value, "even's value") % 2 == 0;
            case "divisibleby": return JinjaValues.AsInt(value, "divisibleby's value") % JinjaValues.AsInt(Arg0(), "divisibleby's argument") == 0;
            case "eq" or "equalto" or "==": return JinjaValues.PyEquals(value, Arg0());
            case "ne" or "!=": return !JinjaValues.PyEquals(value, Arg0());
            case "lt" or "lessthan" or "<": return JinjaValues.Compare(value, Arg0(), "<") < 0;
            case "le" or "<=": return JinjaValues.Compare(value, Arg0(), "<=") <= 0;
            case "gt" or "greaterthan" or ">": return JinjaValues.Compare(value, Arg0(), ">") > 0;
            case "ge" or ">=": return JinjaValues.Compare(value, Arg0(), ">=") >= 0;
            case "in": return JinjaValues.Contains(Arg0(), value);
            case "lower": return PythonText.Str(value) == PythonText.Str(value).ToLowerInvariant();
            case "upper": return PythonText.Str(value) == PythonText.Str(value).ToUpperInvariant();
            case "escaped": return false;
            default: throw new JinjaError($"No test named '{name}'.");
        }
    }
}
