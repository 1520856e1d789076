using FsCheck.Xunit;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Segments;

public sealed class SegmentDamageTests
{
    private static readonly ReaderKind[] LayoutAware = [ReaderKind.Span, ReaderKind.Sequence, ReaderKind.Stream, ReaderKind.Mapped, ReaderKind.MemoryWindows, ReaderKind.FileWindows];
    private static readonly ReaderKind[] Streaming = [ReaderKind.NonSeekableStream, ReaderKind.Pipe];

    [Property(MaxTest = 300)]
    public bool Any_single_damaged_region_loses_only_the_records_it_touches_and_counts_them(int seed)
    {
        var rng = new Random(seed);
        var segment = TestSegments.BuildRandom(rng, rng.Next(1, 30));
        var original = segment.File;
        var footerStart = SegmentLayout.Read(original).DataEnd;
        var file = (byte[])original.Clone();
        var truncate = rng.Next(4) == 0;
        long a = rng.Next(SegmentFormat.HeaderLength, file.Length);
        long b;
        if (truncate)
        {
            b = file.Length;
            file = file[..(int)a];
        }
        else
        {
            b = Math.Min(file.Length, a + (rng.Next(3) == 0 ? rng.Next(1, 3000) : rng.Next(1, 40)));
            for (var i = a; i < b; i++)
            {
                file[i] ^= (byte)rng.Next(1, 256); // every byte of the region changes
            }
        }

        var touched = Enumerable.Range(0, segment.Frames.Length).Where(i => segment.Offsets[i] < b && segment.End(i) > a).ToHashSet();
        var survivors = Enumerable.Range(0, segment.Frames.Length).Where(i => !touched.Contains(i)).ToArray();
        // One case no reader can tell apart: a region that destroys both the footer's first bytes and the
        // trailer looks exactly like a lost last record; it is counted as one lost record.
        var ambiguous = !truncate && a < footerStart + 4 && b > footerStart && b > file.Length - SegmentFormat.TrailerLength;
        var goodAfter = survivors.Any(i => segment.Offsets[i] >= b);

        foreach (var kind in LayoutAware.Concat(Streaming))
        {
            var (records, stats) = TestSegments.ReadAll(file, kind, new Random(seed));
            if (!records.Select(r => r.Offset).SequenceEqual(survivors.Select(i => segment.Offsets[i]))
                || !records.Zip(survivors).All(p => p.First.Frame.AsSpan().SequenceEqual(segment.Frames[p.Second])))
            {
                throw new InvalidOperationException($"{kind}: read {records.Count} records, expected survivors {survivors.Length} (region [{a},{b}) truncate={truncate})");
            }

            var footerCount = kind is ReaderKind.NonSeekableStream or ReaderKind.Pipe ? null : SegmentLayout.Read(file).RecordCount;
            var lost = stats.LostRecords(footerCount);
            bool ok;
            if (truncate)
            {
                // A truncated file has lost its footer, so only the record cut in two is known to be lost.
                var cutInside = Enumerable.Range(0, segment.Frames.Length).Any(i => segment.Offsets[i] < a && segment.End(i) > a);
                ok = lost == (cutInside ? 1 : 0);
            }
            else
            {
                var exact = Streaming.Contains(kind) ? goodAfter || touched.Count <= 1 : !ambiguous;
                ok = exact ? lost == touched.Count : lost >= Math.Min(1, touched.Count) && lost <= touched.Count + 1;
            }
            if (!ok)
            {
                throw new InvalidOperationException($"{kind}: lost {lost}, touched {touched.Count} (region [{a},{b}) truncate={truncate}, footer at {footerStart})");
            }

            var cleanCut = truncate && touched.Count > 0 && a == segment.Offsets[touched.Min()];
            if (touched.Count > 0 && stats.DamagedRegions != (cleanCut ? 0 : 1))
            {
                throw new InvalidOperationException($"{kind}: {stats.DamagedRegions} regions for one damaged region [{a},{b})");
            }
        }

        return true;
    }

    [Property(MaxTest = 300)]
    public bool Damage_is_counted_once_over_any_contiguous_splits(int seed)
    {
        var rng = new Random(seed);
        var segment = TestSegments.BuildRandom(rng, rng.Next(1, 30));
        var file = (byte[])segment.File.Clone();
        var layout = SegmentLayout.Read(file);
        for (var r = 0; r < rng.Next(1, 4); r++)
        {
            var a = rng.Next(SegmentFormat.HeaderLength, (int)layout.DataEnd);
            var b = Math.Min((int)layout.DataEnd, a + rng.Next(1, 200));
            for (var i = a; i < b; i++)
            {
                file[i] ^= (byte)rng.Next(1, 256);
            }
        }

        var whole = TestSegments.ReadAll(file, ReaderKind.Span);
        var cuts = Enumerable.Range(0, rng.Next(1, 10)).Select(_ => (long)rng.Next(0, file.Length)).Append(0).Append(file.Length).Distinct().Order().ToArray();
        var total = default(SegmentReadStats);
        total.MaxOrdinal = -1;
        var offsets = new List<long>();
        for (var i = 0; i + 1 < cuts.Length; i++)
        {
            var cursor = new MemorySegmentCursor(file, layout.CreateSplitState(cuts[i], cuts[i + 1]), rng.Next(64, 1024));
            while (cursor.TryReadRecord(out var rec))
            {
                offsets.Add(rec.Offset);
            }

            total.Add(cursor.State.Stats);
        }

        return offsets.SequenceEqual(whole.Records.Select(r => r.Offset))
            && total.DamagedRegions == whole.Stats.DamagedRegions
            && total.DamagedBytes == whole.Stats.DamagedBytes
            && layout.LostRecords(total) == layout.LostRecords(whole.Stats);
    }

    [Fact]
    public void Strict_mode_throws_one_typed_exception_naming_the_offset()
    {
        var segment = TestSegments.BuildRandom(new Random(8), 10);
        var file = (byte[])segment.File.Clone();
        var target = segment.Offsets[4] + SegmentFormat.RecordHeaderLength + 3;
        file[target] ^= 0xFF;
        var strict = new SegmentReaderOptions { Strict = true };
        foreach (var kind in Enum.GetValues<ReaderKind>())
        {
            var error = Assert.Throws<SegmentFormatException>(() => TestSegments.ReadAll(file, kind, options: strict));
            Assert.Equal(segment.Offsets[4], error.Offset);
            Assert.Contains($"offset {segment.Offsets[4]}", error.Message, StringComparison.Ordinal);
            Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_huge_length_field_is_damage_and_never_an_allocation()
    {
        var segment = TestSegments.BuildRandom(new Random(12), 10);
        var file = (byte[])segment.File.Clone();
        // Length field of record 3 claims 1.5 GiB.
        BitConverter.TryWriteBytes(file.AsSpan((int)segment.Offsets[3] + 20), 1_500_000_000);
        foreach (var kind in Enum.GetValues<ReaderKind>())
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var (records, stats) = TestSegments.ReadAll(file, kind);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.Equal(9, records.Count);
            Assert.Equal(1, stats.DamagedRegions);
            Assert.True(allocated < 16L * 1024 * 1024, $"{kind} allocated {allocated} bytes");
        }
    }

    [Fact]
    public void A_file_without_footer_is_read_by_scanning()
    {
        var segment = TestSegments.BuildRandom(new Random(13), 12);
        var truncated = segment.File[..(int)segment.End(11)];
        var layout = SegmentLayout.Read(truncated);
        Assert.Null(layout.Footer);
        Assert.NotNull(layout.FooterProblem);
        foreach (var kind in Enum.GetValues<ReaderKind>())
        {
            var (records, stats) = TestSegments.ReadAll(truncated, kind);
            Assert.Equal(12, records.Count);
            Assert.Equal(0, stats.DamagedRegions);
            Assert.Equal(0, stats.LostRecords(null));
        }
    }

    [Fact]
    public void A_damaged_header_is_recovered_from_the_footer()
    {
        var segment = TestSegments.BuildRandom(new Random(14), 12);
        var file = (byte[])segment.File.Clone();
        file[10] ^= 0x55; // inside the header's copy of the sync marker
        var layout = SegmentLayout.Read(file);
        Assert.Null(layout.Header);
        Assert.Contains("checksum", layout.HeaderProblem, StringComparison.Ordinal);
        Assert.True(layout.IsReadable);
        foreach (var kind in new[] { ReaderKind.Span, ReaderKind.Sequence, ReaderKind.Stream, ReaderKind.Mapped, ReaderKind.MemoryWindows, ReaderKind.FileWindows })
        {
            Assert.Equal(12, TestSegments.ReadAll(file, kind).Records.Count);
        }

        // A reader that cannot see the footer says clearly why it cannot read the file.
        var error = Assert.Throws<SegmentFormatException>(() => TestSegments.ReadAll(file, ReaderKind.Pipe));
        Assert.Contains("header", error.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public bool Random_bytes_never_throw_hang_or_allocate_past_the_limit_in_lenient_mode(int seed)
    {
        var rng = new Random(seed);
        var file = new byte[rng.Next(0, 5000)];
        rng.NextBytes(file);
        if (rng.Next(2) == 0 && file.Length > 100)
        {
            // A real header over random bytes, so the reader scans the garbage for records.
            new SegmentHeader(1, TestSegments.FixedMarker, 1, 1, 1).Write(file);
        }

        try
        {
            foreach (var kind in Enum.GetValues<ReaderKind>())
            {
                var (records, _) = TestSegments.ReadAll(file, kind, rng);
                if (records.Count != 0)
                {
                    return false;
                }
            }
        }
        catch (SegmentFormatException e)
        {
            return e.Message.Contains("segment", StringComparison.Ordinal);
        }

        return true;
    }

    [Fact]
    public void Records_with_valid_checksums_but_no_zstd_frame_are_damage()
    {
        using var decoder = new PayloadDecoder();
        var segment = TestSegments.BuildRandom(new Random(15), 6);
        var file = (byte[])segment.File.Clone();
        var o = (int)segment.Offsets[2];
        file[o + SegmentFormat.RecordHeaderLength] ^= 0x01; // break the frame magic, then fix the checksum
        var length = segment.Frames[2].Length;
        BitConverter.TryWriteBytes(file.AsSpan(o + 16), SegmentFormat.Checksum(file.AsSpan(o + 20, 8 + length)));
        var (records, stats) = TestSegments.ReadAll(file, ReaderKind.Span);
        Assert.Equal(5, records.Count);
        Assert.Equal(1, stats.LostRecords(6));
    }
}
