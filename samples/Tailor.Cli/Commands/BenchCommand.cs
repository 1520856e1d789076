using System.CommandLine;
using Tailor.Benchmarks.Format;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor bench (format|compaction|sink)</c>: side-by-side throughput figures as JSON.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", """
            Run a throughput benchmark and print its figures. Each measures Tailor and its ceiling or
            peer side by side in one process, so ratios hold on a noisy machine.

            Examples:
              tailor bench format --json
              tailor bench format --points 500000 --iterations 3
            """);
        command.Add(Format());
        return command;
    }

    private static Command Format()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var points = new Option<long>("--points") { Description = "Points in the segment corpus (default 2,000,000).", DefaultValueFactory = _ => 2_000_000 };
        var iterations = new Option<int>("--iterations") { Description = "Timed passes; the fastest counts (default 5).", DefaultValueFactory = _ => 5 };
        var codecSeries = new Option<int>("--codec-series") { Description = "Series in the codec corpus (default 2,000).", DefaultValueFactory = _ => 2_000 };
        var command = new Command("format", "Segment read against the zstd decompress-only ceiling, allocations per payload, bytes per point, and the series codecs (gorilla, the default, Parquet).")
        {
            json,
            points,
            iterations,
            codecSeries,
        };
        command.SetAction(parse =>
        {
            var p = parse.GetValue(points);
            var n = parse.GetValue(iterations);
            if (p < 1000 || n < 1 || parse.GetValue(codecSeries) < 10)
            {
                throw new CliException("--points must be at least 1000, --iterations at least 1 and --codec-series at least 10.", ExitCodes.BadArguments);
            }

            var result = FormatBench.Run(
                new FormatBenchOptions { Points = p, Iterations = n, CodecSeries = parse.GetValue(codecSeries) },
                Console.Error);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.WriteLine($"segment read         {result.SegmentReadPointsPerSec / 1e6,8:F1} M points/s/core");
                Console.WriteLine($"decompress only      {result.DecompressOnlyPointsPerSec / 1e6,8:F1} M points/s/core");
                Console.WriteLine($"ratio to ceiling     {result.SegmentReadRatioToCeiling,8:F2}");
                Console.WriteLine($"allocated/payload    {result.AllocatedBytesPerPayload,8:F1} bytes");
                Console.WriteLine($"segment bytes/point  {result.SegmentBytesPerPoint,8:F2}");
                foreach (var (name, figures) in result.Codecs ?? [])
                {
                    Console.WriteLine($"codec {name,-10} {figures.BytesPerPoint,6:F3} bytes/point  encode {figures.EncodePointsPerSec / 1e6,7:F1} M/s  decode {figures.DecodePointsPerSec / 1e6,7:F1} M/s");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
