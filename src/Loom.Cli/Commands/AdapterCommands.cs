// `loom adapter merge`: PEFT's merge_and_unload as a command. The output is a complete model
// directory (config.json, the tokenizer and other files of --model, model.safetensors with the base's
// tensor names and layout) whose targeted weights are W + (α/r)·B·A; generate, eval and train read it
// like any model.
using System.CommandLine;
using Loom.Models.Adapters;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class AdapterCommands
{
    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("adapter", "LoRA adapters in PEFT's format (adapter_config.json + adapter_model.safetensors).");
        group.Subcommands.Add(Merge(console));
        return group;
    }

    private static Command Merge(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Base model directory: config.json, model.safetensors and a tokenizer.", Required = true };
        var adapter = new Option<DirectoryInfo>("--adapter") { Description = "Adapter directory (PEFT's save_pretrained layout).", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "New model directory to write (must not exist or be empty).", Required = true };
        var cmd = new Command("merge", "Fold a LoRA adapter into its base model's weights and write a complete model directory.") { model, adapter, output };
        cmd.SetAction(parse =>
        {
            string m = parse.GetValue(model)!.FullName, a = parse.GetValue(adapter)!.FullName, o = parse.GetValue(output)!.FullName;
            var lora = LoraAdapterConfig.Read(a);
            LoraAdapters.Merge(m, a, o);
            console.MarkupLine($"merged {Markup.Escape(a)} (r {lora.Rank}, lora_alpha {lora.Alpha}, scaling {lora.Scaling:G4}) into {Markup.Escape(o)}");
            return 0;
        });
        return cmd;
    }
}
