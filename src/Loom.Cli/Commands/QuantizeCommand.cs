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
        var doubleQuant = new Option<bool>("--double-quant") { Description = "nf4 only: quantize the fp32 block absmaxes to 8 bits in groups of 256 (QLoRA's double quantization): 4.13 instead of 4.5 bits/weight." };
        var outliers = new Option<double>("--outliers") { Description = "Fraction of each projection's weights kept in fp16 beside the blocks (SpQR outliers), e.g. 0.01; default 0 (none).", DefaultValueFactory = _ => 0 };
        var calibration = new Option<FileInfo?>("--calibration") { Description = "Text whose activations weigh the outlier choice ((w − q(w))²·‖X_j‖²); without it the plain weight error is used." };
        var samples = new Option<int>("--samples") { Description = "Calibration windows (of the model's context length) spread over --calibration.", DefaultValueFactory = _ => 64 };
        var cmd = new Command("quantize", "Quantize a model's projection weights to a block format and write a quantized model directory.") { model, type, output, head, doubleQuant, outliers, calibration, samples };
        cmd.SetAction(parse =>
        {
            var format = QuantFormatInfo.Parse(parse.GetValue(type), "--type");
            string m = parse.GetValue(model)!.FullName, o = parse.GetValue(output)!.FullName;
            var cal = parse.GetValue(calibration);
            if (cal is not null && !cal.Exists) throw new FileNotFoundException($"--calibration {cal.FullName} does not exist; give a text file (e.g. the training text).");
            var options = new QuantizeOptions
            {
                Format = format, QuantizeHead = parse.GetValue(head), DoubleQuant = parse.GetValue(doubleQuant),
                OutlierFraction = parse.GetValue(outliers), CalibrationFile = cal?.FullName, Samples = parse.GetValue(samples),
            };
            options.Validate();
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
            if (report.Outliers > 0)
                console.MarkupLine($"  {report.Outliers:N0} fp16 outliers ({100.0 * report.Outliers / report.QuantizedWeights:F2}% of the weights), " +
                    (report.CalibrationWindows > 0 ? $"weighed by {report.CalibrationWindows} calibration windows" : "chosen by weight error alone (no --calibration)"));
            foreach (var k in report.KeptFloat) console.MarkupLine($"  kept f32: {Markup.Escape(k)}");
            return 0;
        });
        return cmd;
    }
}
