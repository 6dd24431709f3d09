// The `loom eval` group. `loom eval --model DIR --data SHARDS` (loss and perplexity on non-overlapping
// windows of token shards, ModelCommands.Eval) keeps working as the group's own action; the
// subcommands are listed in Subcommands below, one line each, so a new evaluation is one entry there
// and one file in this folder.
using System.CommandLine;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalCommands
{
    // One line per subcommand of `loom eval`.
    private static readonly Func<IAnsiConsole, Command>[] Subcommands =
    [
        EvalPerplexityCommand.Create,
        EvalMetricsCommand.Create,
        EvalHarnessCommand.Create,
        EvalCompareCommand.Create,
        EvalJudgeCommand.Create,
        EvalReviewCommand.Create,
    ];

    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = ModelCommands.Eval(console);
        group.Description = "Evaluate models. Without a subcommand (--model DIR --data SHARDS): loss and perplexity on non-overlapping windows of token shards.";
        foreach (var create in Subcommands) group.Subcommands.Add(create(console));
        return group;
    }
}
