using System.CommandLine;
using Tailor.Benchmarks.Format;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor bench (format|compaction|sink|load|query)</c>: side-by-side throughput figures as JSON.</summary>
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
              tailor bench load --rate 4000 --seconds 30 --json
              tailor bench query --json
            """);
        command.Add(Format());
        command.Add(Compaction());
        command.Add(Sink());
        command.Add(Load());
        command.Add(Query());
        return command;
    }

    private static Command Query()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var days = new Option<int>("--days") { Description = "Days of history of the queried org (90 days are 540 windows of 4 hours).", DefaultValueFactory = _ => 90 };
        var contexts = new Option<int>("--contexts") { Description = "Contexts of the aggregated metric.", DefaultValueFactory = _ => 64 };
        var latency = new Option<int>("--latency-ms") { Description = "Milliseconds the remote store adds to every call.", DefaultValueFactory = _ => 20 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of the long-range query, the aggregate and DuckDB's.", DefaultValueFactory = _ => 5 };
        var folder = new Option<string?>("--folder") { Description = "Keep the generated store (and the Parquet files) in this folder and reuse it on later runs with the same --days and --contexts (default: a temporary folder, deleted after)." };
        var command = new Command("query", """
            The read side (Tailor.Query) on a store made like tailor gen makes one, then compacted: one org
            with a host fleet reporting every 10 s for 90 days, the other orgs' realistic traffic in the last
            window. Through a store that adds 20 ms to every call: range reads of one series in one window,
            cold and warm, and one series over the whole history with a warm cache. On the local store: the
            aggregate (avg and max at 1-minute steps) of every context of one metric over 7 days, against
            DuckDB over the same parts exported to Parquet by tailor export. Every answer is checked against
            a brute-force scan of the S-files; exits 3 when one differs. See docs/benchmarks.md.

            Examples:
              tailor bench query --json
              tailor bench query --days 30 --contexts 32 --runs 3
              tailor bench query --folder /tmp/bench-query --json     # a second run reuses the store
            """)
        {
            json,
            days,
            contexts,
            latency,
            runs,
            folder,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(days) is < 8 or > 3650 || parse.GetValue(contexts) is < 1 or > 100_000 || parse.GetValue(latency) is < 0 or > 10_000 || parse.GetValue(runs) is < 1 or > 100)
            {
                throw new CliException("--days must be 8 to 3650, --contexts 1 to 100,000, --latency-ms 0 to 10,000 and --runs 1 to 100.", ExitCodes.BadArguments);
            }

            var result = await Tailor.Benchmarks.Query.QueryBench.RunAsync(
                new Tailor.Benchmarks.Query.QueryBenchOptions
                {
                    Store = new Tailor.Benchmarks.Query.QueryBenchStoreOptions { Days = parse.GetValue(days), Contexts = parse.GetValue(contexts) },
                    Latency = TimeSpan.FromMilliseconds(parse.GetValue(latency)),
                    Runs = parse.GetValue(runs),
                    Folder = parse.GetValue(folder) is { } kept ? Path.GetFullPath(kept) : null,
                },
                ExportAsync, Console.Error, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.WriteLine($"lookup reads         {result.LookupReadsCold} cold, {result.LookupReadsWarm} warm (store calls {result.LookupCallsCold} / {result.LookupCallsWarm}, {result.LatencyMs:F0} ms each)");
                Console.WriteLine($"long range           {result.LongRangeSeconds:F3} s warm, median of {result.LongRangeRunsSeconds.Length} ({result.LongRangeWindows} windows, {result.LongRangePoints:N0} points; cold {result.LongRangeColdSeconds:F2} s)");
                Console.WriteLine($"aggregate            {result.AggregatePointsPerSecPerCore / 1e6,8:F1} M points/s per core ({result.AggregatePoints:N0} points, {result.AggregateSeries} series, {result.AggregateSeconds:F3} s)");
                Console.WriteLine($"duckdb               {result.DuckDbPointsPerSecPerCore / 1e6,8:F1} M points/s per core (ratio {result.RatioToDuckDb:F2}; wall {result.RatioToDuckDbWall:F2})");
                Console.WriteLine($"matches reference    {result.ResultsMatchReference}{(result.Mismatches.Count > 0 ? ": " + string.Join("; ", result.Mismatches) : "")}");
            }

            return result.ResultsMatchReference ? ExitCodes.Success : ExitCodes.VerifyMismatch;
        });
        return command;
    }

    /// <summary>What <c>tailor export</c> does for one shard and window, for the query benchmark's DuckDB peer.</summary>
    private static async Task<IReadOnlyList<string>> ExportAsync(Storage.IObjectStore store, Storage.ShardName shard, Tailor.Compaction.CompactionWindow window, string folder, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        foreach (var manifest in await Export.ParquetExport.FindManifestsAsync(store, window, shard, cancellationToken))
        {
            files.AddRange((await Export.ParquetExport.ExportAsync(store, manifest, folder, null, cancellationToken)).Select(f => f.File));
        }

        return files;
    }

    private static Command Load()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var rate = new Option<double>("--rate") { Description = "Payloads per second offered (4000 is ten times the demo's rate).", DefaultValueFactory = _ => 4000 };
        var seconds = new Option<double>("--seconds") { Description = "Seconds of traffic.", DefaultValueFactory = _ => 30 };
        var command = new Command("load", """
            The load test: 'tailor gen --to-kafka' offers traffic at a fixed rate to an embedded cluster (16
            partitions over two topics), one sink worker consumes it into a local store, then every window
            with input is compacted and verified, and every produced point must be in its window's job.
            Prints the lag, buffered bytes and paused partitions per second and the compaction stage
            timings; exits 3 when a point is missing, different or unaccounted for. See docs/load-test.md.
            """)
        {
            json,
            rate,
            seconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(rate) is <= 0 or > 1_000_000 || parse.GetValue(seconds) is <= 0 or > 3600)
            {
                throw new CliException("--rate must be above 0 and at most 1,000,000 payloads/s, --seconds above 0 and at most 3600.", ExitCodes.BadArguments);
            }

            var result = await Tailor.Benchmarks.Load.LoadTest.RunAsync(
                new Tailor.Benchmarks.Load.LoadTestOptions
                {
                    PayloadsPerSecond = parse.GetValue(rate),
                    Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
                    TailorProgram = typeof(BenchCommand).Assembly.Location,
                },
                Console.Error, cancellationToken);
            var accounted = result.Missing == 0 && result.Different == 0 && result.CompactedPointsIn == result.Points;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.WriteLine($"offered / produced   {result.OfferedPayloadsPerSec:N0} / {result.ProducedPayloadsPerSec:N0} payloads/s ({result.PointsPerSec / 1e6:F2} M points/s)");
                Console.WriteLine($"sink                 {result.SinkPayloadsPerSec:N0} payloads/s, max lag {result.MaxLag:N0}, drained {result.DrainSeconds:F1} s after the producer stopped");
                Console.WriteLine($"compaction           {result.CompactionJobs} jobs in {result.CompactionSeconds:F1} s ({result.CompactionPointsPerSec / 1e6:F2} M decoded points/s)");
                Console.WriteLine($"accounting           {result.Points:N0} produced, {result.CompactedPointsIn:N0} in their jobs, {result.Missing:N0} missing, {result.Different:N0} different");
            }

            return accounted ? ExitCodes.Success : ExitCodes.VerifyMismatch;
        });
        return command;
    }

    private static Command Sink()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the benchmark topic.", DefaultValueFactory = _ => 32 };
        var budget = new Option<string?>("--budget") { Description = "The sink's buffer budget: bytes or a size such as 64MiB (default 64MiB)." };
        var command = new Command("sink", "Payloads/s through one sink worker (embedded cluster, local store) against a bare consumer reading the same messages in the same run.")
        {
            json,
            partitions,
            budget,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(partitions) is < 1 or > 256)
            {
                throw new CliException($"--partitions must be 1 to 256 (was {parse.GetValue(partitions)}).", ExitCodes.BadArguments);
            }

            var budgetBytes = parse.GetValue(budget) is { } b ? CompactionArguments.ParseBytes(b, "--budget") : 64L << 20;
            if (budgetBytes < 1L << 20)
            {
                throw new CliException($"--budget must be at least 1 MiB (was {CompactionArguments.Bytes(budgetBytes)}).", ExitCodes.BadArguments);
            }

            var result = await Tailor.Benchmarks.Sink.SinkBench.RunAsync(
                new Tailor.Benchmarks.Sink.SinkBenchOptions { Partitions = parse.GetValue(partitions), BufferBudgetBytes = budgetBytes },
                Console.Error, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.WriteLine($"payloads             {result.Payloads:N0} ({result.Bytes / 1048576.0:F0} MiB)");
                Console.WriteLine($"sink                 {result.PayloadsPerSec,10:F0} payloads/s");
                Console.WriteLine($"bare consumer        {result.BareConsumerPayloadsPerSec,10:F0} payloads/s (ratio {result.RatioToBareConsumer:F2})");
                Console.WriteLine($"peak working set     {result.PeakWorkingSetBytes / 1048576.0:F0} MiB (buffer budget {result.BufferBudgetBytes / 1048576.0:F0} MiB, peak buffered {result.PeakBufferedBytes / 1048576.0:F1} MiB)");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Compaction()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var memory = new Option<string?>("--memory") { Description = "The job's memory budget: bytes or a size such as 128MiB or 1GiB (default 128MiB)." };
        var points = new Option<long?>("--points") { Description = "Points to generate (default: decoded input 4.5 times the budget)." };
        var duck = new Option<int?>("--duckdb-points") { Description = "Points handed to the DuckDB peer, the first of the segments (default: every point of the job, as Tailor's)." };
        var jobs = new Option<int>("--jobs") { Description = "Jobs measured after the process's first; points/s is their median.", DefaultValueFactory = _ => 3 };
        var command = new Command("compaction", "End-to-end compaction on generated segments in a local store, input several times the memory budget, against the decompress-only ceiling and DuckDB doing the same job.")
        {
            json,
            memory,
            points,
            duck,
            jobs,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var memoryBytes = parse.GetValue(memory) is { } m ? CompactionArguments.ParseBytes(m, "--memory") : 128L << 20;
            if (memoryBytes < 16L << 20)
            {
                throw new CliException($"--memory must be at least 16 MiB (was {CompactionArguments.Bytes(memoryBytes)}).", ExitCodes.BadArguments);
            }

            if (parse.GetValue(duck) is < 1000)
            {
                throw new CliException($"--duckdb-points must be at least 1000 (was {parse.GetValue(duck)}).", ExitCodes.BadArguments);
            }

            if (parse.GetValue(points) is < 10_000)
            {
                throw new CliException($"--points must be at least 10,000 (was {parse.GetValue(points)}).", ExitCodes.BadArguments);
            }

            if (parse.GetValue(jobs) is < 1 or > 100)
            {
                throw new CliException($"--jobs must be 1 to 100 (was {parse.GetValue(jobs)}).", ExitCodes.BadArguments);
            }

            var result = await Tailor.Benchmarks.Compaction.CompactionBench.RunAsync(
                new Tailor.Benchmarks.Compaction.CompactionBenchOptions { MemoryBudgetBytes = memoryBytes, Points = parse.GetValue(points), DuckDbPoints = parse.GetValue(duck), MeasuredJobs = parse.GetValue(jobs) },
                Console.Error);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.WriteLine($"points               {result.Points:N0} ({result.InputToBudget:F1}x the budget decoded)");
                Console.WriteLine($"points/s             {result.PointsPerSec / 1e6,8:F2} M ({result.PointsPerSecPerCore / 1e6:F2} M per core; median of {string.Join(", ", result.MeasuredJobsPointsPerSec.Select(v => (v / 1e6).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))})");
                Console.WriteLine($"decompress only      {result.DecompressOnlyPointsPerSec / 1e6,8:F2} M/s on one core (ratio {result.RatioToDecompressCeiling:F2})");
                Console.WriteLine($"duckdb               {result.DuckDbPointsPerSec / 1e6,8:F2} M/s (ratio {result.RatioToDuckDb:F2})");
                Console.WriteLine($"gc pauses            {result.GcPauseFraction:P2} of wall time");
                Console.WriteLine($"allocated            {result.AllocatedBytesPerPoint:F4} bytes/point (first job of the process: {result.FirstJobAllocatedBytesPerPoint:F4}, {result.FirstJobPointsPerSec / 1e6:F2} M points/s)");
                Console.WriteLine($"peak working set     {result.PeakWorkingSetBytes / 1048576.0:F0} MiB, the whole process (the job's buffers stay within the {result.MemoryBudgetBytes / 1048576.0:F0} MiB budget)");
                Console.WriteLine($"bytes/point out      {result.BytesPerPointOut:F3}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Format()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var points = new Option<long>("--points") { Description = "Points in the segment corpus.", DefaultValueFactory = _ => 2_000_000 };
        var iterations = new Option<int>("--iterations") { Description = "Timed passes; the fastest counts.", DefaultValueFactory = _ => 5 };
        var codecSeries = new Option<int>("--codec-series") { Description = "Series in the codec corpus.", DefaultValueFactory = _ => 2_000 };
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
