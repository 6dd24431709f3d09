// loom-run's own argument reader: `loom-run <command> --name value ...` (or `--name=value`), parsed by
// hand so the NativeAOT binary carries no command-line framework (System.CommandLine's reflection-free
// mode still costs ~1 MB and a start-up). Every mistake is an ArgumentException whose message names the
// option and the value as the user typed them; Program turns it into one `error:` line and exit 1.
using System.Globalization;

namespace Loom.Run;

/// <summary>The options of one loom-run command, read from the command line.</summary>
public sealed class RunArguments
{
    private readonly Dictionary<string, string> _values;
    private readonly string _command;

    private RunArguments(string command, Dictionary<string, string> values)
    {
        _command = command;
        _values = values;
    }

    /// <summary>
    /// Reads <paramref name="args"/> (the words after the command) against <paramref name="known"/> option
    /// names (with their leading "--"). Unknown, repeated or valueless options are errors.
    /// </summary>
    public static RunArguments Parse(string command, ReadOnlySpan<string> args, IReadOnlyCollection<string> known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string word = args[i];
            if (!word.StartsWith("--", StringComparison.Ordinal) || word.Length == 2)
                throw new ArgumentException($"unexpected argument \"{word}\" for loom-run {command}; options are {string.Join(", ", known)} (see loom-run --help).");
            string name = word, value;
            int eq = word.IndexOf('=');
            if (eq > 0)
            {
                name = word[..eq];
                value = word[(eq + 1)..];
            }
            else
            {
                if (!known.Contains(name)) throw Unknown(command, name, known);
                // A value may itself start with "-" (a negative number) but not be the next option's name.
                if (i + 1 >= args.Length || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                    throw new ArgumentException($"{name} needs a value (loom-run {command} {name} VALUE).");
                value = args[++i];
            }
            if (!known.Contains(name)) throw Unknown(command, name, known);
            if (!values.TryAdd(name, value))
                throw new ArgumentException($"{name} is given twice (\"{values[name]}\" and \"{value}\"); give it once.");
        }
        return new RunArguments(command, values);
    }

    private static ArgumentException Unknown(string command, string name, IReadOnlyCollection<string> known) =>
        new($"unknown option {name} for loom-run {command}; options are {string.Join(", ", known)} (see loom-run --help).");

    /// <summary>The value of a required option.</summary>
    public string Required(string name) =>
        _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"{name} is required for loom-run {_command} (see loom-run --help).");

    /// <summary>The value of an option, or <paramref name="fallback"/> when it is absent.</summary>
    public string Text(string name, string fallback) => _values.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>True when the option was given.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>A whole-number option (invariant culture), or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback)
    {
        if (!_values.TryGetValue(name, out var v)) return fallback;
        return int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n
            : throw new ArgumentException($"{name} is \"{v}\"; it must be a whole number.");
    }

    /// <summary>A number option (invariant culture: "0.7", not "0,7"), or <paramref name="fallback"/>.</summary>
    public float Float(string name, float fallback)
    {
        if (!_values.TryGetValue(name, out var v)) return fallback;
        return float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f
            : throw new ArgumentException($"{name} is \"{v}\"; it must be a number such as 0.7.");
    }
}
