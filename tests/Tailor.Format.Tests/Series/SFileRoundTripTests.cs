using System.Buffers;
using Tailor.Format.Codecs;
using Tailor.Format.Series;

namespace Tailor.Format.Tests.Series;

[Collection(SFileTestCollection.Name)]
public sealed class SFileRoundTripTests
{
    private static readonly TestSeries[] Corpus = TestSFiles.Corpus(600);

    public static TheoryData<string, int> Settings() => new()
    {
        { "tailor", SFileWriterOptions.DefaultIndexPageTargetBytes },
        { "tailor", 1 },       // one entry per page
        { "tailor", 700 },     // a few entries per page
        { "gorilla", 4096 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public async Task Every_series_reads_back_bit_for_bit_through_the_scanner_and_the_lookup(string codec, int pageTarget)
    {
        var options = new SFileWriterOptions
        {
            Codec = SeriesCodecRegistry.Shared.Get(codec),
            IndexPageTargetBytes = pageTarget,
            Shard = "org-mod-7",
            WindowStart = 1_795_651_200,
            WindowSeconds = 14_400,
        };
        var file = TestSFiles.Write(Corpus, options);

        Assert.Null(TestSFiles.Compare(Corpus, TestSFiles.Scan(file)));
        Assert.Null(TestSFiles.Compare(Corpus, TestSFiles.Scan(new MemorySFileSource(file))));

        var layout = SFileLayout.Read(file);
        var footer = layout.Footer;
        Assert.Equal(Corpus.Length, footer.Stats.SeriesCount);
        Assert.Equal(Corpus.Sum(s => (long)s.Timestamps.Length), footer.Stats.PointCount);
        Assert.Equal(Corpus.Min(s => s.Timestamps[0]), footer.Stats.MinTimestamp);
        Assert.Equal(Corpus.Max(s => s.Timestamps[^1]), footer.Stats.MaxTimestamp);
        Assert.Equal(Corpus[0].Key, footer.Stats.FirstKey);
        Assert.Equal(Corpus[^1].Key, footer.Stats.LastKey);
        Assert.Equal(Corpus.Sum(s => (long)s.Metadata.Length), footer.Stats.MetadataBytes);
        Assert.Equal(options.Codec.Id, footer.CodecId);
        if (pageTarget == 1)
        {
            Assert.Equal(Corpus.Length, footer.PageCount);
        }

        var header = SFileHeader.Read(file);
        Assert.Equal(new SFileHeader(1, options.Codec.Id, "org-mod-7", 1_795_651_200, 14_400), header);
        Assert.Equal(header.Length, footer.BlocksOffset);

        using var reader = await SFileReader.OpenAsync(RangeSource.FromMemory(file));
        var ts = new long[footer.Stats.MaxPointCount];
        var vs = new double[footer.Stats.MaxPointCount];
        foreach (var expected in Corpus)
        {
            var found = await reader.FindAsync(expected.Key);
            Assert.NotNull(found);
            var metadata = found.Value.Metadata.ToArray();
            var n = await reader.ReadPointsAsync(found.Value.Entry, ts, vs);
            Assert.Null(TestSFiles.Compare(expected, new TestSeries(found.Value.Entry.Key, metadata, ts[..n], vs[..n])));
        }
    }

    [Fact]
    public async Task Keys_that_are_not_in_the_file_are_not_found()
    {
        var file = TestSFiles.Write(Corpus, new SFileWriterOptions { IndexPageTargetBytes = 2000 });
        using var reader = await SFileReader.OpenAsync(RangeSource.FromMemory(file));
        var present = Corpus.Select(s => s.Key).ToHashSet();
        var probes = new List<SeriesKey> { SeriesKey.MinValue, SeriesKey.MaxValue };
        foreach (var s in Corpus.Take(100))
        {
            probes.Add(s.Key with { ContextKey = s.Key.ContextKey + 1 });
            probes.Add(s.Key with { ContextKey = s.Key.ContextKey - 1 });
            probes.Add(s.Key with { MetricId = s.Key.MetricId + 1 });
        }

        foreach (var key in probes.Where(k => !present.Contains(k)))
        {
            Assert.Null(await reader.FindAsync(key));
        }
    }

    [Fact]
    public async Task A_time_range_returns_exactly_the_points_in_from_to()
    {
        var file = TestSFiles.Write(Corpus);
        using var reader = await SFileReader.OpenAsync(RangeSource.FromMemory(file));
        var rng = new Random(5);
        var ts = new long[reader.Layout.Footer.Stats.MaxPointCount];
        var vs = new double[ts.Length];
        foreach (var s in Corpus.Where((_, i) => i % 7 == 0))
        {
            var entry = (await reader.FindAsync(s.Key))!.Value.Entry;
            for (var round = 0; round < 5; round++)
            {
                var from = s.Timestamps[0] + rng.Next(-100, 16_000);
                var to = from + rng.Next(-10, 8_000);
                var n = await reader.ReadPointsAsync(entry, ts, vs, from, to);
                var expected = Enumerable.Range(0, s.Timestamps.Length).Where(i => s.Timestamps[i] >= from && s.Timestamps[i] < to).ToArray();
                Assert.Equal(expected.Length, n);
                Assert.Equal(expected.Select(i => s.Timestamps[i]), ts[..n]);
                Assert.Equal(expected.Select(i => BitConverter.DoubleToUInt64Bits(s.Values[i])), vs[..n].Select(BitConverter.DoubleToUInt64Bits));
            }
        }
    }

    [Fact]
    public void An_empty_file_is_valid_and_reads_as_no_series()
    {
        var file = TestSFiles.Write([], new SFileWriterOptions { Shard = "org-42" });
        var layout = SFileLayout.Read(file);
        Assert.Equal(0, layout.Footer.Stats.SeriesCount);
        Assert.Equal(0, layout.Footer.PageCount);
        Assert.Empty(TestSFiles.Scan(file));
        Assert.Equal(SFileFormat.HeaderFixedLength + 6 + SFileFormat.FooterFixedLength + SFileFormat.TrailerLength, file.Length);
    }

    [Fact]
    public void Largest_metadata_and_single_point_series_round_trip()
    {
        var big = new byte[FormatLimits.MaxMetadataBytes];
        new Random(3).NextBytes(big);
        var series = new[]
        {
            new TestSeries(new SeriesKey(0, 0, 0), big, [long.MinValue], [double.NaN]),
            new TestSeries(new SeriesKey(0, 0, 1), [], [long.MaxValue], [-0.0]),
            new TestSeries(new SeriesKey(uint.MaxValue, ulong.MaxValue, ulong.MaxValue), big[..100], [-5, 0, 5], [1, 2, 3]),
        };
        foreach (var target in new[] { 1, 100, 1 << 20 })
        {
            var file = TestSFiles.Write(series, new SFileWriterOptions { IndexPageTargetBytes = target });
            Assert.Null(TestSFiles.Compare(series, TestSFiles.Scan(file)));
        }
    }

    [Fact]
    public void The_writer_rejects_misuse()
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new SFileWriter(output);
        writer.AddSeries(new SeriesKey(1, 1, 1), [], [10, 20], [1, 2]);
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 1), [], [10], [1]));  // same key
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 0), [], [10], [1]));  // smaller key
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 2), [], [10, 10], [1, 2]));  // repeated timestamp
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 2), [], [20, 10], [1, 2]));  // decreasing
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 2), [], [10, 20], [1]));  // lengths
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 2), [], [], []));  // no points
        Assert.Throws<ArgumentException>(() => writer.AddSeries(new SeriesKey(1, 1, 2), new byte[FormatLimits.MaxMetadataBytes + 1], [10], [1]));
        writer.AddSeries(new SeriesKey(1, 1, 2), [], [10], [1]); // still usable after rejected calls
        writer.Complete();
        Assert.Throws<InvalidOperationException>(() => writer.AddSeries(new SeriesKey(2, 0, 0), [], [10], [1]));
        Assert.Throws<InvalidOperationException>(() => writer.Complete());
        Assert.Equal(2, TestSFiles.Scan(output.WrittenSpan).Count);

        Assert.Throws<ArgumentException>(() => new SFileWriter(output, new SFileWriterOptions { Shard = new string('x', 256) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SFileWriter(output, new SFileWriterOptions { IndexPageTargetBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SFileWriter(output, new SFileWriterOptions { WindowSeconds = -1 }));
    }

    [Fact]
    public void Writing_is_deterministic_and_into_any_buffer_writer()
    {
        var a = TestSFiles.Write(Corpus);
        var b = TestSFiles.Write(Corpus);
        Assert.Equal(a, b);

        // Through a stream in small pieces, as to a multipart upload.
        using var stream = new MemoryStream();
        using (var buffered = new Tailor.Format.IO.StreamBufferWriter(stream, 4096))
        {
            using var writer = new SFileWriter(buffered);
            foreach (var s in Corpus)
            {
                writer.AddSeries(s.Key, s.Metadata, s.Timestamps, s.Values);
            }

            writer.Complete();
            buffered.Flush();
        }

        Assert.Equal(a, stream.ToArray());
    }

    [Fact]
    public void Series_keys_order_by_org_then_metric_then_context_and_parse_from_text()
    {
        var keys = new[]
        {
            new SeriesKey(2, 0, 0), new SeriesKey(1, ulong.MaxValue, 0), new SeriesKey(1, 5, ulong.MaxValue),
            new SeriesKey(1, 5, 1UL << 63), new SeriesKey(1, 5, 7), new SeriesKey(uint.MaxValue, 0, 0), new SeriesKey(0, 0, 0),
        };
        var sorted = keys.OrderBy(k => k.OrgId).ThenBy(k => k.MetricId).ThenBy(k => k.ContextKey).ToArray();
        Array.Sort(keys);
        Assert.Equal(sorted, keys);
        Assert.True(new SeriesKey(1, 5, 7) < new SeriesKey(1, 5, 8));

        Span<byte> bytes = stackalloc byte[SeriesKey.EncodedLength];
        foreach (var key in keys)
        {
            key.Write(bytes);
            Assert.Equal(key, SeriesKey.Read(bytes));
            Assert.True(SeriesKey.TryParse(key.ToString(), out var parsed));
            Assert.Equal(key, parsed);
        }

        Assert.Equal(new SeriesKey(42, 7, 18446744073709551615), SeriesKey.Parse("42:7:18446744073709551615"));
        foreach (var bad in new[] { "", "1:2", "1:2:3:4", "-1:2:3", "4294967296:0:0", "1:18446744073709551616:0", " 1:2:3", "1:2:3 ", "a:b:c", "1::3", "+1:2:3" })
        {
            Assert.False(SeriesKey.TryParse(bad, out _), bad);
        }
    }
}
