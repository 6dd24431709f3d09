using Loom.Cli;
using Spectre.Console;

// ICU is loaded for Unicode normalisation, not for locale formatting: numbers print the same everywhere.
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
// Messages, warnings and progress go to stderr; stdout carries only a command's data (encoded ids,
// decoded text, generated text), so `loom tokenizer encode ... > ids.jsonl` never holds a warning.
var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
return LoomCommand.Create(console).Parse(args).Invoke();
