using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tailor.Compaction;
using Tailor.Format.Payloads;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.Benchmarks.Query;

/// <summary>Options of the query benchmark's store (<see cref="QueryBenchStore"/>).</summary>
public sealed class QueryBenchStoreOptions
{
    /// <summary>Days of history of the queried org, ending at <see cref="End"/>. Default 90 (540 windows of 4 hours).</summary>
    public int Days { get; init; } = 90;

    /// <summary>Contexts (hosts) of the queried metric. Default 64.</summary>
    public int Contexts { get; init; } = 64;

    /// <summary>Contexts of each of the two metrics of the queried org that sort just before and after the queried one. Default 8.</summary>
    public int NeighbourContexts { get; init; } = 8;

    /// <summary>The interval of the queried org's series, seconds. Default 10 (an agent's default).</summary>
    public int IntervalSeconds { get; init; } = 10;

    /// <summary>Series of the other orgs' traffic (<see cref="WorkloadGenerator"/>) in the last window. Default 20,000.</summary>
    public int BackgroundSeries { get; init; } = 20_000;

    /// <summary>Other orgs (Zipf-sized). Default 200.</summary>
    public int BackgroundOrgs { get; init; } = 200;

    /// <summary>Shared shards of the shard map. Default 4, so the queried org's shard holds about 50 other orgs.</summary>
    public int SharedShards { get; init; } = 4;

    /// <summary>The end of the history (exclusive), Unix seconds; a window boundary. Default 2026-11-26T00:00Z.</summary>
    public long End { get; init; } = SeriesCorpus.DefaultWindowStart;

    /// <summary>The workload seed. Default 22.</summary>
    public ulong Seed { get; init; } = 22;
}

/// <summary>
/// The query benchmark's store, made as <c>tailor gen</c> makes one (payloads of realistic series
/// families written as segments by <see cref="DirectSegmentWriter"/>, routed by the shard map) and then
/// compacted window by window: one org (<see cref="OrgId"/>) with a host fleet reporting one metric
/// (<see cref="MetricId"/>, <see cref="QueryBenchStoreOptions.Contexts"/> contexts) and two neighbouring
/// metrics every 10 s for 90 days, in a shared shard that in the last window also holds the other orgs'
/// realistic traffic (200 Zipf-sized orgs, 20,000 series, with duplicates, late and resent points).
/// </summary>
public sealed class QueryBenchStore
{
    /// <summary>The queried org (below the generator's org ids, which start at 10,000).</summary>
    public const uint OrgId = 4242;

    /// <summary>The queried metric; metrics <c>MetricId - 1</c> and <c>MetricId + 1</c> are its neighbours in key order.</summary>
    public const ulong MetricId = 2;

    /// <summary>The object that marks a finished store and the options it was made with, so a kept folder is reused.</summary>
    public const string MarkerKey = "bench-query.json";

    private QueryBenchStore(ShardMap map, long start, long end, ulong[] contexts)
    {
        ShardMap = map;
        Start = start;
        End = end;
        Contexts = contexts;
    }

    /// <summary>The shard map the store was written with.</summary>
    public ShardMap ShardMap { get; }

    /// <summary>The first second of the history.</summary>
    public long Start { get; }

    /// <summary>The end of the history (exclusive).</summary>
    public long End { get; }

    /// <summary>The queried metric's context keys, in key order.</summary>
    public IReadOnlyList<ulong> Contexts { get; }

    /// <summary>The queried org's shard.</summary>
    public ShardName Shard => ShardMap.Route(OrgId);

    /// <summary>Points written to segments (the queried org's and the others').</summary>
    public long Points { get; private set; }

    /// <summary>Segment bytes written.</summary>
    public long SegmentBytes { get; private set; }

    /// <summary>S-file bytes written by compaction.</summary>
    public long SeriesBytes { get; private set; }

    /// <summary>Compaction jobs run (windows of the queried org's shard plus the other shards' last window).</summary>
    public int Jobs { get; private set; }

    /// <summary>Seconds spent generating segments.</summary>
    public double GenerateSeconds { get; private set; }

    /// <summary>Seconds spent compacting.</summary>
    public double CompactSeconds { get; private set; }

    /// <summary>Writes and compacts the store.</summary>
    /// <param name="store">An empty store.</param>
    /// <param name="options">What to write.</param>
    /// <param name="workFolder">Where compaction spills and stages files.</param>
    /// <param name="progress">Receives progress lines.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What the store holds.</returns>
    public static async Task<QueryBenchStore> BuildAsync(IObjectStore store, QueryBenchStoreOptions options, string workFolder, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var window = (long)CompactionWindow.DefaultLength.TotalSeconds;
        if (options.Days < 1 || options.Contexts < 1 || options.NeighbourContexts < 0 || options.IntervalSeconds < 1 || options.End % window != 0)
        {
            throw new ArgumentException("Days, Contexts and IntervalSeconds must be positive, NeighbourContexts not negative, End a window boundary.", nameof(options));
        }

        var map = new ShardMap(options.SharedShards);
        var start = options.End - (options.Days * 86_400L);
        var fleet = Fleet(options);
        var result = new QueryBenchStore(map, start, options.End, [.. fleet.Where(s => s.Metric == MetricId).Select(s => s.Context).Order()]);
        var recipe = JsonSerializer.Serialize(options);
        if (await store.GetInfoAsync(MarkerKey, cancellationToken).ConfigureAwait(false) is { } marker)
        {
            var bytes = new byte[marker.Size];
            await store.ReadAsync(MarkerKey, 0, bytes, cancellationToken).ConfigureAwait(false);
            var built = JsonSerializer.Deserialize<BuiltStore>(bytes);
            if (built is null || built.Recipe != recipe)
            {
                throw new InvalidOperationException($"{store.Name} holds a query benchmark store made with other options ({built?.Recipe}); give an empty folder or the same options.");
            }

            (result.Points, result.SegmentBytes, result.SeriesBytes, result.Jobs) = (built.Points, built.SegmentBytes, built.SeriesBytes, built.Jobs);
            await progress.WriteLineAsync($"reusing the store in {store.Name}: {result.Points:N0} points, {result.Jobs} jobs").ConfigureAwait(false);
            return result;
        }

        var watch = Stopwatch.StartNew();
        await using (var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = map }))
        {
            await WriteFleetAsync(writer, fleet, start, options.End, progress, cancellationToken).ConfigureAwait(false);
            await WriteBackgroundAsync(writer, options, cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            result.Points = writer.Points;
            result.SegmentBytes = writer.Bytes;
        }

        result.GenerateSeconds = watch.Elapsed.TotalSeconds;
        await progress.WriteLineAsync($"generated {result.Points:N0} points in {result.SegmentBytes / 1048576.0:F0} MiB of segments in {result.GenerateSeconds:F1} s; compacting {options.Days * 86_400L / window} windows …").ConfigureAwait(false);
        watch.Restart();
        var compaction = new CompactionOptions { WorkDirectory = workFolder };
        var runner = new CompactionRunner(store, compaction);
        var length = CompactionWindow.DefaultLength;
        for (var at = start; at < options.End; at += window)
        {
            var w = new CompactionWindow(DateTimeOffset.FromUnixTimeSeconds(at), length);
            var last = at + window == options.End;
            foreach (var shard in last ? map.AllShards : [result.Shard])
            {
                var report = await runner.RunAsync(shard, w, cancellationToken).ConfigureAwait(false);
                result.SeriesBytes += report.BytesOut;
                result.Jobs++;
            }

            if (result.Jobs % 90 == 0)
            {
                await progress.WriteLineAsync($"  {result.Jobs} jobs, {watch.Elapsed.TotalSeconds:F0} s").ConfigureAwait(false);
            }
        }

        result.CompactSeconds = watch.Elapsed.TotalSeconds;
        await store.PutAsync(MarkerKey, JsonSerializer.SerializeToUtf8Bytes(new BuiltStore(recipe, result.Points, result.SegmentBytes, result.SeriesBytes, result.Jobs)), cancellationToken).ConfigureAwait(false);
        await progress.WriteLineAsync($"compacted {result.Jobs} jobs into {result.SeriesBytes / 1048576.0:F0} MiB of S-files in {result.CompactSeconds:F1} s").ConfigureAwait(false);
        return result;
    }

    private static List<FleetSeries> Fleet(QueryBenchStoreOptions options)
    {
        var fleet = new List<FleetSeries>();
        void Add(ulong metric, string name, SeriesFamily family, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var seed = Mix(options.Seed, (metric << 32) | (uint)i);
                var host = string.Create(CultureInfo.InvariantCulture, $"web-{i:D3}");
                var tags = Encoding.UTF8.GetBytes($"metric:{name},env:prod,region:us-east-1,service:web,host:{host},type:gauge");
                fleet.Add(new FleetSeries(metric, seed, tags, SeriesGenerator.Create(family, options.IntervalSeconds, seed, 0)));
            }
        }

        Add(MetricId - 1, "system.load.1", SeriesFamily.IntegerGauge, options.NeighbourContexts);
        Add(MetricId, "system.cpu.user", SeriesFamily.RatioPercent, options.Contexts);
        Add(MetricId + 1, "system.mem.used", SeriesFamily.Step, options.NeighbourContexts);
        return fleet;
    }

    private static async Task WriteFleetAsync(DirectSegmentWriter writer, List<FleetSeries> fleet, long start, long end, TextWriter progress, CancellationToken cancellationToken)
    {
        const int Span = 300; // one payload per agent flush of 5 minutes, as the workload generator batches
        var generators = fleet.Select(s => SeriesGenerator.Create(s.Generator.Family, s.Generator.IntervalSeconds, s.Seed, start)).ToArray();
        var capacity = SeriesGenerator.GetMaxPointCount(1, Span);
        var timestamps = new long[capacity];
        var values = new double[capacity];
        // Level 1: the producer's choice of level changes the segments only, never the S-files, and the
        // default level made generating the 90 days the larger part of the benchmark's run time.
        using var payload = new PayloadWriter(new PayloadWriterOptions { CompressionLevel = 1 });
        var frame = new ArrayBufferWriter<byte>(1 << 16);
        var nextReport = start + (10 * 86_400L);
        for (var slice = start; slice < end; slice += Span)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sliceEnd = slice + Span;
            payload.Begin(OrgId, (sliceEnd * 1_000_000_000L) + 1_500_000_000L);
            for (var i = 0; i < fleet.Count; i++)
            {
                var n = generators[i].Fill(sliceEnd, timestamps, values);
                if (n > 0)
                {
                    payload.AddSeries(fleet[i].Metric, fleet[i].Context, fleet[i].Tags, timestamps.AsSpan(0, n), values.AsSpan(0, n));
                }
            }

            frame.ResetWrittenCount();
            payload.Complete(frame);
            await writer.WriteAsync(frame.WrittenMemory, cancellationToken).ConfigureAwait(false);
            if (sliceEnd >= nextReport)
            {
                nextReport += 10 * 86_400L;
                await progress.WriteLineAsync($"  {(sliceEnd - start) / 86_400} of {(end - start) / 86_400} days, {writer.Points:N0} points").ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteBackgroundAsync(DirectSegmentWriter writer, QueryBenchStoreOptions options, CancellationToken cancellationToken)
    {
        if (options.BackgroundSeries < 1)
        {
            return;
        }

        var window = (long)CompactionWindow.DefaultLength.TotalSeconds;
        using var generator = new WorkloadGenerator(new WorkloadOptions
        {
            Seed = options.Seed,
            Orgs = options.BackgroundOrgs,
            Series = options.BackgroundSeries,
            StartTime = options.End - window,
            EndTime = options.End,
        });
        var frame = new ArrayBufferWriter<byte>(1 << 16);
        while (generator.TryNext(frame, out _))
        {
            await writer.WriteAsync(frame.WrittenMemory, cancellationToken).ConfigureAwait(false);
            frame.ResetWrittenCount();
        }
    }

    /// <summary>SplitMix64's finaliser over two words: stable ids and seeds from the bench's seed.</summary>
    private static ulong Mix(ulong a, ulong b)
    {
        var z = a + (b * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private sealed record BuiltStore(string Recipe, long Points, long SegmentBytes, long SeriesBytes, int Jobs);

    private sealed record FleetSeries(ulong Metric, ulong Seed, byte[] Tags, SeriesGenerator Generator)
    {
        public ulong Context { get; } = Mix(Seed, 0xC0_47E7);
    }
}
