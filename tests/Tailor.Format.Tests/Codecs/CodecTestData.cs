using FsCheck;
using FsCheck.Fluent;
using Tailor.Benchmarks.Codecs;
using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

/// <summary>Generators and helpers shared by the codec tests.</summary>
internal static class CodecTestData
{
    public static readonly ISeriesCodec[] AllCodecs =
    [
        SeriesCodecs.Gorilla,
        SeriesCodecs.Tailor,
        new TailorCodec(new TailorCodecOptions { UseZstd = true, ZstdMinSavings = 0, ZstdMinBodyLength = 0 }),
        SeriesCodecs.Tailor2,
        new TailorCodec(new TailorCodecOptions { UseZstd = true, ZstdMinSavings = 0, ZstdMinBodyLength = 0 }, 2),
        SeriesCodecs.Tailor3,
        new TailorCodec(new TailorCodecOptions { UseZstd = false }, 3),
    ];

    private static readonly Lazy<RealSeriesCorpus> s_real = new(() => RealSeriesCorpus.Load());

    /// <summary>The real-series corpus (benchmarks/corpus/real), copied beside the test assembly, loaded once.</summary>
    public static RealSeriesCorpus Real => s_real.Value;

    /// <summary>Bit patterns that codecs get wrong most easily.</summary>
    public static readonly ulong[] SpecialBits =
    [
        0x0000000000000000UL, // +0.0
        0x8000000000000000UL, // -0.0
        0x7FF0000000000000UL, // +inf
        0xFFF0000000000000UL, // -inf
        0x7FF8000000000000UL, // quiet NaN
        0xFFF8000000000000UL, // negative quiet NaN
        0x7FF8000000000001UL, // quiet NaN with payload
        0x7FF0000000000001UL, // signalling NaN
        0x7FF4000000000000UL, // signalling NaN, other payload
        0xFFFFFFFFFFFFFFFFUL, // all ones NaN
        0x7FF0000000000002UL, // Prometheus stale marker
        0x0000000000000001UL, // double.Epsilon
        0x8000000000000001UL, // -double.Epsilon
        0x000FFFFFFFFFFFFFUL, // largest subnormal
        0x0010000000000000UL, // smallest normal
        0x7FEFFFFFFFFFFFFFUL, // double.MaxValue
        0xFFEFFFFFFFFFFFFFUL, // double.MinValue
        0x3FF0000000000000UL, // 1.0
        0x3FB999999999999AUL, // 0.1
        0x4059000000000000UL, // 100.0
        0x433FFFFFFFFFFFFFUL, // 2^53 - 1
        0x4340000000000000UL, // 2^53
        0x43E0000000000000UL, // 2^63
        0xC3E0000000000000UL, // -2^63
    ];

    public static readonly long[] SpecialTimestamps = [long.MinValue, long.MinValue + 1, -1, 0, 1, int.MaxValue, (long)int.MaxValue + 1, int.MinValue, long.MaxValue - 1, long.MaxValue, 1_795_651_200];

    public static Gen<double> AnyDouble()
    {
        var anyBits = ArbMap.Default.GeneratorFor<ulong>().Select(BitConverter.UInt64BitsToDouble);
        var uniformBits = Gen.Choose(0, int.MaxValue).Two().Select(p => BitConverter.UInt64BitsToDouble(((ulong)(uint)p.Item1 << 33) ^ ((ulong)(uint)p.Item2 * 0x9E3779B97F4A7C15UL)));
        var special = Gen.Elements(SpecialBits).Select(BitConverter.UInt64BitsToDouble);
        var decimals = Gen.Choose(-1_000_000, 1_000_000).Zip(Gen.Choose(0, 6)).Select(p => p.Item1 / Math.Pow(10, p.Item2));
        var integers = ArbMap.Default.GeneratorFor<int>().Select(i => (double)i);
        var full = Gen.Choose(1, 1_000_000).Zip(Gen.Choose(1, 997)).Select(p => p.Item1 / (double)p.Item2);
        return Gen.Frequency(
            (3, anyBits),
            (3, uniformBits),
            (3, special),
            (4, decimals),
            (2, integers),
            (2, full));
    }

    public static Gen<long> AnyTimestamp() => Gen.Frequency(
        (3, ArbMap.Default.GeneratorFor<long>()),
        (2, Gen.Elements(SpecialTimestamps)),
        (3, Gen.Choose(0, 2_000_000_000).Select(x => (long)x)));

    /// <summary>Value sequences: independent draws, or runs that repeat and drift, so constant, decimal and exception paths all occur.</summary>
    public static Gen<double[]> Values(int count)
    {
        var independent = AnyDouble().ArrayOf(count);
        var runs = AnyDouble().Zip(Gen.Choose(0, 1000).ArrayOf(count)).Zip(Gen.Choose(0, 3))
            .Select(t =>
            {
                var ((start, steps), kind) = t;
                var values = new double[steps.Length];
                double v = start;
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = kind switch
                    {
                        0 => start,
                        1 => v += steps[i] % 7 == 0 ? 1 : 0,
                        2 => Math.Round(steps[i] / 10.0 + 20, 1),
                        _ => steps[i] % 50 == 0 ? start : steps[i] * 0.25,
                    };
                }

                return values;
            });
        return Gen.Frequency((2, independent), (1, runs));
    }

    public static Gen<long[]> ArbitraryTimestamps(int count) => AnyTimestamp().ArrayOf(count);

    /// <summary>Strictly increasing timestamps from any start, with regular, jittered, gapped and huge steps (wrapping is fine).</summary>
    public static Gen<long[]> IncreasingTimestamps(int count) =>
        AnyTimestamp().Zip(Gen.Frequency(
                (5, Gen.Constant(15L)),
                (3, Gen.Choose(1, 20).Select(x => (long)x)),
                (1, Gen.Choose(1, int.MaxValue).Select(x => (long)x)),
                (1, ArbMap.Default.GeneratorFor<long>().Select(x => (x & long.MaxValue) | 1)))
            .ArrayOf(count))
        .Select(p =>
        {
            var (start, steps) = p;
            var ts = new long[steps.Length];
            long t = start;
            for (int i = 0; i < ts.Length; i++)
            {
                ts[i] = t;
                t = unchecked(t + steps[i]);
            }

            return ts;
        });

    public static Gen<int> Counts() => Gen.Frequency((1, Gen.Choose(0, 3)), (4, Gen.Choose(4, 300)), (1, Gen.Choose(300, 1500)));

    public static byte[] Encode(ISeriesCodec codec, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        var buffer = new byte[codec.GetMaxEncodedLength(timestamps.Length)];
        int written = codec.Encode(timestamps, values, buffer);
        return buffer.AsSpan(0, written).ToArray();
    }

    /// <summary>Encodes, decodes (with trailing garbage after the block) and compares bit for bit; returns a failure message or null.</summary>
    public static string? RoundTrip(ISeriesCodec codec, long[] timestamps, double[] values)
    {
        var block = Encode(codec, timestamps, values);
        var withTail = new byte[block.Length + 7];
        block.CopyTo(withTail, 0);
        withTail.AsSpan(block.Length).Fill(0xA5);
        var ts = new long[timestamps.Length];
        var vs = new double[values.Length];
        var status = codec.Decode(withTail, ts, vs, out int points, out int consumed);
        if (status != System.Buffers.OperationStatus.Done)
        {
            return $"{codec.Name}: status {status}";
        }

        if (points != timestamps.Length || consumed != block.Length)
        {
            return $"{codec.Name}: points {points}/{timestamps.Length}, consumed {consumed}/{block.Length}";
        }

        if (codec.ReadPointCount(block, out int count) != System.Buffers.OperationStatus.Done || count != timestamps.Length)
        {
            return $"{codec.Name}: ReadPointCount {count}";
        }

        for (int i = 0; i < timestamps.Length; i++)
        {
            if (ts[i] != timestamps[i])
            {
                return $"{codec.Name}: timestamp {i}: {ts[i]} != {timestamps[i]}";
            }

            if (BitConverter.DoubleToUInt64Bits(vs[i]) != BitConverter.DoubleToUInt64Bits(values[i]))
            {
                return $"{codec.Name}: value {i}: {BitConverter.DoubleToUInt64Bits(vs[i]):X16} != {BitConverter.DoubleToUInt64Bits(values[i]):X16}";
            }
        }

        return null;
    }
}
