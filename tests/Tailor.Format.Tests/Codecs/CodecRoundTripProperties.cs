using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

public class CodecRoundTripProperties
{
    private static Property RoundTrips(ISeriesCodec codec, Func<int, Gen<long[]>> timestamps)
    {
        var gen = CodecTestData.Counts().SelectMany(n => timestamps(n).Zip(CodecTestData.Values(n)));
        return Prop.ForAll(gen.ToArbitrary(), pair =>
        {
            string? failure = CodecTestData.RoundTrip(codec, pair.Item1, pair.Item2);
            return (failure is null).Label(failure ?? "ok");
        });
    }

    [Property(MaxTest = 300)]
    public Property Gorilla_round_trips_increasing_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Gorilla, CodecTestData.IncreasingTimestamps);

    [Property(MaxTest = 300)]
    public Property Gorilla_round_trips_arbitrary_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Gorilla, CodecTestData.ArbitraryTimestamps);

    [Property(MaxTest = 300)]
    public Property Tailor_round_trips_increasing_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Tailor, CodecTestData.IncreasingTimestamps);

    [Property(MaxTest = 300)]
    public Property Tailor_round_trips_arbitrary_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Tailor, CodecTestData.ArbitraryTimestamps);

    [Property(MaxTest = 200)]
    public Property Tailor_with_zstd_forced_round_trips_anything() =>
        RoundTrips(CodecTestData.AllCodecs[2], CodecTestData.IncreasingTimestamps);

    [Property(MaxTest = 200)]
    public Property Tailor3_round_trips_increasing_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Tailor3, CodecTestData.IncreasingTimestamps);

    [Property(MaxTest = 200)]
    public Property Tailor3_round_trips_arbitrary_timestamps_and_any_doubles() =>
        RoundTrips(SeriesCodecs.Tailor3, CodecTestData.ArbitraryTimestamps);

    /// <summary>Any run of consecutive points of any real series: every codec round-trips it, and tailor3 is never larger than tailor2 with or without zstd.</summary>
    [Property(MaxTest = 150)]
    public Property Every_codec_round_trips_any_slice_of_a_real_series() =>
        Prop.ForAll(
            Gen.Choose(0, CodecTestData.Real.SeriesCount - 1).Zip(Gen.Choose(0, 1439)).Zip(Gen.Choose(0, 1440)).ToArbitrary(),
            pick =>
            {
                var ((series, start), length) = pick;
                var real = CodecTestData.Real;
                int n = real.GetTimestamps(series).Length;
                start = Math.Min(start, n);
                length = Math.Min(length, n - start);
                var ts = real.GetTimestamps(series).Slice(start, length).ToArray();
                var vs = real.GetValues(series).Slice(start, length).ToArray();
                foreach (var codec in CodecTestData.AllCodecs)
                {
                    string? failure = CodecTestData.RoundTrip(codec, ts, vs);
                    if (failure is not null)
                    {
                        return false.Label($"{real.Describe(series)} [{start}, +{length}): {failure}");
                    }
                }

                int tailor3 = CodecTestData.Encode(SeriesCodecs.Tailor3, ts, vs).Length;
                int tailor2 = CodecTestData.Encode(SeriesCodecs.Tailor2, ts, vs).Length;
                int tailor2Zstd = CodecTestData.Encode(new TailorCodec(new TailorCodecOptions { UseZstd = true }, 2), ts, vs).Length;
                return (tailor3 <= tailor2 && tailor3 <= tailor2Zstd).Label($"{real.Describe(series)} [{start}, +{length}): tailor3 {tailor3}, tailor2 {tailor2}, tailor2-zstd {tailor2Zstd}");
            });

    [Property(MaxTest = 200)]
    public Property Encoding_is_deterministic() =>
        Prop.ForAll(
            CodecTestData.Counts().SelectMany(n => CodecTestData.IncreasingTimestamps(n).Zip(CodecTestData.Values(n))).ToArbitrary(),
            pair =>
            {
                foreach (var codec in CodecTestData.AllCodecs)
                {
                    var a = CodecTestData.Encode(codec, pair.Item1, pair.Item2);
                    var b = CodecTestData.Encode(codec, pair.Item1, pair.Item2);
                    if (!a.AsSpan().SequenceEqual(b))
                    {
                        return false;
                    }
                }

                return true;
            });

    [Fact]
    public void Every_special_value_and_extreme_timestamp_round_trips()
    {
        var values = CodecTestData.SpecialBits.Select(BitConverter.UInt64BitsToDouble).ToArray();
        var ts = Enumerable.Range(0, values.Length).Select(i => CodecTestData.SpecialTimestamps[i % CodecTestData.SpecialTimestamps.Length]).ToArray();
        foreach (var codec in CodecTestData.AllCodecs)
        {
            Assert.Null(CodecTestData.RoundTrip(codec, ts, values));
            // Each special value alone, repeated, and next to decimals.
            foreach (var bits in CodecTestData.SpecialBits)
            {
                double special = BitConverter.UInt64BitsToDouble(bits);
                var many = Enumerable.Range(0, 50).Select(i => i % 10 == 3 ? special : i / 10.0).ToArray();
                var manyTs = Enumerable.Range(0, 50).Select(i => long.MaxValue - (50 - i) * 10L).ToArray();
                Assert.Null(CodecTestData.RoundTrip(codec, manyTs, many));
                Assert.Null(CodecTestData.RoundTrip(codec, [long.MinValue, long.MaxValue, long.MinValue], [special, special, -special]));
            }
        }
    }

    [Fact]
    public void Empty_and_single_point_blocks_round_trip()
    {
        foreach (var codec in CodecTestData.AllCodecs)
        {
            Assert.Null(CodecTestData.RoundTrip(codec, [], []));
            Assert.Null(CodecTestData.RoundTrip(codec, [long.MinValue], [double.NaN]));
            Assert.Null(CodecTestData.RoundTrip(codec, [1_795_651_200], [-0.0]));
        }
    }
}
