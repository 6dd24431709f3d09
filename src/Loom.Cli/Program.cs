using Loom.Cli;
using Spectre.Console;

// ICU is loaded for Unicode normalisation, not for locale formatting: numbers print the same everywhere.
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
return LoomCommand.Create(AnsiConsole.Console).Parse(args).Invoke();
