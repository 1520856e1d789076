using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tailor.Format.Series;
using Tailor.Format.Tests.Codecs;

namespace Tailor.Format.Tests.Series;

[Collection(SFileTestCollection.Name)]
public sealed class SFileProperties
{
    private static readonly int[] PageTargets = [1, 150, 4096, SFileWriterOptions.DefaultIndexPageTargetBytes];

    /// <summary>Strictly increasing timestamps over the whole int64 range, extremes included.</summary>
    private static Gen<long[]> SortedDistinctTimestamps(int count) =>
        CodecTestData.AnyTimestamp().ArrayOf(count).Select(ts => ts.Distinct().Order().ToArray())
            .Where(ts => ts.Length > 0);

    private static Gen<TestSeries[]> AnySeries() =>
        Gen.Choose(1, 6).SelectMany(seriesCount =>
            Gen.Choose(1, 120).SelectMany(n => SortedDistinctTimestamps(n).SelectMany(ts => CodecTestData.Values(ts.Length).Select(vs => (ts, vs))))
                .ArrayOf(seriesCount)
                .Zip(ArbMap.Default.GeneratorFor<ulong>().ArrayOf(seriesCount))
                .Zip(Gen.Choose(0, 300).ArrayOf(seriesCount))
                .Select(t =>
                {
                    var ((points, keySeeds), metadataLengths) = t;
                    var series = new List<TestSeries>();
                    var seen = new HashSet<SeriesKey>();
                    for (var i = 0; i < points.Length; i++)
                    {
                        var key = new SeriesKey((uint)(keySeeds[i] >> 40) % 4, (keySeeds[i] >> 20) % 3, keySeeds[i]);
                        if (seen.Add(key))
                        {
                            var metadata = new byte[metadataLengths[i]];
                            new Random((int)keySeeds[i]).NextBytes(metadata);
                            series.Add(new TestSeries(key, metadata, points[i].ts, points[i].vs));
                        }
                    }

                    return series.OrderBy(s => s.Key).ToArray();
                }));

    [Property(MaxTest = 300)]
    public Property Every_float_bit_pattern_and_every_int64_timestamp_round_trip_through_the_whole_file() =>
        Prop.ForAll(AnySeries().Zip(Gen.Elements(CodecTestData.AllCodecs)).Zip(Gen.Elements(PageTargets)).ToArbitrary(), t =>
        {
            var ((series, codec), target) = t;
            var file = TestSFiles.Write(series, new SFileWriterOptions { Codec = codec, IndexPageTargetBytes = target });
            var failure = TestSFiles.Compare(series, TestSFiles.Scan(file));
            if (failure is null)
            {
                using var reader = SFileReader.OpenAsync(RangeSource.FromMemory(file)).AsTask().GetAwaiter().GetResult();
                foreach (var s in series)
                {
                    var found = reader.FindAsync(s.Key).AsTask().GetAwaiter().GetResult();
                    if (found is not { } f)
                    {
                        failure = $"lookup did not find {s.Key}";
                        break;
                    }

                    var metadata = f.Metadata.ToArray();
                    var ts = new long[s.Timestamps.Length];
                    var vs = new double[ts.Length];
                    var n = reader.ReadPointsAsync(f.Entry, ts, vs).AsTask().GetAwaiter().GetResult();
                    failure = TestSFiles.Compare(s, new TestSeries(f.Entry.Key, metadata, ts[..n], vs[..n]));
                    if (failure is not null)
                    {
                        break;
                    }

                    // Ranges cut at a point, open at either end, and empty.
                    var cut = s.Timestamps[s.Timestamps.Length / 2];
                    foreach (var (from, to) in new (long?, long?)[] { (cut, null), (null, cut), (cut, cut), (s.Timestamps[0], s.Timestamps[^1]) })
                    {
                        var m = reader.ReadPointsAsync(f.Entry, ts, vs, from, to).AsTask().GetAwaiter().GetResult();
                        var want = s.Timestamps.Where(x => (from is null || x >= from) && (to is null || x < to)).ToArray();
                        if (!want.AsSpan().SequenceEqual(ts.AsSpan(0, m)))
                        {
                            failure = $"range [{from}, {to}) of {s.Key}: {m} points, expected {want.Length}";
                            break;
                        }
                    }

                    if (failure is not null)
                    {
                        break;
                    }
                }
            }

            return (failure is null).Label(failure ?? "ok");
        });

    /// <summary>One point as it arrives: series, the metadata of its entry, timestamp, value bits, intake time.</summary>
    private readonly record struct Observation(int Series, int Metadata, long Timestamp, ulong Bits, long Intake);

    private static readonly SeriesKey[] Keys = [new(1, 1, 1), new(1, 1, 2), new(1, 2, 0), new(2, 0, 0), new(7, ulong.MaxValue, 3)];

    private static readonly byte[][] MetadataChoices = [[], [1], [1, 0], [2], [0xFF, 0xFF], "host:a,env:prod"u8.ToArray()];

    /// <summary>A set of points with collisions on (series, timestamp) and on intake time, and resends with newer intake times.</summary>
    private static Gen<Observation[]> PointSets() =>
        Gen.Choose(0, Keys.Length - 1).Zip(Gen.Choose(0, MetadataChoices.Length - 1)).Zip(Gen.Choose(0, 40))
            .Zip(Gen.Frequency((3, CodecTestData.AnyDouble().Select(BitConverter.DoubleToUInt64Bits)), (1, Gen.Choose(0, 3).Select(x => (ulong)x))))
            .Zip(Gen.Choose(0, 4))
            .Select(t => new Observation(t.Item1.Item1.Item1.Item1, t.Item1.Item1.Item1.Item2, 1_795_651_200 + (15L * t.Item1.Item1.Item2), t.Item1.Item2, 1_000_000_000L * t.Item2))
            .ArrayOf()
            .Zip(Gen.Choose(0, int.MaxValue))
            .Select(t =>
            {
                var (points, seed) = t;
                var rng = new Random(seed);
                // Resends: the same timestamps again, later, with new values (and sometimes new metadata).
                var resends = points.Where(_ => rng.Next(4) == 0)
                    .Select(p => p with { Intake = p.Intake + rng.Next(1, 3), Bits = (ulong)rng.NextInt64(), Metadata = rng.Next(3) == 0 ? rng.Next(MetadataChoices.Length) : p.Metadata });
                return points.Concat(resends).ToArray();
            });

    private static byte[] BuildOneByOne(IEnumerable<Observation> points)
    {
        var builder = new InMemorySFileBuilder();
        foreach (var p in points)
        {
            builder.Add(Keys[p.Series], MetadataChoices[p.Metadata], p.Timestamp, BitConverter.UInt64BitsToDouble(p.Bits), p.Intake);
        }

        return builder.Build();
    }

    /// <summary>The same points split into payload series entries (one metadata and intake time each) in a random order, with exact duplicates.</summary>
    private static byte[] BuildAsPayloads(Observation[] points, int seed)
    {
        var rng = new Random(seed);
        var withDuplicates = points.Concat(points.Where(_ => rng.Next(3) == 0)).OrderBy(_ => rng.Next()).ToArray();
        var entries = new List<Observation[]>();
        foreach (var group in withDuplicates.GroupBy(p => (p.Series, p.Metadata, p.Intake)))
        {
            // Any group may arrive in several payloads.
            var parts = rng.Next(1, 4);
            var items = group.ToArray();
            for (var part = 0; part < parts; part++)
            {
                var slice = items.Where((_, i) => i % parts == part).ToArray();
                if (slice.Length > 0)
                {
                    entries.Add(slice);
                }
            }
        }

        var builder = new InMemorySFileBuilder();
        foreach (var entry in entries.OrderBy(_ => rng.Next()))
        {
            var first = entry[0];
            builder.AddSeries(Keys[first.Series], MetadataChoices[first.Metadata], first.Intake,
                entry.Select(p => p.Timestamp).ToArray(), entry.Select(p => BitConverter.UInt64BitsToDouble(p.Bits)).ToArray());
        }

        return builder.Build();
    }

    /// <summary>What the file must hold, by the rule written in docs/format.md, computed the naive way.</summary>
    private static TestSeries[] Expected(Observation[] points) =>
        points.GroupBy(p => p.Series)
            .Select(g =>
            {
                var metadata = g.OrderByDescending(p => p.Intake).ThenByDescending(p => MetadataChoices[p.Metadata], ByteStringComparer.Instance).First().Metadata;
                var winners = g.GroupBy(p => p.Timestamp).Select(t => t.OrderByDescending(p => p.Intake).ThenByDescending(p => p.Bits).First()).OrderBy(p => p.Timestamp).ToArray();
                return new TestSeries(Keys[g.Key], MetadataChoices[metadata], winners.Select(p => p.Timestamp).ToArray(),
                    winners.Select(p => BitConverter.UInt64BitsToDouble(p.Bits)).ToArray());
            })
            .OrderBy(s => s.Key)
            .ToArray();

    [Property(MaxTest = 300)]
    public Property The_same_point_set_in_any_order_split_into_any_payloads_with_any_duplicates_gives_the_same_bytes() =>
        Prop.ForAll(PointSets().Zip(Gen.Choose(0, int.MaxValue)).ToArbitrary(), t =>
        {
            var (points, seed) = t;
            var reference = BuildOneByOne(points);
            var shuffled = BuildOneByOne(points.OrderBy(_ => new Random(seed).Next()).Reverse());
            var asPayloads = BuildAsPayloads(points, seed);
            if (!reference.AsSpan().SequenceEqual(shuffled) || !reference.AsSpan().SequenceEqual(asPayloads))
            {
                return false.Label("different bytes");
            }

            var failure = TestSFiles.Compare(Expected(points), TestSFiles.Scan(reference));
            return (failure is null).Label(failure ?? "ok");
        });

    [Fact]
    public void Ties_on_intake_time_go_to_the_larger_value_bits_and_the_ordinally_larger_metadata()
    {
        var key = new SeriesKey(1, 2, 3);
        var builder = new InMemorySFileBuilder();
        builder.Add(key, "b"u8, 100, -1.0, 5);        // bits 0xBFF0..., larger than +2.0's 0x4000...
        builder.Add(key, "ab"u8, 100, 2.0, 5);
        builder.Add(key, "a"u8, 200, 1.0, 5);
        builder.Add(key, "ba"u8, 200, double.NaN, 4); // older: loses even with larger metadata and bits
        builder.Add(key, "c"u8, 300, 7.0, 3);
        builder.Add(key, "c"u8, 300, 8.0, 9);         // resent later: wins over larger bits
        builder.Add(key, "c"u8, 300, 9.0, 6);
        var series = Assert.Single(TestSFiles.Scan(builder.Build()));
        Assert.Equal("c"u8.ToArray(), series.Metadata); // latest intake (9)
        Assert.Equal([100L, 200, 300], series.Timestamps);
        Assert.Equal([-1.0, 1.0, 8.0], series.Values);

        var tie = new InMemorySFileBuilder();
        tie.Add(key, "ab"u8, 1, 1, 5);
        tie.Add(key, "b"u8, 2, 1, 5);
        tie.Add(key, "abc"u8, 3, 1, 5);
        Assert.Equal("b"u8.ToArray(), Assert.Single(TestSFiles.Scan(tie.Build())).Metadata);
        tie.Add(key, "b\0"u8, 4, 1, 5);              // a proper prefix is smaller
        Assert.Equal("b\0"u8.ToArray(), Assert.Single(TestSFiles.Scan(tie.Build())).Metadata);

        // -0.0 (0x8000...) beats +0.0 on a tie; a NaN payload beats both.
        var zero = new InMemorySFileBuilder();
        zero.Add(key, [], 1, 0.0, 5);
        zero.Add(key, [], 1, -0.0, 5);
        zero.Add(key, [], 2, -0.0, 5);
        zero.Add(key, [], 2, BitConverter.UInt64BitsToDouble(0xFFF8_0000_0000_0001), 5);
        var z = Assert.Single(TestSFiles.Scan(zero.Build()));
        Assert.Equal(0x8000_0000_0000_0000UL, BitConverter.DoubleToUInt64Bits(z.Values[0]));
        Assert.Equal(0xFFF8_0000_0000_0001UL, BitConverter.DoubleToUInt64Bits(z.Values[1]));
    }

    private sealed class ByteStringComparer : IComparer<byte[]>
    {
        public static readonly ByteStringComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
