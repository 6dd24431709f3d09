using Loom.Cli;
using Spectre.Console;

return LoomCommand.Create(AnsiConsole.Console).Parse(args).Invoke();
