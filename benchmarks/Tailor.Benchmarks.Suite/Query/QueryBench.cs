using System.Diagnostics;
using System.Text.Json.Serialization;
using Tailor.Compaction;
using Tailor.Query;
using Tailor.Storage;

namespace Tailor.Benchmarks.Query;

/// <summary>Exports the parts of one (shard, window) as Parquet files into a folder and returns their paths (<c>tailor export</c>'s work).</summary>
/// <param name="store">The store.</param>
/// <param name="shard">The shard.</param>
/// <param name="window">The window.</param>
/// <param name="folder">The output folder.</param>
/// <param name="cancellationToken">Cancels the export.</param>
/// <returns>The files written.</returns>
public delegate Task<IReadOnlyList<string>> ParquetExporter(IObjectStore store, ShardName shard, CompactionWindow window, string folder, CancellationToken cancellationToken);

/// <summary>Options of <see cref="QueryBench"/>.</summary>
public sealed class QueryBenchOptions
{
    /// <summary>The store to build; defaults documented on each property.</summary>
    public QueryBenchStoreOptions Store { get; init; } = new();

    /// <summary>The delay the remote store adds to every call (lookup and long-range figures). Default 20 ms.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Days of the aggregate query, ending at the store's end. Default 7.</summary>
    public int AggregateDays { get; init; } = 7;

    /// <summary>The aggregate's step. Default 60 s.</summary>
    public int StepSeconds { get; init; } = 60;

    /// <summary>Timed runs of the warm long-range query and of the aggregate (Tailor's median counts) and of DuckDB's (its fastest counts). Default 5.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>
    /// Where the store, work files and Parquet files go, kept after the run; a store found there that was
    /// made with the same store options is reused instead of generated again. Default: a temporary
    /// folder, deleted after.
    /// </summary>
    public string? Folder { get; init; }
}

/// <summary>The figures of <c>tailor bench query</c> (docs/benchmarks.md, Query).</summary>
public sealed class QueryBenchResult
{
    /// <summary>Range reads (GETs) of a cold engine for one series in one window. Target ≤ 3.</summary>
    [JsonPropertyName("lookup_reads_cold")] public long LookupReadsCold { get; set; }

    /// <summary>Range reads of the same lookup again, cache warm. Target ≤ 1.</summary>
    [JsonPropertyName("lookup_reads_warm")] public long LookupReadsWarm { get; set; }

    /// <summary>Of the cold lookup's range reads, those of manifests (the shard's, and the probe of the org's own shard); the rest are S-file reads.</summary>
    [JsonPropertyName("lookup_manifest_reads_cold")] public long LookupManifestReadsCold { get; set; }

    /// <summary>Of the warm lookup's range reads, those of manifests.</summary>
    [JsonPropertyName("lookup_manifest_reads_warm")] public long LookupManifestReadsWarm { get; set; }

    /// <summary>Every store call of the cold lookup (range reads, HEADs, listings).</summary>
    [JsonPropertyName("lookup_calls_cold")] public long LookupCallsCold { get; set; }

    /// <summary>Every store call of the warm lookup.</summary>
    [JsonPropertyName("lookup_calls_warm")] public long LookupCallsWarm { get; set; }

    /// <summary>Seconds of the cold lookup through the remote store.</summary>
    [JsonPropertyName("lookup_seconds_cold")] public double LookupSecondsCold { get; set; }

    /// <summary>Seconds of the warm lookup.</summary>
    [JsonPropertyName("lookup_seconds_warm")] public double LookupSecondsWarm { get; set; }

    /// <summary>One series over the whole history (540 windows for 90 days), warm cache, through the remote store: the median run's seconds. Target ≤ 0.4.</summary>
    [JsonPropertyName("long_range_seconds")] public double LongRangeSeconds { get; set; }

    /// <summary>Every warm run's seconds, in order.</summary>
    [JsonPropertyName("long_range_runs_seconds")] public double[] LongRangeRunsSeconds { get; set; } = [];

    /// <summary>The same query's first, cold run.</summary>
    [JsonPropertyName("long_range_cold_seconds")] public double LongRangeColdSeconds { get; set; }

    /// <summary>Windows of the long range.</summary>
    [JsonPropertyName("long_range_windows")] public int LongRangeWindows { get; set; }

    /// <summary>Range reads of the median warm run.</summary>
    [JsonPropertyName("long_range_reads_warm")] public long LongRangeReadsWarm { get; set; }

    /// <summary>Of the median warm run's range reads, those of manifests.</summary>
    [JsonPropertyName("long_range_manifest_reads_warm")] public long LongRangeManifestReadsWarm { get; set; }

    /// <summary>Every store call of the median warm run.</summary>
    [JsonPropertyName("long_range_calls_warm")] public long LongRangeCallsWarm { get; set; }

    /// <summary>Points of the long-range series.</summary>
    [JsonPropertyName("long_range_points")] public long LongRangePoints { get; set; }

    /// <summary>Points the aggregate folds: every context of the metric in the aggregate range.</summary>
    [JsonPropertyName("aggregate_points")] public long AggregatePoints { get; set; }

    /// <summary>Series of the aggregate.</summary>
    [JsonPropertyName("aggregate_series")] public int AggregateSeries { get; set; }

    /// <summary>Points over the process's CPU seconds (all threads) during the median run, local store. Target ≥ 150 M.</summary>
    [JsonPropertyName("aggregate_points_per_sec_per_core")] public double AggregatePointsPerSecPerCore { get; set; }

    /// <summary>Points over the median run's wall seconds.</summary>
    [JsonPropertyName("aggregate_points_per_sec")] public double AggregatePointsPerSec { get; set; }

    /// <summary>The median run's wall seconds.</summary>
    [JsonPropertyName("aggregate_seconds")] public double AggregateSeconds { get; set; }

    /// <summary>The median run's CPU seconds.</summary>
    [JsonPropertyName("aggregate_cpu_seconds")] public double AggregateCpuSeconds { get; set; }

    /// <summary>DuckDB's fastest run: the same points over its CPU seconds.</summary>
    [JsonPropertyName("duckdb_points_per_sec_per_core")] public double DuckDbPointsPerSecPerCore { get; set; }

    /// <summary>DuckDB's fastest run: the same points over its wall seconds.</summary>
    [JsonPropertyName("duckdb_points_per_sec")] public double DuckDbPointsPerSec { get; set; }

    /// <summary>DuckDB's fastest run's wall seconds.</summary>
    [JsonPropertyName("duckdb_seconds")] public double DuckDbSeconds { get; set; }

    /// <summary>Tailor's points/s per core over DuckDB's. Target ≥ 3.</summary>
    [JsonPropertyName("ratio_to_duckdb")] public double RatioToDuckDb { get; set; }

    /// <summary>Tailor's wall-clock points/s over DuckDB's.</summary>
    [JsonPropertyName("ratio_to_duckdb_wall")] public double RatioToDuckDbWall { get; set; }

    /// <summary>Parquet files DuckDB read (the parts of the aggregate's windows, exported by tailor export).</summary>
    [JsonPropertyName("duckdb_parquet_files")] public int DuckDbParquetFiles { get; set; }

    /// <summary>Whether DuckDB's answer equals the reference's.</summary>
    [JsonPropertyName("duckdb_matches_reference")] public bool DuckDbMatchesReference { get; set; }

    /// <summary>Whether the lookup, the long range and the aggregate each equal the brute-force reference, and DuckDB's answer too.</summary>
    [JsonPropertyName("results_match_reference")] public bool ResultsMatchReference { get; set; }

    /// <summary>What did not match, empty when everything did.</summary>
    [JsonPropertyName("mismatches")] public List<string> Mismatches { get; set; } = [];

    /// <summary>Points the reference decoded (every point of every part it read).</summary>
    [JsonPropertyName("reference_points_scanned")] public long ReferencePointsScanned { get; set; }

    /// <summary>Points written to the store's segments.</summary>
    [JsonPropertyName("store_points")] public long StorePoints { get; set; }

    /// <summary>Compaction jobs that made the store.</summary>
    [JsonPropertyName("store_jobs")] public int StoreJobs { get; set; }

    /// <summary>S-file bytes of the store.</summary>
    [JsonPropertyName("store_series_bytes")] public long StoreSeriesBytes { get; set; }

    /// <summary>Seconds generating and compacting the store.</summary>
    [JsonPropertyName("store_build_seconds")] public double StoreBuildSeconds { get; set; }

    /// <summary>The added latency per store call, ms.</summary>
    [JsonPropertyName("latency_ms")] public double LatencyMs { get; set; }

    /// <summary>Processor count.</summary>
    [JsonPropertyName("cores")] public int Cores { get; set; } = Environment.ProcessorCount;

    /// <summary>The machine and runtime settings of the run.</summary>
    [JsonPropertyName("machine")] public string Machine { get; set; } = Benchmarks.Machine.Describe();

    /// <summary>Seconds of the whole benchmark.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
}

/// <summary>
/// <c>tailor bench query</c>: the read side on a store made like <c>tailor gen</c> makes one — range reads
/// of a lookup cold and warm and a 90-day series through a store that adds 20 ms to every call, an
/// aggregate over every context of a metric for 7 days on the local store against DuckDB over the same
/// points in Parquet — every answer checked against a brute-force scan of the S-files.
/// </summary>
public static class QueryBench
{
    /// <summary>Builds the store and measures.</summary>
    /// <param name="options">The options.</param>
    /// <param name="export">Writes Parquet files of a (shard, window), as <c>tailor export</c> does.</param>
    /// <param name="progress">Receives progress lines.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The figures.</returns>
    public static async Task<QueryBenchResult> RunAsync(QueryBenchOptions options, ParquetExporter export, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(progress);
        var total = Stopwatch.StartNew();
        var folder = options.Folder ?? Path.Combine(Path.GetTempPath(), $"tailor-bench-query-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var storeFolder = Path.Combine(folder, "store");
            Directory.CreateDirectory(storeFolder);
            await using var local = ObjectStoreFactory.Open(new Uri(storeFolder).AbsoluteUri);
            var data = await QueryBenchStore.BuildAsync(local, options.Store, Path.Combine(folder, "work"), progress, cancellationToken).ConfigureAwait(false);
            var result = new QueryBenchResult
            {
                StorePoints = data.Points,
                StoreJobs = data.Jobs,
                StoreSeriesBytes = data.SeriesBytes,
                StoreBuildSeconds = Math.Round(data.GenerateSeconds + data.CompactSeconds, 2),
                LatencyMs = options.Latency.TotalMilliseconds,
            };

            var window = (long)CompactionWindow.DefaultLength.TotalSeconds;
            var context = data.Contexts[0];
            var aggregateFrom = data.End - (options.AggregateDays * 86_400L);
            await progress.WriteLineAsync("reference: scanning every part of every window …").ConfigureAwait(false);
            var reference = await QueryReference.ScanAsync(local, [data.Shard, ShardName.Dedicated(QueryBenchStore.OrgId)], QueryBenchStore.OrgId, QueryBenchStore.MetricId,
                context, data.Start, data.End, aggregateFrom, data.End, options.StepSeconds, cancellationToken).ConfigureAwait(false);
            result.ReferencePointsScanned = reference.PointsScanned;

            var engineOptions = new QueryEngineOptions { ShardMap = data.ShardMap, MaxPoints = long.MaxValue / 4, MaxMemoryBytes = 4L << 30 };
            var remote = new LatencyObjectStore(local, options.Latency);

            // One series in one window (the last, where the shard also holds the other orgs), cold then warm.
            await progress.WriteLineAsync("lookup: one series, one window, cold then warm …").ConfigureAwait(false);
            var lookupEngine = new QueryEngine(remote, engineOptions);
            var lookup = new QueryRequest { OrgId = QueryBenchStore.OrgId, MetricId = QueryBenchStore.MetricId, Contexts = [context], From = data.End - window, To = data.End };
            var expectedLookup = reference.Series.Where(p => p.T >= data.End - window).ToList();
            var cold = await MeasureAsync(lookupEngine, remote, lookup, cancellationToken).ConfigureAwait(false);
            Check(result, "lookup (cold)", cold.Points, expectedLookup);
            var warm = await MeasureAsync(lookupEngine, remote, lookup, cancellationToken).ConfigureAwait(false);
            Check(result, "lookup (warm)", warm.Points, expectedLookup);
            (result.LookupReadsCold, result.LookupManifestReadsCold, result.LookupCallsCold, result.LookupSecondsCold) = (cold.Reads, cold.ManifestReads, cold.Calls, Math.Round(cold.Seconds, 4));
            (result.LookupReadsWarm, result.LookupManifestReadsWarm, result.LookupCallsWarm, result.LookupSecondsWarm) = (warm.Reads, warm.ManifestReads, warm.Calls, Math.Round(warm.Seconds, 4));

            // One series over the whole history: a first run fills the cache, then the warm runs are timed.
            await progress.WriteLineAsync($"long range: one series over {options.Store.Days} days, cold once, then {options.Runs} warm runs …").ConfigureAwait(false);
            var longEngine = new QueryEngine(remote, engineOptions);
            var longRange = lookup with { From = data.Start, To = data.End };
            var longCold = await MeasureAsync(longEngine, remote, longRange, cancellationToken).ConfigureAwait(false);
            Check(result, "long range (cold)", longCold.Points, reference.Series);
            result.LongRangeColdSeconds = Math.Round(longCold.Seconds, 3);
            result.LongRangeWindows = longEngine.WindowsOf(data.Start, data.End).Count;
            result.LongRangePoints = reference.Series.Count;
            var longRuns = new List<Measured>();
            for (var i = 0; i < options.Runs; i++)
            {
                var run = await MeasureAsync(longEngine, remote, longRange, cancellationToken).ConfigureAwait(false);
                Check(result, $"long range (warm run {i + 1})", run.Points, reference.Series);
                longRuns.Add(run);
            }

            var longMedian = longRuns.OrderBy(r => r.Seconds).ElementAt(longRuns.Count / 2);
            result.LongRangeSeconds = Math.Round(longMedian.Seconds, 4);
            result.LongRangeRunsSeconds = [.. longRuns.Select(r => Math.Round(r.Seconds, 4))];
            (result.LongRangeReadsWarm, result.LongRangeManifestReadsWarm, result.LongRangeCallsWarm) = (longMedian.Reads, longMedian.ManifestReads, longMedian.Calls);

            // Every context of the metric over the aggregate range at the step, avg and max, local store.
            await progress.WriteLineAsync($"aggregate: {data.Contexts.Count} contexts over {options.AggregateDays} days at {options.StepSeconds} s, avg and max, {options.Runs} runs …").ConfigureAwait(false);
            var aggregateEngine = new QueryEngine(local, engineOptions);
            var aggregate = new QueryRequest
            {
                OrgId = QueryBenchStore.OrgId,
                MetricId = QueryBenchStore.MetricId,
                From = aggregateFrom,
                To = data.End,
                Step = TimeSpan.FromSeconds(options.StepSeconds),
                Aggregations = [QueryAggregation.Avg, QueryAggregation.Max],
            };
            await AggregateAsync(aggregateEngine, aggregate, cancellationToken).ConfigureAwait(false); // fills the cache and the JIT
            var runs = new List<(double Seconds, double Cpu, AggregateAnswer Answer)>();
            using var process = Process.GetCurrentProcess();
            for (var i = 0; i < options.Runs; i++)
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var started = Stopwatch.GetTimestamp();
                var answer = await AggregateAsync(aggregateEngine, aggregate, cancellationToken).ConfigureAwait(false);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                process.Refresh();
                runs.Add((seconds, (process.TotalProcessorTime - cpu).TotalSeconds, answer));
            }

            var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
            CheckAggregate(result, "aggregate", median.Answer, reference);
            result.AggregatePoints = reference.AggregatePoints;
            result.AggregateSeries = median.Answer.Series;
            result.AggregateSeconds = Math.Round(median.Seconds, 4);
            result.AggregateCpuSeconds = Math.Round(median.Cpu, 4);
            result.AggregatePointsPerSec = Math.Round(reference.AggregatePoints / median.Seconds);
            result.AggregatePointsPerSecPerCore = Math.Round(reference.AggregatePoints / Math.Max(median.Cpu, 1e-6));

            // DuckDB: the same aggregate over the same parts exported to Parquet by tailor export.
            await progress.WriteLineAsync("duckdb: exporting the aggregate's windows to Parquet, then the same aggregate …").ConfigureAwait(false);
            var parquet = Path.Combine(folder, "parquet");
            if (Directory.Exists(parquet))
            {
                Directory.Delete(parquet, recursive: true);
            }

            Directory.CreateDirectory(parquet);
            var files = new List<string>();
            for (var at = aggregateFrom - (aggregateFrom % window); at < data.End; at += window)
            {
                files.AddRange(await export(local, data.Shard, new CompactionWindow(DateTimeOffset.FromUnixTimeSeconds(at), CompactionWindow.DefaultLength), parquet, cancellationToken).ConfigureAwait(false));
            }

            result.DuckDbParquetFiles = files.Count;
            var duck = DuckDbAggregate.Run(files, QueryBenchStore.OrgId, QueryBenchStore.MetricId, aggregateFrom, data.End, options.StepSeconds, Environment.ProcessorCount, options.Runs);
            result.DuckDbMatchesReference = CheckDuckDb(result, duck.Answer, reference);
            result.DuckDbSeconds = Math.Round(duck.Seconds, 4);
            result.DuckDbPointsPerSec = Math.Round(reference.AggregatePoints / duck.Seconds);
            result.DuckDbPointsPerSecPerCore = Math.Round(reference.AggregatePoints / Math.Max(duck.CpuSeconds, 1e-6));
            result.RatioToDuckDb = Math.Round(result.AggregatePointsPerSecPerCore / Math.Max(result.DuckDbPointsPerSecPerCore, 1), 3);
            result.RatioToDuckDbWall = Math.Round(result.AggregatePointsPerSec / Math.Max(result.DuckDbPointsPerSec, 1), 3);

            result.ResultsMatchReference = result.Mismatches.Count == 0 && reference.Series.Count > 0 && reference.AggregatePoints > 0;
            result.Seconds = Math.Round(total.Elapsed.TotalSeconds, 1);
            return result;
        }
        finally
        {
            if (options.Folder is null)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<Measured> MeasureAsync(QueryEngine engine, LatencyObjectStore store, QueryRequest request, CancellationToken cancellationToken)
    {
        var (reads, manifests, calls) = (store.RangeReads, store.ManifestReads, store.Calls);
        var started = Stopwatch.GetTimestamp();
        using var result = await engine.QueryAsync(request, cancellationToken).ConfigureAwait(false);
        var points = new List<(long T, double V)>();
        await foreach (var series in result.ReadSeriesAsync(cancellationToken).ConfigureAwait(false))
        {
            var timestamps = series.Timestamps.Span;
            var values = series.Values.Span;
            for (var i = 0; i < timestamps.Length; i++)
            {
                points.Add((timestamps[i], values[i]));
            }
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (result.AbsentWindows.Count > 0)
        {
            throw new InvalidOperationException($"{result.AbsentWindows.Count} windows of the query are absent: the store is not fully compacted.");
        }

        return new Measured(seconds, store.RangeReads - reads, store.ManifestReads - manifests, store.Calls - calls, points);
    }

    private static async Task<AggregateAnswer> AggregateAsync(QueryEngine engine, QueryRequest request, CancellationToken cancellationToken)
    {
        using var result = await engine.QueryAsync(request, cancellationToken).ConfigureAwait(false);
        var answer = new AggregateAnswer();
        await foreach (var series in result.ReadSeriesAsync(cancellationToken).ConfigureAwait(false))
        {
            answer.Columns.Add((series.ContextKey, series.Timestamps, series.GetColumn(QueryAggregation.Avg), series.GetColumn(QueryAggregation.Max)));
            answer.Series++;
        }

        return answer;
    }

    private static void Check(QueryBenchResult result, string what, List<(long T, double V)> found, IReadOnlyList<(long T, double V)> expected)
    {
        if (found.Count != expected.Count)
        {
            result.Mismatches.Add($"{what}: {found.Count} points, the reference has {expected.Count}");
            return;
        }

        for (var i = 0; i < found.Count; i++)
        {
            if (found[i].T != expected[i].T || BitConverter.DoubleToInt64Bits(found[i].V) != BitConverter.DoubleToInt64Bits(expected[i].V))
            {
                result.Mismatches.Add($"{what}: point {i} is ({found[i].T}, {found[i].V}), the reference's ({expected[i].T}, {expected[i].V})");
                return;
            }
        }
    }

    private static void CheckAggregate(QueryBenchResult result, string what, AggregateAnswer answer, QueryReference reference)
    {
        long rows = 0;
        foreach (var (contextKey, timestamps, avg, max) in answer.Columns)
        {
            for (var i = 0; i < timestamps.Length; i++)
            {
                rows++;
                if (!reference.Buckets.TryGetValue((contextKey, timestamps.Span[i]), out var bucket))
                {
                    result.Mismatches.Add($"{what}: context {contextKey} has a step at {timestamps.Span[i]} that the reference has no point in");
                    return;
                }

                if (!Close(avg.Span[i], bucket.Avg) || max.Span[i] != bucket.Max)
                {
                    result.Mismatches.Add($"{what}: context {contextKey} at {timestamps.Span[i]}: avg {avg.Span[i]}, max {max.Span[i]}; the reference's {bucket.Avg}, {bucket.Max}");
                    return;
                }
            }
        }

        if (rows != reference.Buckets.Count)
        {
            result.Mismatches.Add($"{what}: {rows} steps, the reference has {reference.Buckets.Count}");
        }
    }

    private static bool CheckDuckDb(QueryBenchResult result, Dictionary<(ulong Context, long Bucket), DuckDbAggregate.Row> answer, QueryReference reference)
    {
        var before = result.Mismatches.Count;
        if (answer.Count != reference.Buckets.Count)
        {
            result.Mismatches.Add($"duckdb: {answer.Count} steps, the reference has {reference.Buckets.Count}");
        }
        else
        {
            foreach (var (key, bucket) in reference.Buckets)
            {
                if (!answer.TryGetValue(key, out var row) || row.Count != bucket.Count || row.Max != bucket.Max || !Close(row.Avg, bucket.Avg))
                {
                    result.Mismatches.Add($"duckdb: context {key.Context} at {key.Bucket} differs from the reference");
                    break;
                }
            }
        }

        return result.Mismatches.Count == before;
    }

    /// <summary>Means summed in another order differ in the last bits; 1e-9 relative is far below any wrong answer.</summary>
    private static bool Close(double a, double b) => a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    private sealed record Measured(double Seconds, long Reads, long ManifestReads, long Calls, List<(long T, double V)> Points);

    private sealed class AggregateAnswer
    {
        public List<(ulong Context, ReadOnlyMemory<long> Timestamps, ReadOnlyMemory<double> Avg, ReadOnlyMemory<double> Max)> Columns { get; } = [];

        public int Series { get; set; }
    }
}
