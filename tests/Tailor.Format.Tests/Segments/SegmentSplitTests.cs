using FsCheck.Xunit;
using Tailor.Format.Segments;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Segments;

public sealed class SegmentSplitTests
{
    [Property(MaxTest = 300)]
    public bool Any_contiguous_splits_read_every_record_exactly_once_in_order(int seed)
    {
        var rng = new Random(seed);
        var segment = TestSegments.BuildRandom(rng, rng.Next(0, 40));
        var file = segment.File;
        var layout = SegmentLayout.Read(file);
        var cuts = Enumerable.Range(0, rng.Next(0, 12)).Select(_ => (long)rng.Next(0, file.Length)).Append(0).Append(file.Length).Distinct().Order().ToArray();
        var seen = new List<(long Offset, byte[] Frame)>();
        for (var i = 0; i + 1 < cuts.Length; i++)
        {
            var cursor = new MemorySegmentCursor(file, layout.CreateSplitState(cuts[i], cuts[i + 1]), rng.Next(64, 2048));
            while (cursor.TryReadRecord(out var r))
            {
                if (r.Offset < cuts[i] || r.Offset >= cuts[i + 1])
                {
                    return false; // a record that does not begin in the split
                }

                seen.Add((r.Offset, r.Frame.ToArray()));
            }
        }

        return seen.Count == segment.Frames.Length
            && seen.Select((r, i) => r.Offset == segment.Offsets[i] && r.Frame.AsSpan().SequenceEqual(segment.Frames[i])).All(x => x);
    }

    [Fact]
    public void A_split_reads_its_range_plus_at_most_one_record_beyond()
    {
        var segment = TestSegments.BuildRandom(new Random(4), 400, maxSeries: 3, maxPoints: 10);
        var file = segment.File;
        var layout = SegmentLayout.Read(file);
        var start = file.Length / 3;
        var end = start + 4096;
        var counting = new CountingCursor(file, layout.CreateSplitState(start, end));
        var n = 0;
        while (counting.TryReadRecord(out _))
        {
            n++;
        }

        var largest = segment.Frames.Max(f => f.Length) + SegmentFormat.RecordHeaderLength;
        Assert.True(n > 0);
        Assert.True(counting.HighestByte - start <= (end - start) + (2 * largest),
            $"read {counting.HighestByte - start} bytes for a {end - start}-byte split");
        Assert.True(counting.LowestByte >= start);
    }

    private sealed class CountingCursor(byte[] file, SegmentReaderState state) : SegmentRecordCursor(file.Length, state, 512)
    {
        public long LowestByte { get; private set; } = long.MaxValue;
        public long HighestByte { get; private set; }

        protected override ReadOnlySpan<byte> GetSpan(long offset, int length)
        {
            LowestByte = Math.Min(LowestByte, offset);
            HighestByte = Math.Max(HighestByte, offset + length);
            return file.AsSpan((int)offset, length);
        }
    }
}
