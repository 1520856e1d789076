using System.Buffers;
using FsCheck.Xunit;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Segments;

public sealed class SegmentRoundTripTests
{
    public static TheoryData<ReaderKind> Kinds => [.. Enum.GetValues<ReaderKind>()];

    [Property(MaxTest = 300)]
    public bool Any_payloads_written_are_read_back_equal_through_every_reader(int seed)
    {
        var rng = new Random(seed);
        var segment = TestSegments.BuildRandom(rng, rng.Next(0, 30));
        using var decoder = new PayloadDecoder();
        foreach (var kind in Enum.GetValues<ReaderKind>())
        {
            var (records, stats) = TestSegments.ReadAll(segment.File, kind, new Random(seed ^ (int)kind));
            if (records.Count != segment.Frames.Length || stats.DamagedRegions != 0 || stats.RecordsRead != records.Count)
            {
                return false;
            }

            for (var i = 0; i < records.Count; i++)
            {
                if (records[i].Ordinal != i || records[i].Offset != segment.Offsets[i] || !records[i].Frame.AsSpan().SequenceEqual(segment.Frames[i]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Property(MaxTest = 300)]
    public bool Span_and_sequence_readers_agree_on_any_chopping(int seed)
    {
        var rng = new Random(seed);
        var segment = TestSegments.BuildRandom(rng, rng.Next(0, 20));
        var file = segment.File;
        if (rng.Next(3) == 0)
        {
            // Also on damaged files: both readers must report the same records and damage.
            file = (byte[])file.Clone();
            for (var i = 0; i < rng.Next(1, 5); i++)
            {
                file[rng.Next(SegmentFormat.HeaderLength, file.Length)] ^= (byte)rng.Next(1, 256);
            }
        }

        var (spanRecords, spanStats) = TestSegments.ReadAll(file, ReaderKind.Span);
        var (seqRecords, seqStats) = TestSegments.ReadAll(file, ReaderKind.Sequence, rng);
        return spanRecords.Count == seqRecords.Count
            && spanRecords.Zip(seqRecords).All(p => p.First.Offset == p.Second.Offset && p.First.Frame.AsSpan().SequenceEqual(p.Second.Frame))
            && spanStats.Equals(seqStats);
    }

    [Fact]
    public void Footer_holds_counts_time_range_org_ids_and_a_block_index()
    {
        var rng = new Random(21);
        using var writer = new PayloadWriter();
        var payloads = Enumerable.Range(0, 40).Select(_ => TestPayloads.Random(rng, 4, 30)).ToArray();
        var segment = TestSegments.Build(payloads.Select(p => TestPayloads.Encode(writer, p)).ToArray(), blockTargetBytes: 2048);
        var layout = SegmentLayout.Read(segment.File);
        Assert.NotNull(layout.Footer);
        var footer = layout.Footer!;
        Assert.Equal(40, footer.Stats.RecordCount);
        Assert.Equal(payloads.Sum(p => p.PointCount), footer.Stats.PointCount);
        var all = payloads.SelectMany(p => p.Series.SelectMany(s => s.Timestamps)).ToArray();
        Assert.Equal(all.Min(), footer.Stats.MinTimestamp);
        Assert.Equal(all.Max(), footer.Stats.MaxTimestamp);
        Assert.Equal(payloads.Select(p => p.Org).Distinct().Order(), footer.OrgIds);
        Assert.Equal(payloads.Min(p => p.Intake), footer.Stats.MinIntakeTime);
        Assert.Equal(segment.Frames.Sum(f => (long)f.Length), footer.Stats.FrameBytes);
        Assert.True(footer.Blocks.Count > 1);
        Assert.Equal(40, footer.Blocks.Sum(b => b.RecordCount));
        Assert.Equal(segment.Offsets[0], footer.Blocks[0].Offset);
        var ordinal = 0u;
        foreach (var block in footer.Blocks)
        {
            Assert.Equal(ordinal, block.FirstOrdinal);
            Assert.Equal(segment.Offsets[ordinal], block.Offset);
            ordinal += (uint)block.RecordCount;
        }

        Assert.Equal(TestSegments.FixedMarker, footer.SyncMarker);
        Assert.Equal(0xABCDEFUL, footer.WriterId);
        Assert.Equal(7UL, footer.Sequence);
        Assert.Equal(segment.File.Length - footer.EncodedLength - SegmentFormat.TrailerLength, layout.DataEnd);
    }

    [Fact]
    public void An_empty_segment_has_a_header_footer_and_no_records()
    {
        var segment = TestSegments.Build([]);
        Assert.Equal(SegmentFormat.HeaderLength + SegmentFormat.FooterFixedLength + SegmentFormat.TrailerLength, segment.File.Length);
        foreach (var kind in Enum.GetValues<ReaderKind>())
        {
            var (records, stats) = TestSegments.ReadAll(segment.File, kind);
            Assert.Empty(records);
            Assert.Equal(0, stats.DamagedRegions);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_segment_gives_a_clear_error()
    {
        var error = Assert.Throws<SegmentFormatException>(() =>
        {
            var reader = new SegmentReader("this is a text file, not a segment at all, certainly"u8.ToArray().Concat(new byte[20]).ToArray(), true, SegmentReaderState.ForFile());
            reader.TryReadRecord(out _);
        });
        Assert.Contains("TSEG", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, error.Offset);
    }

    [Fact]
    public void Reading_records_allocates_nothing()
    {
        var segment = TestSegments.BuildRandom(new Random(2), 200);
        var layout = SegmentLayout.Read(segment.File);
        long Read()
        {
            long sum = 0;
            var reader = SegmentReader.OverFile(segment.File, layout.CreateFileState());
            while (reader.TryReadRecord(out var r))
            {
                sum += r.Frame.Length;
            }

            var sequence = new SegmentSequenceReader(new ReadOnlySequence<byte>(segment.File), 0, layout.CreateFileState());
            while (sequence.TryReadRecord(out var r))
            {
                sum += r.Frame.Length;
            }

            sequence.Dispose();
            return sum;
        }

        Read();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Read();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
