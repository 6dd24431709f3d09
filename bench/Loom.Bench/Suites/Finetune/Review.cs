// One IMDB review as the finetune suite reads it: id (unique within a file), text, label (1 pos, 0 neg;
// unsup reviews read as 0 and are used for their text only).
namespace Loom.Bench.Suites.Finetune;

internal sealed record Review(string Id, string Text, int Label);
