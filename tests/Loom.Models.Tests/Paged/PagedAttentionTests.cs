// PagedAttention against naive attention in double precision, at head_dim 64 (the AVX-512 register
// kernel's case) and 8 (the general loop), with grouped-query heads, several sequences of different
// lengths spread over blocks of 5 positions, and rows at different positions in one call.
using Loom.Models.Paged;

namespace Loom.Models.Tests.Paged;

public class PagedAttentionTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(8)]
    public void AttendEqualsNaiveSoftmaxAttention(int hd)
    {
        const int heads = 4, kvHeads = 2, layers = 2, layer = 1;
        int[] lengths = [1, 7, 23];                      // positions each sequence has (its last row attends over all)
        var shape = new KvCacheShape(layers, kvHeads, hd);
        using var pool = new KvBlockPool(shape, 5, 64L * 5 * shape.FloatsPerPosition * sizeof(float));
        var rng = new Random(2);
        float R() => (float)(rng.NextDouble() * 2 - 1);
        var seqs = lengths.Select(n => { var s = new KvSequence(pool); Assert.True(s.TryReserve(n)); return s; }).ToList();
        // Every position's K and V (written through WriteKv, one call with all rows), then q for each sequence's last position.
        int total = lengths.Sum(), kvw = kvHeads * hd, qw = heads * hd;
        var k = Enumerable.Range(0, total * kvw).Select(_ => R()).ToArray();
        var v = Enumerable.Range(0, total * kvw).Select(_ => R()).ToArray();
        var rows = new PagedRows();
        rows.Build(seqs, new int[total], lengths, 1024, 10, pool);
        PagedAttention.WriteKv(pool, rows, layer, k, kvw, v, kvw);
        // Attend with one row per sequence, at its last position (the full rows table, but only last rows are compared).
        var q = Enumerable.Range(0, total * qw).Select(_ => R()).ToArray();
        var y = new float[total * qw];
        float scale = 1f / MathF.Sqrt(hd);
        PagedAttention.Attend(pool, rows, layer, q, qw, heads, y, scale);
        int offset = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            for (int t = 0; t < lengths[i]; t++)   // row of position t attends over positions 0..t of its sequence
            {
                int row = offset + t;
                for (int h = 0; h < heads; h++)
                {
                    int g = h / (heads / kvHeads);
                    var score = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double d = 0;
                        for (int c = 0; c < hd; c++) d += (double)q[row * qw + h * hd + c] * k[(offset + j) * kvw + g * hd + c];
                        score[j] = d * scale;
                    }
                    double max = score.Max(), z = score.Sum(sc => Math.Exp(sc - max));
                    for (int c = 0; c < hd; c++)
                    {
                        double want = 0;
                        for (int j = 0; j <= t; j++) want += Math.Exp(score[j] - max) / z * v[(offset + j) * kvw + g * hd + c];
                        Assert.True(Math.Abs(want - y[row * qw + h * hd + c]) <= 1e-5 + 1e-5 * Math.Abs(want),
                            $"hd {hd} sequence {i} position {t} head {h} dim {c}: {y[row * qw + h * hd + c]} vs {want}");
                    }
                }
            }
            offset += lengths[i];
        }
        foreach (var s in seqs) s.Release();
        Assert.Equal(0, pool.UsedBlocks);
    }
}
