// One of the three PyTorch fixture models (GPT-2, Llama, BERT) built with chosen ModelOptions, behind
// one small surface, so a test can run the same check on every family.
using Loom.Models.Bert;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.Parameters;

namespace Loom.Models.Tests;

internal sealed class FixtureModel : IDisposable
{
    public static readonly string[] Families = ["gpt2", "llama", "bert"];

    private readonly SafetensorsFile _file;
    private readonly Func<float> _forward;
    private readonly Action<float> _backward;
    private readonly Func<float[]> _logits;
    public IHiddenStateModel Model { get; }
    public ParameterSet Parameters => Model.Parameters;
    public int B { get; }
    public int T { get; }
    public int[] Ids { get; }
    public int[] TokenTypes { get; } = [];
    public int[] AttentionMask { get; } = [];

    /// <summary>The fixture's own tensor names (PyTorch's state dict), without the "w." prefix.</summary>
    public IReadOnlyList<string> TorchNames { get; }

    public FixtureModel(string family, ModelOptions? options = null)
    {
        options ??= ModelOptions.Default;
        _file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", family + "_tiny.safetensors"));
        B = int.Parse(_file.Metadata["batch"]);
        T = int.Parse(_file.Metadata["time"]);
        Ids = _file.ReadInt32("ids");
        int[] targets = _file.ReadInt32("targets");
        TorchNames = _file.Tensors.Keys.Where(k => k.StartsWith("w.", StringComparison.Ordinal)).Select(k => k[2..]).ToList();
        switch (family)
        {
            case "gpt2":
            {
                var m = new Gpt2Model(Gpt2Config.Parse(_file.Metadata["config"]), options);
                LoadBase(m.Parameters);
                Model = m;
                Configuration = m.Config;
                _forward = () => m.Forward(Ids, targets, B, T);
                _backward = s => m.Backward(s);
                _logits = () => m.Logits.ToArray();
                break;
            }
            case "llama":
            {
                var m = new LlamaModel(LlamaConfig.Parse(_file.Metadata["config"]), options);
                LoadBase(m.Parameters);
                Model = m;
                Configuration = m.Config;
                _forward = () => m.Forward(Ids, targets, B, T);
                _backward = s => m.Backward(s);
                _logits = () => m.Logits.ToArray();
                break;
            }
            default:
            {
                var m = new BertModel(BertConfig.Parse(_file.Metadata["config"]), options);
                LoadBase(m.Parameters);
                Model = m;
                Configuration = m.Config;
                TokenTypes = _file.ReadInt32("token_types");
                AttentionMask = _file.ReadInt32("attention_mask");
                _forward = () => m.Forward(Ids, TokenTypes, AttentionMask, targets, B, T);
                _backward = s => m.Backward(s);
                _logits = () => m.Logits.ToArray();
                break;
            }
        }
    }

    // The fixture's weights into every tensor but a LoRA adapter's (those stay as the test sets them);
    // BERT's pooler may be absent, as BertModel.LoadWeights allows.
    private void LoadBase(ParameterSet parameters)
    {
        foreach (var (spec, i) in parameters.Specs.Select((s, i) => (s, i)))
        {
            if (spec.Name.Contains(".lora_", StringComparison.Ordinal)) continue;
            if (spec.Name.StartsWith("bert.pooler.", StringComparison.Ordinal) && !_file.Tensors.ContainsKey("w." + spec.Name)) continue;
            _file.ReadSingle("w." + spec.Name, parameters.Value(i), spec.Shape);
        }
    }

    /// <summary>The fixture's config record.</summary>
    public object Configuration { get; }

    /// <summary>Forward with the fixture's targets; returns the loss.</summary>
    public float Forward() => _forward();

    public void Backward(float scale = 1f) => _backward(scale);

    public float[] Logits() => _logits();

    /// <summary>Zeroes gradients, runs forward and backward; returns the loss.</summary>
    public float ForwardBackward()
    {
        Parameters.ZeroGradients();
        float loss = Forward();
        Backward();
        return loss;
    }

    /// <summary>Gradients of the trainable tensors by name.</summary>
    public Dictionary<string, float[]> Gradients() =>
        Parameters.Specs.Select((s, i) => (s, i)).Where(x => x.s.IsTrainable).ToDictionary(x => x.s.Name, x => Parameters.Gradient(x.i).ToArray());

    public void Dispose()
    {
        Model.Dispose();
        _file.Dispose();
    }
}
