using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tailor.Format.Codecs;
using Tailor.Format.IO;
using Tailor.Format.Series;

namespace Tailor.Format.Tests.Series;

/// <summary>A real S-file over 2 GiB: written to disk, scanned through a memory map, and looked up past 2 GiB.</summary>
[Collection(SFileTestCollection.Name)]
public sealed class LargeSFileTests
{
    private const int PointsPerSeries = 1 << 22; // 64 MiB blocks with the raw codec

    [Fact]
    public async Task An_s_file_over_2_GiB_is_scanned_through_a_map_and_looked_up_past_2_GiB()
    {
        const int SeriesCount = 36; // 36 × 64 MiB ≈ 2.25 GiB
        var registry = new SeriesCodecRegistry();
        registry.Register(new RawCodec());
        var options = new SFileReaderOptions { Codecs = registry };
        var ts = new long[PointsPerSeries];
        var vs = new double[PointsPerSeries];
        new Random(8).NextBytes(MemoryMarshal.AsBytes(vs.AsSpan()));
        var path = Path.Combine(Path.GetTempPath(), $"tailor-large-{Guid.NewGuid():N}.tsf");
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.SequentialScan))
            using (var buffer = new StreamBufferWriter(file, 16 << 20))
            using (var writer = new SFileWriter(buffer, new SFileWriterOptions { Codec = registry.Get("raw") }))
            {
                for (var s = 0; s < SeriesCount; s++)
                {
                    Fill(ts, s);
                    writer.AddSeries(new SeriesKey(1, 2, (ulong)s), BitConverter.GetBytes(s), ts, vs);
                }

                writer.Complete();
                buffer.Flush();
            }

            Assert.True(new FileInfo(path).Length > (2L << 30) + (200L << 20));

            using (var mapped = new MappedSFile(path))
            {
                var scanner = new SFileScanner(mapped, options);
                try
                {
                    var n = 0;
                    while (scanner.MoveNext())
                    {
                        Assert.Equal(new SeriesKey(1, 2, (ulong)n), scanner.Current.Key);
                        Assert.Equal(n, BitConverter.ToInt32(scanner.Metadata));
                        var count = scanner.ReadPoints(ts, vs);
                        Assert.Equal(PointsPerSeries, count);
                        Assert.Equal(Start(n), ts[0]);
                        Assert.Equal(Start(n) + PointsPerSeries - 1, ts[^1]);
                        n++;
                    }

                    Assert.Equal(SeriesCount, n);
                    Assert.True(scanner.Current.BlockOffset > int.MaxValue, "blocks past 2 GiB were read");
                }
                finally
                {
                    scanner.Dispose();
                }
            }

            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            var source = new CountingRangeSource(RangeSource.FromStream(stream));
            using var reader = await SFileReader.OpenAsync(source, options);
            var last = await reader.FindAsync(new SeriesKey(1, 2, SeriesCount - 1));
            Assert.True(last!.Value.Entry.BlockOffset > int.MaxValue);
            var read = await reader.ReadPointsAsync(last.Value.Entry, ts, vs, Start(SeriesCount - 1) + 10, Start(SeriesCount - 1) + 20);
            Assert.Equal(10, read);
            Assert.Equal(Start(SeriesCount - 1) + 10, ts[0]);
            Assert.True(source.Reads.Count <= 3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static long Start(int series) => 1_700_000_000L + (series * 1_000_000_000L);

    private static void Fill(long[] ts, int series)
    {
        var start = Start(series);
        for (var i = 0; i < ts.Length; i++)
        {
            ts[i] = start + i;
        }
    }

    /// <summary>A user codec that stores points as they are (4-byte count, then 8 bytes per timestamp and per value), so large files are cheap to make.</summary>
    private sealed class RawCodec : ISeriesCodec
    {
        public byte Id => 201;

        public string Name => "raw";

        public int GetMaxEncodedLength(int pointCount) => 4 + (16 * pointCount);

        public int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination, timestamps.Length);
            MemoryMarshal.AsBytes(timestamps).CopyTo(destination[4..]);
            MemoryMarshal.AsBytes(values).CopyTo(destination[(4 + (8 * timestamps.Length))..]);
            return GetMaxEncodedLength(timestamps.Length);
        }

        public OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed)
        {
            pointsDecoded = bytesConsumed = 0;
            if (ReadPointCount(source, out var n) != OperationStatus.Done || source.Length < GetMaxEncodedLength(n))
            {
                return OperationStatus.InvalidData;
            }

            if (timestamps.Length < n || values.Length < n)
            {
                return OperationStatus.DestinationTooSmall;
            }

            source.Slice(4, 8 * n).CopyTo(MemoryMarshal.AsBytes(timestamps));
            source.Slice(4 + (8 * n), 8 * n).CopyTo(MemoryMarshal.AsBytes(values));
            pointsDecoded = n;
            bytesConsumed = GetMaxEncodedLength(n);
            return OperationStatus.Done;
        }

        public OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount)
        {
            pointCount = source.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(source) : -1;
            if (pointCount is < 0 or > SeriesCodecs.MaxPointCount)
            {
                pointCount = 0;
                return OperationStatus.InvalidData;
            }

            return OperationStatus.Done;
        }
    }
}
