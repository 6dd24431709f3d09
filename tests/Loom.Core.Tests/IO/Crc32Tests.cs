using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Loom.Core.IO;

namespace Loom.Core.Tests.IO;

public class Crc32Tests
{
    [Fact]
    public void MatchesTheStandardCheckValueAndZlibsGzipTrailers()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));     // the CRC-32/ISO-HDLC check value
        Assert.Equal(0u, Crc32.Compute([]));
        var rng = new Random(3);
        foreach (int n in new[] { 1, 7, 8, 9, 63, 64, 65, 1000, 100_003 })
        {
            var data = new byte[n];
            rng.NextBytes(data);
            // Reference: the CRC-32 zlib writes into a gzip trailer (RFC 1952: CRC32, then ISIZE).
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
            uint zlib = BinaryPrimitives.ReadUInt32LittleEndian(ms.ToArray().AsSpan(^8));
            Assert.Equal(zlib, Crc32.Compute(data));
            // Appending in pieces gives the CRC of the whole.
            int cut = n / 3;
            Assert.Equal(zlib, Crc32.Append(Crc32.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
        }
    }
}
