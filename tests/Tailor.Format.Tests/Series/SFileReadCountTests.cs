using Tailor.Format.Series;

namespace Tailor.Format.Tests.Series;

/// <summary>One series is found with at most 3 range reads: the tail (trailer + footer), one index page, one block.</summary>
[Collection(SFileTestCollection.Name)]
public sealed class SFileReadCountTests
{
    private static readonly TestSeries[] Corpus = TestSFiles.Corpus(3000, seed: 21);
    private static readonly byte[] File = TestSFiles.Write(Corpus);

    [Fact]
    public async Task Each_series_of_a_cold_reader_costs_at_most_three_range_reads()
    {
        Assert.True(File.Length > 4 * SFileLayout.DefaultTailBytes, "the file is larger than the tail read");
        Assert.True(SFileLayout.Read(File).Footer.PageCount >= 5, "several index pages");
        var ts = new long[2000];
        var vs = new double[2000];
        foreach (var s in Corpus.Where((_, i) => i % 97 == 0))
        {
            var source = new CountingRangeSource(RangeSource.FromMemory(File));
            using var reader = await SFileReader.OpenAsync(source);
            var found = await reader.FindAsync(s.Key);
            var n = await reader.ReadPointsAsync(found!.Value.Entry, ts, vs);
            Assert.Equal(s.Timestamps, ts[..n]);
            Assert.True(source.Reads.Count <= 3, $"{source.Reads.Count} reads for {s.Key}");
            Assert.Equal(source.Reads.Count, reader.ReadCount);
            // The reads are exactly the tail, the page and the block: nothing wider.
            var footer = reader.Layout.Footer;
            Assert.Equal((File.Length - SFileLayout.DefaultTailBytes, SFileLayout.DefaultTailBytes), source.Reads[0]);
            var page = footer.Pages[footer.FindPage(s.Key)];
            if (source.Reads.Count == 3)
            {
                Assert.Equal((page.Offset, page.Length), source.Reads[1]);
            }
            else
            {
                Assert.True(page.Offset >= File.Length - SFileLayout.DefaultTailBytes, "a page not read was inside the tail");
            }
            Assert.Equal((found.Value.Entry.BlockOffset, found.Value.Entry.BlockLength), source.Reads[^1]);
        }
    }

    [Fact]
    public async Task A_counting_stream_sees_three_range_reads_for_one_series()
    {
        var s = Corpus[1234];
        using var counting = new CountingStream(new MemoryStream(File, writable: false));
        using var reader = await SFileReader.OpenAsync(RangeSource.FromStream(counting));
        var found = await reader.FindAsync(s.Key);
        var ts = new long[s.Timestamps.Length];
        var vs = new double[s.Timestamps.Length];
        var n = await reader.ReadPointsAsync(found!.Value.Entry, ts, vs);
        Assert.Equal(s.Timestamps.Length, n);
        Assert.Equal(3, counting.RangeReads);
        Assert.True(counting.BytesRead < SFileLayout.DefaultTailBytes + (2 * SFileWriterOptions.DefaultIndexPageTargetBytes), $"{counting.BytesRead} bytes read");
    }

    [Fact]
    public async Task A_missing_key_costs_at_most_two_reads_and_one_outside_the_key_range_only_the_tail()
    {
        var source = new CountingRangeSource(RangeSource.FromMemory(File));
        using var reader = await SFileReader.OpenAsync(source);
        Assert.Null(await reader.FindAsync(SeriesKey.MaxValue));
        Assert.Single(source.Reads);
        var inside = Corpus[1500].Key with { ContextKey = Corpus[1500].Key.ContextKey + 1 };
        Assert.Null(await reader.FindAsync(inside));
        Assert.True(source.Reads.Count <= 2);
    }

    [Fact]
    public async Task A_series_outside_the_time_range_needs_no_block_read()
    {
        var source = new CountingRangeSource(RangeSource.FromMemory(File));
        using var reader = await SFileReader.OpenAsync(source);
        var s = Corpus[10];
        var found = await reader.FindAsync(s.Key);
        var before = source.Reads.Count;
        Assert.Equal(0, await reader.ReadPointsAsync(found!.Value.Entry, new long[2000], new double[2000], s.Timestamps[^1] + 1, long.MaxValue));
        Assert.Equal(before, source.Reads.Count);
    }

    [Fact]
    public async Task A_footer_larger_than_the_tail_read_costs_one_more_read_and_the_trailer_says_how_much()
    {
        // One entry per page: 3,000 pages, a footer of about 105 KiB.
        var file = TestSFiles.Write(Corpus, new SFileWriterOptions { IndexPageTargetBytes = 1 });
        var layout = SFileLayout.Parse(file.AsSpan(file.Length - SFileLayout.DefaultTailBytes), file.Length, out var needed);
        Assert.Null(layout);
        Assert.Equal(SFileFooter.GetEncodedLength(Corpus.Length) + SFileFormat.TrailerLength, needed);
        Assert.NotNull(SFileLayout.Parse(file.AsSpan(file.Length - needed), file.Length, out _));

        var s = Corpus[2999];
        var source = new CountingRangeSource(RangeSource.FromMemory(file));
        using (var reader = await SFileReader.OpenAsync(source))
        {
            var found = await reader.FindAsync(s.Key);
            await reader.ReadPointsAsync(found!.Value.Entry, new long[2000], new double[2000]);
            Assert.Equal(4, source.Reads.Count);
            Assert.Equal((file.Length - needed, needed), source.Reads[1]);
        }

        // A reader told to read enough tail, or given the layout it cached, is back to three reads or fewer.
        source.Reads.Clear();
        using (var reader = await SFileReader.OpenAsync(source, new SFileReaderOptions { TailReadBytes = 256 * 1024 }))
        {
            var found = await reader.FindAsync(Corpus[5].Key);
            await reader.ReadPointsAsync(found!.Value.Entry, new long[2000], new double[2000]);
            Assert.Equal(3, source.Reads.Count);
        }

        source.Reads.Clear();
        using (var reader = SFileReader.Create(source, SFileLayout.Read(file)))
        {
            var found = await reader.FindAsync(Corpus[5].Key);
            await reader.ReadPointsAsync(found!.Value.Entry, new long[2000], new double[2000]);
            Assert.Equal(2, source.Reads.Count);
        }
    }

    [Fact]
    public async Task A_small_file_is_read_whole_by_the_tail_read()
    {
        var small = TestSFiles.Write(Corpus.Take(10));
        Assert.True(small.Length < SFileLayout.DefaultTailBytes);
        var source = new CountingRangeSource(RangeSource.FromMemory(small));
        using var reader = await SFileReader.OpenAsync(source);
        foreach (var s in Corpus.Take(10))
        {
            var found = await reader.FindAsync(s.Key);
            var ts = new long[s.Timestamps.Length];
            await reader.ReadPointsAsync(found!.Value.Entry, ts, new double[ts.Length]);
            Assert.Equal(s.Timestamps, ts);
        }

        Assert.Single(source.Reads);
    }
}
