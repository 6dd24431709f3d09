// The `sft` suite (issue 14 §2, sft.packing): one epoch of SFT training steps (forward, backward, AdamW)
// over the shipped Dolly sample (data/samples/instructions/dolly_open_qa_sample.jsonl, 300 conversations,
// GPT-2 tokenizer, ChatML) on a small GPT-2, unpacked (train.batch_size conversations per batch, each
// right-padded to the batch's longest: SequenceBatches) against packed (rows of train.max_length holding
// several conversations with position ids and a block-diagonal causal mask: PackedSequenceBatches).
// Rows per case: padding_fraction (padded positions ÷ all positions computed), tokens_per_s (real tokens
// per second of training), s_per_epoch, batches. The loss trained is the same in both (PackedDocumentsTests).
using Loom.Inference.Templates;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Tokenizers;
using Loom.Training.Instructions;
using Loom.Training.Loop;
using Loom.Training.Optimizers;

namespace Loom.Bench.Suites;

internal static class SftPackingSuite
{
    private sealed class ChatMlRenderer : IChatRenderer
    {
        public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
        {
            var array = new System.Text.Json.Nodes.JsonArray();
            foreach (var m in messages) array.Add(new System.Text.Json.Nodes.JsonObject { ["role"] = m.Role, ["content"] = m.Content });
            return ChatTemplate.ChatML.Render(array, new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt });
        }
    }

    public static void Run(BenchContext ctx)
    {
        const int maxLength = 256, conversationsPerBatch = 8;
        string path = Path.Combine(BenchPaths.RepoRoot, "data", "samples", "instructions", "dolly_open_qa_sample.jsonl");
        var tokenizer = TiktokenEncodings.Get("gpt2");
        var encoder = new ConversationEncoder(new ChatMlRenderer(), t => tokenizer.Encode(t, SpecialTokenPolicy.All), maxLength);
        var rows = InstructionDataReader.ReadConversations(path).Select(c => encoder.Encode(c, out _)).Where(s => s != null).Select(s => s!.ToLabeled()).ToList();
        long realPerEpoch = rows.Sum(r => (long)r.Inputs.Length);
        int pad = tokenizer.SpecialTokens["<|endoftext|>"];
        // Packed rows per batch chosen so a packed batch holds about as many real tokens as an unpacked one.
        int packedRows = Math.Max(1, (int)Math.Round(conversationsPerBatch * (double)realPerEpoch / rows.Count / maxLength));
        Console.WriteLine($"{rows.Count} Dolly conversations ≤ {maxLength} tokens, {realPerEpoch:N0} tokens; packed batches of {packedRows} rows");
        var config = new Gpt2Config { VocabSize = 50257, MaxPositions = maxLength, Embedding = 128, Layers = 4, Heads = 4 };
        foreach (bool packing in new[] { false, true })
            foreach (int threads in ctx.Threads)
            {
                string name = $"sft dolly gpt2 4x128 T≤{maxLength} threads={threads} {(packing ? $"packed {packedRows} rows" : $"unpacked {conversationsPerBatch} conversations")}";
                if (!ctx.Selected(name)) continue;
                var pool = ctx.Pool(threads);
                using var model = new Gpt2Model(config, ModelOptions.Default, pool);
                model.InitializeWeights(1);
                using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions(), pool);
                IBatchSource source = packing ? new PackedSequenceBatches(rows, packedRows, maxLength, pad, seed: 1)
                                              : new SequenceBatches(rows.Select(r => new[] { r }).ToList(), conversationsPerBatch, pad, seed: 1);
                int batches = packing ? ((PackedSequenceBatches)source).BatchesPerEpoch : ((SequenceBatches)source).BatchesPerEpoch;
                void Step(PaddedBatch b)
                {
                    model.Parameters.ZeroGradients();
                    if (b.PositionIds is null) model.Forward(b.Inputs, b.Targets, b.Batch, b.Time);
                    else model.Forward(b.Tokens, b.Targets);
                    model.Backward();
                    GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
                    opt.Update(1e-4f);
                }
                // Padding over the whole first epoch (no steps), then --steps batches (default: the epoch) timed.
                long epochPositions = 0, epochReal = 0;
                for (int i = 0; i < batches; i++) { var b = source.Next(); epochPositions += (long)b.Batch * b.Time; epochReal += b.RealTokens; }
                double padding = 1 - (double)epochReal / epochPositions;
                source.State = new BatchSourceState(1, -1);
                Step(source.Next());   // warm-up (JIT, first plans); the timed batches below start from a fresh source
                source.State = new BatchSourceState(1, -1);
                long real = 0;
                int limit = ctx.Steps is int s ? Math.Min(s, batches) : batches;
                double start = ctx.Now(threads);
                for (int i = 0; i < limit; i++)
                {
                    var b = source.Next();
                    real += b.RealTokens;
                    Step(b);
                }
                double sec = ctx.Now(threads) - start;
                ctx.Rows.Add(new BenchRow(name, "padding_fraction", Math.Round(padding, 4), "fraction"));
                ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(real / sec, 1), "tokens/s"));
                ctx.Rows.Add(new BenchRow(name, "s_per_epoch", Math.Round(sec * batches / limit, 2), "s"));
                ctx.Rows.Add(new BenchRow(name, "batches", batches, "batches"));
                Console.WriteLine($"{name,-70} padding {padding:P1}  {real / sec,8:F1} tokens/s  {batches} batches, {sec * batches / limit:F1} s/epoch");
            }
    }
}
