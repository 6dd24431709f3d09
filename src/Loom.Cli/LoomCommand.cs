// The `loom` command tree. Each group lives in Commands/; this file only assembles them, so
// tests can build the same tree against a recording console.
using System.CommandLine;
using Loom.Cli.Commands;
using Spectre.Console;

namespace Loom.Cli;

/// <summary>Builds the root command.</summary>
public static class LoomCommand
{
    /// <summary>The root `loom` command writing to <paramref name="console"/>.</summary>
    public static RootCommand Create(IAnsiConsole console)
    {
        // Model-path formats owned outside Loom.Models join the registry before any command can load a model.
        Loom.Compression.LowRank.LowRankModels.Register();
        var root = new RootCommand("Loom: curate data, train tokenizers, train, evaluate, compress, serve, explain and monitor language models — in .NET.");
        root.Subcommands.Add(QuickstartCommand.Create(console));
        root.Subcommands.Add(TrainCommand.Create(console));
        root.Subcommands.Add(FinetuneCommand.Create(console));
        root.Subcommands.Add(ClassifyCommand.Create(console));
        root.Subcommands.Add(ExplainCommand.Create(console));
        root.Subcommands.Add(AugmentCommand.Create(console));
        root.Subcommands.Add(ModelCommands.Generate(console));
        root.Subcommands.Add(Commands.Eval.EvalCommands.CreateGroup(console));
        root.Subcommands.Add(AdapterCommands.CreateGroup(console));
        root.Subcommands.Add(ExportCommands.CreateGroup(console));
        root.Subcommands.Add(QuantizeCommand.Create(console));
        root.Subcommands.Add(CompressionCommands.Prune(console));
        root.Subcommands.Add(CompressionCommands.CreateCompressGroup(console));
        root.Subcommands.Add(ServeCommand.Create(console));
        root.Subcommands.Add(BatchCommand.Create(console));
        root.Subcommands.Add(DoctorCommand.Create(console));
        root.Subcommands.Add(TokenizerCommands.CreateGroup(console));
        root.Subcommands.Add(TokenizerCommands.CreateTokenize(console));
        root.Subcommands.Add(DataCommands.CreateGroup(console));
        root.Subcommands.Add(MonitorCommands.CreateGroup(console));
        CommandGuard.Install(root, console);
        return root;
    }
}
