// The generative fine-tuning tasks of `loom finetune` (issue 14) built as the CLI builds them, on tiny
// GPT-2 models and synthetic data, for the task × feature tests (§5): SFT (the model's own cross-entropy on
// padded conversations whose prompts are masked with −100, a different number of answer tokens in each),
// DPO (a frozen reference, chosen rows then rejected rows), on-the-fly distillation (a frozen 3-layer
// teacher, random windows) and cached distillation (a top-8 teacher cache, its shuffled chunks).
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Distillation;
using Loom.Training.Loop;
using Loom.Training.Preferences;

namespace Loom.Training.Tests.Tasks;

/// <summary>One task's trained model, the objective the loop sees, and its training batches.</summary>
public sealed class FinetuneTask : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>The model whose parameters train.</summary>
    public Gpt2Model Model { get; }

    /// <summary>What the training loop runs (the objective, or the model itself for SFT).</summary>
    public ILanguageModel Trained { get; private set; }

    /// <summary>The training batches.</summary>
    public IBatchSource Batches { get; private set; } = null!;

    public const int Vocab = 64, Time = 12;
    public static readonly Gpt2Config Student = new() { VocabSize = Vocab, MaxPositions = 32, Embedding = 32, Layers = 2, Heads = 4 };
    public static readonly Gpt2Config Teacher = Student with { Layers = 3 };
    public static readonly string[] Names = ["sft", "dpo", "distill", "distill-cached"];

    private FinetuneTask(Gpt2Model model)
    {
        Model = model;
        Trained = model;
        _owned.Add(model);
    }

    /// <summary>The task <paramref name="name"/> with <paramref name="batch"/> items (conversations, pairs, windows, chunks) per batch.</summary>
    public static FinetuneTask Create(string name, int batch)
    {
        var model = new Gpt2Model(Student);
        model.InitializeWeights(11);
        var task = new FinetuneTask(model);
        switch (name)
        {
            case "sft":
                task.Batches = new SequenceBatches(Conversations(12, seed: 1), batch, padId: 0, seed: 5);
                break;
            case "dpo":
                var reference = new Gpt2Model(Student, ModelOptions.Inference);
                reference.InitializeWeights(11);
                task._owned.Add(reference);
                var pairs = Conversations(24, seed: 2);
                task.Batches = new SequenceBatches(Enumerable.Range(0, 12).Select(i => new[] { pairs[2 * i][0], pairs[2 * i + 1][0] }).ToList(), batch, padId: 0, seed: 5);
                task.Trained = task.Own(new DpoObjective(model, reference, beta: 0.1f));
                break;
            case "distill":
                task.Batches = new WindowBatches(Stream(), batch, Time, seed: 3);
                task.Trained = task.Own(new DistillationObjective(model, task.TeacherModel(), alpha: 0.5f, temperature: 2f));
                break;
            case "distill-cached":
                // 49 chunks: the last batch of every epoch is a partial one.
                var cache = TeacherCache.Build(task.TeacherModel(), Stream()[..(49 * Time + 1)], Time, k: 8, temperature: 2f, batch: 8);
                var source = new TeacherCacheBatches(cache, batch, seed: 3);
                task.Batches = source;
                task.Trained = task.Own(new CachedDistillationObjective(model, source, alpha: 0.5f));
                break;
            default: throw new ArgumentException(name);
        }
        return task;
    }

    private T Own<T>(T d) where T : IDisposable
    {
        _owned.Add(d);
        return d;
    }

    private Gpt2Model TeacherModel()
    {
        var teacher = Own(new Gpt2Model(Teacher, ModelOptions.Inference));
        teacher.InitializeWeights(23);
        return teacher;
    }

    // A token stream with structure a model can learn (a noisy repeating pattern).
    private static int[] Stream()
    {
        var rng = new Random(9);
        return Enumerable.Range(0, 1200).Select(i => rng.Next(10) == 0 ? rng.Next(Vocab) : (i * 7 + i / 5) % Vocab).ToArray();
    }

    // Conversations of 5..12 tokens whose first 1..4 positions are the prompt (target −100): each has its own
    // number of answer tokens, so micro-batches differ in how many targets their mean is over.
    private static List<LabeledSequence[]> Conversations(int count, int seed)
    {
        var rng = new Random(seed);
        var items = new List<LabeledSequence[]>();
        for (int i = 0; i < count; i++)
        {
            int length = rng.Next(5, Time + 1), prompt = rng.Next(1, 5);
            var ids = Enumerable.Range(0, length + 1).Select(_ => rng.Next(Vocab)).ToArray();
            var targets = ids[1..].Select((t, p) => p < prompt ? -100 : t).ToArray();
            items.Add([new LabeledSequence(ids[..length], targets)]);
        }
        return items;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
