// Cached decoding against Loom's own full teacher-forced forward (itself matched to PyTorch in
// T5ReferenceTests): at every position, the logits of DecodeNext over the encoder run once and the
// self/cross-attention caches equal those of the full decoder forward within 1e-5 of the scale;
// and a beam reorder moves each row's cache with it.
using Loom.Models.T5;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.T5;

public class T5DecodingTests
{
    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void CachedDecodingEqualsTheFullForwardAtEveryPosition(string variant)
    {
        using var f = T5ReferenceTests.Load(variant, ModelOptions.Inference);
        int[] source = f.InputIds[..f.S];
        int[] decoderIds = f.File.ReadInt32("decoder_input_ids")[..f.T];
        int V = f.Model.VocabularySize;
        f.Model.Forward(source, [], decoderIds, [], 1, f.S, f.T);
        float[] full = f.Model.Logits.ToArray();
        using var cache = f.Model.Encode(source, rows: 2, capacity: f.T);
        for (int t = 0; t < f.T; t++)
        {
            var step = f.Model.DecodeNext(cache, [decoderIds[t], decoderIds[t]]);
            Gpt2ReferenceTests.AssertClose(full.AsSpan(t * V, V), step[..V], $"{variant} row 0 at position {t}", 1e-5);
            Gpt2ReferenceTests.AssertClose(full.AsSpan(t * V, V), step[V..], $"{variant} row 1 at position {t}", 1e-5);
        }
        Assert.Equal(f.T, cache.Length);
        Assert.Throws<InvalidOperationException>(() => f.Model.DecodeNext(cache, [0, 0]));
    }

    [Fact]
    public void ReorderMovesEachRowsCache()
    {
        using var f = T5ReferenceTests.Load("v10", ModelOptions.Inference);
        int[] source = f.InputIds[..f.S];
        int V = f.Model.VocabularySize;
        int[] a = [0, 7, 9], b = [0, 12, 3];
        float[] Full(int[] ids)
        {
            f.Model.Forward(source, [], ids, [], 1, f.S, ids.Length);
            return f.Model.Logits.ToArray()[((ids.Length - 1) * V)..];
        }
        using var cache = f.Model.Encode(source, rows: 2, capacity: 4);
        f.Model.DecodeNext(cache, [a[0], b[0]]);
        f.Model.DecodeNext(cache, [a[1], b[1]]);
        cache.Reorder([1, 0]);                                   // rows swap: row 0 now holds b's prefix
        var step = f.Model.DecodeNext(cache, [b[2], a[2]]).ToArray();
        Gpt2ReferenceTests.AssertClose(Full(b), step.AsSpan(0, V), "row 0 after the swap", 1e-5);
        Gpt2ReferenceTests.AssertClose(Full(a), step.AsSpan(V, V), "row 1 after the swap", 1e-5);
    }
}
