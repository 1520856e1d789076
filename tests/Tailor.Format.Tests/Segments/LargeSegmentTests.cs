using Tailor.Format.IO;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;

namespace Tailor.Format.Tests.Segments;

/// <summary>A real segment over 3 GiB: written to disk, read through memory-mapped windows, splits past 2 GiB (mapped and with the compaction's positioned reads) and a stream.</summary>
public sealed class LargeSegmentTests
{
    [Fact]
    public async Task A_segment_over_3_GiB_is_written_and_read_back_whole_and_by_splits()
    {
        const long target = (3L << 30) + (64L << 20);
        var rng = new Random(77);
        // Incompressible payloads (random values) so the file grows fast; four distinct frames repeated.
        var frames = new byte[4][];
        var summaries = new PayloadSummary[4];
        using (var writer = new PayloadWriter(new PayloadWriterOptions { CompressionLevel = 1 }))
        using (var decoder = new PayloadDecoder())
        {
            for (var f = 0; f < frames.Length; f++)
            {
                var n = 900_000 + f;
                var ts = new long[n];
                var values = new double[n];
                for (var i = 0; i < n; i++)
                {
                    ts[i] = 1_790_000_000 + i;
                    values[i] = BitConverter.Int64BitsToDouble(rng.NextInt64());
                }

                writer.Begin((uint)f, f);
                writer.AddSeries(1, (ulong)f, [], ts, values);
                var output = new System.Buffers.ArrayBufferWriter<byte>();
                writer.Complete(output);
                frames[f] = output.WrittenSpan.ToArray();
                Assert.Equal(PayloadStatus.Ok, decoder.TryValidate(frames[f], out summaries[f]));
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"tailor-large-{Guid.NewGuid():N}.tseg");
        try
        {
            long records = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.SequentialScan))
            using (var buffer = new StreamBufferWriter(file, 16 << 20))
            {
                var segment = new SegmentWriter(buffer, new SegmentWriterOptions { BlockTargetBytes = 64 << 20 });
                while (segment.Length < target)
                {
                    segment.Append(frames[records % 4], summaries[records % 4]);
                    records++;
                }

                segment.Complete();
            }

            var length = new FileInfo(path).Length;
            Assert.True(length > 3L << 30);

            using var mapped = new MappedSegmentFile(path);
            Assert.NotNull(mapped.Layout.Footer);
            Assert.Equal(records, mapped.Layout.Footer!.Stats.RecordCount);
            Assert.Equal(records / 4 * 4 * 900_000 + Enumerable.Range(0, (int)(records % 4)).Sum(i => 900_000L + i) + (records / 4 * 6),
                mapped.Layout.Footer.Stats.PointCount);

            // The whole file through 1 GiB windows: every record, each the frame written.
            var cursor = mapped.CreateCursor();
            long read = 0;
            long lastOffset = -1;
            while (cursor.TryReadRecord(out var record))
            {
                Assert.Equal((uint)read, record.Ordinal);
                Assert.True(record.Frame.SequenceEqual(frames[read % 4]));
                lastOffset = record.Offset;
                read++;
            }

            Assert.Equal(records, read);
            Assert.True(lastOffset > int.MaxValue, "records past 2 GiB were read");
            Assert.Equal(0, cursor.State.Stats.DamagedRegions);

            // Splits over the whole file, some starting past 2 GiB and past 3 GiB: every record once.
            var cuts = new long[] { 0, 700L << 20, 2L << 30, (2L << 30) + 12345, 3L << 30, length };
            long splitRecords = 0;
            for (var i = 0; i + 1 < cuts.Length; i++)
            {
                var split = mapped.CreateCursor(cuts[i], cuts[i + 1], windowBytes: 256 << 20);
                while (split.TryReadRecord(out var record))
                {
                    Assert.InRange(record.Offset, cuts[i], cuts[i + 1] - 1);
                    splitRecords++;
                }
            }

            Assert.Equal(records, splitRecords);

            // The reader compaction uses (positioned reads into a buffer, no mapping) over the same splits.
            var layout = FileSegmentCursor.ReadLayout(path);
            Assert.Equal(records, layout.Footer!.Stats.RecordCount);
            long fileRecords = 0;
            for (var i = 0; i + 1 < cuts.Length; i++)
            {
                using var split = FileSegmentCursor.Open(path, layout, cuts[i], cuts[i + 1]);
                while (split.TryReadRecord(out var record))
                {
                    Assert.InRange(record.Offset, cuts[i], cuts[i + 1] - 1);
                    Assert.True(record.Frame.SequenceEqual(frames[record.Ordinal % 4]));
                    fileRecords++;
                }

                Assert.Equal(0, split.State.Stats.DamagedRegions);
            }

            Assert.Equal(records, fileRecords);

            // A seekable stream reads the tail of the file past 2 GiB with the footer known.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var state = mapped.Layout.CreateSplitState(3L << 30, length);
            stream.Position = state.Position;
            await using var streamReader = new SegmentStreamReader(stream, state.Position, state, leaveOpen: true);
            long tail = 0;
            while (await streamReader.ReadNextAsync())
            {
                Assert.True(streamReader.CurrentFrame.Span.SequenceEqual(frames[streamReader.CurrentOrdinal % 4]));
                tail++;
            }

            Assert.True(tail > 0);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
