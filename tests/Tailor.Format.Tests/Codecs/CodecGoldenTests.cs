using System.Runtime.CompilerServices;
using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// Golden blocks checked in under <c>tests/Tailor.Format.Tests/golden/codecs/</c>: a codec whose layout
/// changes fails here loudly. Regenerate only for a deliberate format change of a new codec id, with
/// <c>TAILOR_UPDATE_GOLDEN=1</c>.
/// </summary>
public class CodecGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var codec in new[] { "gorilla", "tailor", "tailor2", "tailor3" })
        {
            foreach (var series in Series.Keys)
            {
                data.Add(codec, series);
            }
        }

        return data;
    }

    /// <summary>Small fixed series that reach every layout branch of the codecs.</summary>
    private static readonly Dictionary<string, (long[] Ts, double[] Vs)> Series = new()
    {
        // Regular 15 s scrape with one late point, a counter with a reset.
        ["counter"] = (
            [1_795_651_200, 1_795_651_215, 1_795_651_230, 1_795_651_246, 1_795_651_260, 1_795_651_275, 1_795_651_290, 1_795_651_305],
            [1000, 1017, 1031, 1052, 7, 20, 41, 55]),
        // Percentages with two decimals and a NaN.
        ["decimal"] = (
            [1_795_651_200, 1_795_651_210, 1_795_651_220, 1_795_651_230, 1_795_651_240, 1_795_651_250],
            [12.5, 12.75, double.NaN, 13.01, 12.99, 100]),
        // Full-precision averages with gaps.
        ["float"] = (
            [1_795_651_200, 1_795_651_260, 1_795_651_320, 1_795_655_000, 1_795_655_060],
            [0.1 + 0.2, 1.0 / 3, 2.0 / 3, Math.PI, Math.E]),
        // Extremes of both columns.
        ["extremes"] = (
            [long.MinValue, -1, long.MaxValue, 0],
            [-0.0, double.Epsilon, BitConverter.UInt64BitsToDouble(0x7FF0000000000001UL), double.MaxValue]),
        ["constant"] = (
            [1_795_651_200, 1_795_651_260, 1_795_651_320, 1_795_651_380],
            [1, 1, 1, 1]),
        ["empty"] = ([], []),
        // Quotients: busy ticks over total ticks as a percentage, with a NaN and a value that is neither.
        ["quotient"] = (
            [1_795_651_200, 1_795_651_215, 1_795_651_230, 1_795_651_245, 1_795_651_260, 1_795_651_275, 1_795_651_290, 1_795_651_305],
            [312 * 100.0 / 1499, 355 * 100.0 / 1501, 298 * 100.0 / 1500, double.NaN, 401 * 100.0 / 1498, 0, Math.PI, 299 * 100.0 / 1502]),
        // Request time sums in µs over request counts, in milliseconds: quotients of decimals.
        ["sum-over-count"] = (
            [1_795_651_200, 1_795_651_210, 1_795_651_220, 1_795_651_230, 1_795_651_240, 1_795_651_250],
            [77_123 / 1000.0 / 17, 80_456 / 1000.0 / 19, 69_999 / 1000.0 / 16, 91_011 / 1000.0 / 21, 75_000 / 1000.0 / 17, 88_888 / 1000.0 / 18]),
        // Real series (benchmarks/corpus/real): a sensor mote's humidity every 5 s, where tailor3 keeps a
        // zstd pass, and a year and more of daily minimum temperatures, where tailor3's runner-up layout wins.
        ["real-humidity"] = RealBlock("stdlib/mote1.humidity#0", 480),
        ["real-temperature"] = RealBlock("vega/weather.Seattle.temp_min.daily#0", 1440),
    };

    private static (long[] Ts, double[] Vs) RealBlock(string name, int points)
    {
        var real = CodecTestData.Real;
        for (int i = 0; i < real.SeriesCount; i++)
        {
            if (real.Describe(i) == name)
            {
                return (real.GetTimestamps(i)[..points].ToArray(), real.GetValues(i)[..points].ToArray());
            }
        }

        throw new InvalidOperationException($"no block {name} in the real corpus");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Blocks_match_the_checked_in_bytes(string codecName, string series)
    {
        var codec = SeriesCodecRegistry.Shared.Get(codecName);
        var (ts, vs) = Series[series];
        var encoded = CodecTestData.Encode(codec, ts, vs);
        string name = $"{codecName}-{series}.bin";
        if (Environment.GetEnvironmentVariable("TAILOR_UPDATE_GOLDEN") == "1")
        {
            // Only a local build knows its source folder (CI builds map source paths to /_/).
            string source = Path.Combine(SourceGoldenDirectory(), name);
            Directory.CreateDirectory(Path.GetDirectoryName(source)!);
            File.WriteAllBytes(source, encoded);
        }

        // Golden files are copied beside the test assembly, so the test never depends on where the
        // sources were when it was compiled.
        string path = Path.Combine(AppContext.BaseDirectory, "golden", "codecs", name);

        Assert.True(File.Exists(path), $"missing golden file {path}");
        var golden = File.ReadAllBytes(path);
        Assert.Equal(Convert.ToHexString(golden), Convert.ToHexString(encoded));

        // Old files keep decoding to the same points.
        var outTs = new long[ts.Length];
        var outVs = new double[vs.Length];
        Assert.Equal(System.Buffers.OperationStatus.Done, codec.Decode(golden, outTs, outVs, out int points, out int consumed));
        Assert.Equal(ts.Length, points);
        Assert.Equal(golden.Length, consumed);
        Assert.Equal(ts, outTs);
        Assert.Equal(vs.Select(BitConverter.DoubleToUInt64Bits), outVs.Select(BitConverter.DoubleToUInt64Bits));
    }

    [Fact]
    public void Codec_ids_and_names_are_stable()
    {
        Assert.Equal(1, SeriesCodecs.Gorilla.Id);
        Assert.Equal("gorilla", SeriesCodecs.Gorilla.Name);
        Assert.Equal(2, SeriesCodecs.Tailor.Id);
        Assert.Equal("tailor", SeriesCodecs.Tailor.Name);
        Assert.Equal(1, SeriesCodecs.Tailor.Version);
        Assert.Equal(3, SeriesCodecs.Tailor2.Id);
        Assert.Equal("tailor2", SeriesCodecs.Tailor2.Name);
        Assert.Equal(2, SeriesCodecs.Tailor2.Version);
        Assert.Equal(4, SeriesCodecs.Tailor3.Id);
        Assert.Equal("tailor3", SeriesCodecs.Tailor3.Name);
        Assert.Equal(3, SeriesCodecs.Tailor3.Version);
        Assert.Same(SeriesCodecs.Tailor2, SeriesCodecs.Default);
    }

    private static string SourceGoldenDirectory([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source))!, "golden", "codecs");
}
