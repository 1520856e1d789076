using System.Buffers;
using Tailor.Benchmarks.Codecs;
using Tailor.Format.Codecs;
using Tailor.Testing;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// The codecs on real measured series from public packages (benchmarks/corpus/real, converted by the
/// scripts there): round trips, the measured choices of tailor3 and its size against every other codec.
/// </summary>
public class RealCorpusCodecTests
{
    public static TheoryData<string> CodecNames() => new(CodecTestData.AllCodecs.Select((c, i) => $"{i}:{c.Name}"));

    private static ISeriesCodec Codec(string name) => CodecTestData.AllCodecs[int.Parse(name.AsSpan(0, name.IndexOf(':')), System.Globalization.CultureInfo.InvariantCulture)];

    [Fact]
    public void The_corpus_holds_three_sources_of_real_series_with_telemetry_among_them()
    {
        var real = CodecTestData.Real;
        var sources = Enumerable.Range(0, real.SeriesCount).Select(i => real.Describe(i).Split('/')[0]).Distinct().Order().ToArray();
        Assert.Equal(["r-datasets", "stdlib", "vega"], sources);
        Assert.True(real.PointCount > 100_000, $"{real.PointCount} points");
        Assert.Contains("telemetry", real.Families);
        Assert.InRange(real.MaxSeriesPointCount, 1, RealSeriesCorpus.DefaultBlockPoints);
        for (int i = 0; i < real.SeriesCount; i++)
        {
            var ts = real.GetTimestamps(i);
            for (int j = 1; j < ts.Length; j++)
            {
                Assert.True(ts[j] > ts[j - 1], $"{real.Describe(i)}: timestamps must increase at {j}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void Every_codec_round_trips_every_real_block(string name)
    {
        var codec = Codec(name);
        var real = CodecTestData.Real;
        for (int i = 0; i < real.SeriesCount; i++)
        {
            string? failure = CodecTestData.RoundTrip(codec, real.GetTimestamps(i).ToArray(), real.GetValues(i).ToArray());
            Assert.True(failure is null, $"{real.Describe(i)}: {failure}");
        }
    }

    [Fact]
    public void Tailor3_blocks_have_the_version_2_layout()
    {
        var real = CodecTestData.Real;
        var ts = new long[real.MaxSeriesPointCount];
        var vs = new double[real.MaxSeriesPointCount];
        int compressed = 0;
        for (int i = 0; i < real.SeriesCount; i++)
        {
            var block = CodecTestData.Encode(SeriesCodecs.Tailor3, real.GetTimestamps(i), real.GetValues(i));
            compressed += block[0] == 1 ? 1 : 0;
            Assert.Equal(OperationStatus.Done, SeriesCodecs.Tailor2.Decode(block, ts, vs, out int points, out int consumed));
            Assert.Equal(block.Length, consumed);
            Assert.True(real.GetTimestamps(i).SequenceEqual(ts.AsSpan(0, points)), real.Describe(i));
            Assert.True(real.GetValues(i).ToArray().Select(BitConverter.DoubleToInt64Bits).SequenceEqual(vs.Take(points).Select(BitConverter.DoubleToInt64Bits)), real.Describe(i));
        }

        Assert.True(compressed > 0, "no real block kept a zstd pass");
    }

    [Fact]
    public void Tailor3_keeps_zstd_exactly_where_the_block_gets_smaller()
    {
        var real = CodecTestData.Real;
        var plain = new TailorCodec(new TailorCodecOptions { UseZstd = false }, 3);
        int kept = 0;
        for (int i = 0; i < real.SeriesCount; i++)
        {
            var withZstd = CodecTestData.Encode(SeriesCodecs.Tailor3, real.GetTimestamps(i), real.GetValues(i));
            var without = CodecTestData.Encode(plain, real.GetTimestamps(i), real.GetValues(i));
            Assert.Equal(0, without[0]);
            if (withZstd[0] == 1)
            {
                kept++;
                Assert.True(withZstd.Length < without.Length, $"{real.Describe(i)}: zstd block {withZstd.Length} bytes, plain {without.Length}");
            }
            else
            {
                Assert.True(withZstd.Length <= without.Length, $"{real.Describe(i)}: {withZstd.Length} > {without.Length}");
            }
        }

        Assert.InRange(kept, 1, real.SeriesCount);
    }

    /// <summary>The size targets of a default codec, met by tailor3 on the real corpus: in total and on at least 95% of blocks within 1% of every other codec.</summary>
    [Fact]
    public void Tailor3_is_no_larger_than_any_other_codec_on_the_real_corpus()
    {
        var real = CodecTestData.Real;
        var others = new ISeriesCodec[] { SeriesCodecs.Gorilla, SeriesCodecs.Tailor, SeriesCodecs.Tailor2, new TailorCodec(new TailorCodecOptions { UseZstd = true }, 2) };
        var mine = new long[real.SeriesCount];
        for (int i = 0; i < real.SeriesCount; i++)
        {
            mine[i] = CodecTestData.Encode(SeriesCodecs.Tailor3, real.GetTimestamps(i), real.GetValues(i)).Length;
        }

        foreach (var other in others)
        {
            long total = 0;
            int within = 0;
            for (int i = 0; i < real.SeriesCount; i++)
            {
                long theirs = CodecTestData.Encode(other, real.GetTimestamps(i), real.GetValues(i)).Length;
                total += theirs;
                within += mine[i] * 100 <= theirs * 101 ? 1 : 0;
            }

            Assert.True(mine.Sum() * 100 <= total * 101, $"tailor3 {mine.Sum()} bytes against {other.Name} {total}");
            Assert.True(within >= real.SeriesCount * 0.95, $"tailor3 within 1% of {other.Name} on {within} of {real.SeriesCount} blocks");
        }
    }

    [Fact]
    public void A_malformed_corpus_line_is_reported_with_its_file_and_line()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "a.txt"), "# comment\n@ cpu telemetry\n100,1.5\n90,2\n");
        var error = Assert.Throws<InvalidDataException>(() => RealSeriesCorpus.Load(folder.Path));
        Assert.Equal("a.txt:4: timestamp 90 does not increase in series 'cpu'.", error.Message);

        File.WriteAllText(Path.Combine(folder.Path, "a.txt"), "@ cpu telemetry\n100;1.5\n");
        error = Assert.Throws<InvalidDataException>(() => RealSeriesCorpus.Load(folder.Path));
        Assert.Equal("a.txt:2: a point must be 'unix-seconds,value'.", error.Message);

        File.WriteAllText(Path.Combine(folder.Path, "a.txt"), "100,1.5\n");
        error = Assert.Throws<InvalidDataException>(() => RealSeriesCorpus.Load(folder.Path));
        Assert.Equal("a.txt:1: a point before any '@ name family' line.", error.Message);

        File.Delete(Path.Combine(folder.Path, "a.txt"));
        Assert.Throws<DirectoryNotFoundException>(() => RealSeriesCorpus.Load(folder.Path));
    }

    [Fact]
    public void Long_series_are_cut_into_blocks_of_at_most_the_block_size()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "b.txt"), "@ x gauge\n1,1\n2,2\n3,3\n4,4\n5,5\n@ y count\n7,0.25\n");
        var corpus = RealSeriesCorpus.Load(folder.Path, blockPoints: 2);
        Assert.Equal(["b/x#0", "b/x#1", "b/x#2", "b/y#0"], Enumerable.Range(0, corpus.SeriesCount).Select(corpus.Describe));
        Assert.Equal([5L], corpus.GetTimestamps(2).ToArray());
        Assert.Equal([0.25], corpus.GetValues(3).ToArray());
        Assert.Equal(["gauge", "count"], corpus.Families);
        Assert.Equal(1, corpus.GetFamily(3));
        Assert.Equal(6, corpus.PointCount);
    }
}
