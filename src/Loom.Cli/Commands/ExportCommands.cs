// `loom export gguf`: a Hugging Face model directory (GPT-2 or Llama) written as one GGUF v3 file with
// llama.cpp's converter conventions, so llama.cpp, Ollama and LLamaSharp run it. A thin shell over
// Loom.Inference's GgufModelFiles.Export; the file is written atomically (temporary file, then rename).
using System.CommandLine;
using Loom.Inference.Gguf;
using Loom.Models.Formats.Gguf;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class ExportCommands
{
    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("export", "Write a model in another tool's format.");
        group.Subcommands.Add(Gguf(console));
        return group;
    }

    private static Command Gguf(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory: config.json, model.safetensors and a tokenizer (GPT-2 or Llama).", Required = true };
        var type = new Option<string>("--type") { Description = "Tensor type of the block matrices: f32, f16, q8_0, q4_0, q4_k or q6_k (norms and biases stay f32, as llama.cpp keeps them).", DefaultValueFactory = _ => "f16" };
        var output = new Option<FileInfo>("--output") { Description = "The .gguf file to write.", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace --output when it exists." };
        var cmd = new Command("gguf", "Export a model directory as GGUF v3 (llama.cpp, Ollama, LLamaSharp).") { model, type, output, overwrite };
        cmd.SetAction(parse =>
        {
            string t = parse.GetValue(type)!;
            var fileType = GgufFileTypes.Parse(t)
                ?? throw new ArgumentException($"--type must be one of f32, f16, q8_0, q4_0, q4_k, q6_k; got \"{t}\".");
            string dir = parse.GetValue(model)!.FullName, o = parse.GetValue(output)!.FullName;
            if (Directory.Exists(o)) throw new ArgumentException($"--output {o} is a directory; give the path of the .gguf file to write.");
            if (File.Exists(o) && !parse.GetValue(overwrite)) throw new ArgumentException($"--output {o} exists; pass --overwrite to replace it.");
            if (Path.GetDirectoryName(o) is { } parent && !Directory.Exists(parent)) throw new ArgumentException($"--output {o}: the folder {parent} does not exist.");
            var types = GgufModelFiles.Export(dir, fileType, o);
            string counts = string.Join(", ", types.Values.GroupBy(v => v).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
            console.MarkupLine($"wrote {Markup.Escape(o)}: {types.Count} tensors ({counts}), {new FileInfo(o).Length / 1048576.0:F1} MiB");
            return 0;
        });
        return cmd;
    }
}
