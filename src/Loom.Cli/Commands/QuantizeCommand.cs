// `loom quantize --model DIR --type q8_0|q4_0|q4_k|q6_k|nf4 --output DIR`: a thin wrapper over
// Loom.Compression's ModelQuantizer (docs/COMPRESSION.md). The output directory opens in loom
// generate, serve, batch and eval like any model directory.
using System.CommandLine;
using Loom.Compression.Quantization;
using Loom.Core.Kernels.Quantized;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class QuantizeCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "f32 model directory: config.json, model.safetensors and a tokenizer.", Required = true };
        var type = new Option<string>("--type") { Description = "Block format: q8_0, q4_0, q4_k, q6_k or nf4.", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "New model directory to write (must not exist or be empty).", Required = true };
        var head = new Option<bool>("--quantize-head") { Description = "Also quantize an untied output head (lm_head); embeddings and norms always stay f32." };
        var cmd = new Command("quantize", "Quantize a model's projection weights to a block format and write a quantized model directory.") { model, type, output, head };
        cmd.SetAction(parse =>
        {
            var format = QuantFormatInfo.Parse(parse.GetValue(type), "--type");
            string m = parse.GetValue(model)!.FullName, o = parse.GetValue(output)!.FullName;
            var options = new QuantizeOptions { Format = format, QuantizeHead = parse.GetValue(head) };
            QuantizeReport report = null!;
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn()).Start(ctx =>
            {
                var task = ctx.AddTask($"quantizing to {QuantFormatInfo.Name(format)}");
                report = ModelQuantizer.Quantize(m, o, options, new Progress<(int Done, int Total)>(p =>
                {
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                }));
                task.Value = task.MaxValue;
            });
            console.MarkupLine($"wrote {Markup.Escape(o)}: {report.QuantizedTensors} tensors ({report.QuantizedWeights:N0} weights) in {QuantFormatInfo.Name(format)} " +
                $"at {report.BitsPerWeight:F2} bits/weight ({report.QuantizedBytes / 1e6:F1} MB), {report.FloatBytes / 1e6:F1} MB kept f32; model.safetensors {report.FileBytes / 1e6:F1} MB");
            foreach (var k in report.KeptFloat) console.MarkupLine($"  kept f32: {Markup.Escape(k)}");
            return 0;
        });
        return cmd;
    }
}
