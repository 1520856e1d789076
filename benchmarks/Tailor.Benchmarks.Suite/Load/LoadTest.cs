using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using Tailor.Compaction;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Benchmarks.Load;

/// <summary>Options of <see cref="LoadTest"/>.</summary>
public sealed class LoadTestOptions
{
    /// <summary>Payloads per second the producer offers. Default 4,000 (ten times the demo's).</summary>
    public double PayloadsPerSecond { get; init; } = 4_000;

    /// <summary>How long traffic is offered. Default 30 seconds.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Partitions over two topics. Default 16.</summary>
    public int Partitions { get; init; } = 16;

    /// <summary>Series in the workload. Default 200,000: ten times the demo's population, each sending as the demo's do.</summary>
    public int Series { get; init; } = 200_000;

    /// <summary>The sink's buffer budget. Default 128 MiB.</summary>
    public long BufferBudgetBytes { get; init; } = 128L << 20;

    /// <summary>
    /// The <c>tailor</c> program (its .dll): the traffic comes from a <c>tailor gen --to-kafka</c> child
    /// process, stopped with SIGTERM after <see cref="Duration"/>. Required.
    /// </summary>
    public required string TailorProgram { get; init; }

    /// <summary>Compaction's memory budget. Default 512 MiB.</summary>
    public long CompactionMemoryBytes { get; init; } = 512L << 20;
}

/// <summary>One second of the run.</summary>
public sealed record LoadSample(
    [property: JsonPropertyName("second")] int Second,
    [property: JsonPropertyName("produced")] long Produced,
    [property: JsonPropertyName("consumed")] long Consumed,
    [property: JsonPropertyName("lag")] long Lag,
    [property: JsonPropertyName("buffered_bytes")] long BufferedBytes,
    [property: JsonPropertyName("paused_partitions")] int PausedPartitions,
    [property: JsonPropertyName("segments")] long Segments);

/// <summary>The figures of a load test run.</summary>
public sealed class LoadTestResult
{
    /// <summary>Offered payloads per second.</summary>
    [JsonPropertyName("offered_payloads_per_sec")] public double OfferedPayloadsPerSec { get; set; }

    /// <summary>Payloads per second the producer achieved.</summary>
    [JsonPropertyName("produced_payloads_per_sec")] public double ProducedPayloadsPerSec { get; set; }

    /// <summary>Payloads per second the sink consumed over the traffic period.</summary>
    [JsonPropertyName("sink_payloads_per_sec")] public double SinkPayloadsPerSec { get; set; }

    /// <summary>Points per second offered.</summary>
    [JsonPropertyName("points_per_sec")] public double PointsPerSec { get; set; }

    /// <summary>The largest consumer lag seen (payloads).</summary>
    [JsonPropertyName("max_lag")] public long MaxLag { get; set; }

    /// <summary>Seconds after the producer stopped until the sink had everything.</summary>
    [JsonPropertyName("drain_seconds")] public double DrainSeconds { get; set; }

    /// <summary>Payloads produced.</summary>
    [JsonPropertyName("payloads")] public long Payloads { get; set; }

    /// <summary>Points produced.</summary>
    [JsonPropertyName("points")] public long Points { get; set; }

    /// <summary>Compaction: jobs, seconds and points per second over every job.</summary>
    [JsonPropertyName("compaction_jobs")] public int CompactionJobs { get; set; }

    /// <summary>
    /// Points of the jobs' own windows, duplicates included (a segment is read by every window its points
    /// touch): equal to <see cref="Points"/> when every produced point reached its job.
    /// </summary>
    [JsonPropertyName("compacted_points_in")] public long CompactedPointsIn { get; set; }

    /// <summary>Compaction seconds over every job.</summary>
    [JsonPropertyName("compaction_seconds")] public double CompactionSeconds { get; set; }

    /// <summary>Compaction points per second.</summary>
    [JsonPropertyName("compaction_points_per_sec")] public double CompactionPointsPerSec { get; set; }

    /// <summary>Compaction seconds per stage, summed over jobs.</summary>
    [JsonPropertyName("compaction_stage_seconds")] public Dictionary<string, double> CompactionStageSeconds { get; set; } = [];

    /// <summary>Points the S-files should hold and do not.</summary>
    [JsonPropertyName("missing")] public long Missing { get; set; }

    /// <summary>Points found different.</summary>
    [JsonPropertyName("different")] public long Different { get; set; }

    /// <summary>Points expected.</summary>
    [JsonPropertyName("expected")] public long Expected { get; set; }

    /// <summary>Per-second samples of lag and the sink's memory.</summary>
    [JsonPropertyName("samples")] public List<LoadSample> Samples { get; set; } = [];

    /// <summary>The machine.</summary>
    [JsonPropertyName("machine")] public string Machine { get; set; } = Tailor.Benchmarks.Machine.Describe();
}

/// <summary>
/// The load test: realistic traffic offered at a fixed rate to an embedded cluster, one sink worker
/// consuming it into a local store, then compaction of every job and verification — with the lag,
/// the sink's memory and the compaction stage timings recorded to find the stage that slows first.
/// </summary>
public static class LoadTest
{
    /// <summary>Runs the load test.</summary>
    public static async Task<LoadTestResult> RunAsync(LoadTestOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        string[] topics = ["tailor-load-a", "tailor-load-b"];
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions
        {
            Topics = topics.ToDictionary(t => t, _ => options.Partitions / 2),
            InitialRebalanceDelay = TimeSpan.Zero,
        });
        var root = Path.Combine(Path.GetTempPath(), $"tailor-load-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, "store"));
        try
        {
            await using var store = new LocalObjectStore(Path.Combine(root, "store"));
            using var source = new KafkaPayloadSource(new KafkaPayloadSourceOptions
            {
                BootstrapServers = cluster.BootstrapServers,
                Topics = topics,
                GroupId = "tailor-load",
                SessionTimeout = TimeSpan.FromSeconds(6),
                HeartbeatInterval = TimeSpan.FromSeconds(1),
                FetchWaitMax = TimeSpan.FromMilliseconds(100),
            });
            var sink = new SinkEngine(new SinkOptions { BufferBudgetBytes = options.BufferBudgetBytes, ShardMap = new ShardMap(16) }, store, source);
            using var stopSink = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sinkRun = sink.RunAsync(stopSink.Token);

            var result = new LoadTestResult { OfferedPayloadsPerSec = options.PayloadsPerSecond };
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var start = now - (6 * 3600);
            var partitions = topics.SelectMany(t => Enumerable.Range(0, options.Partitions / 2).Select(p => new TopicPartition(t, p))).ToList();
            var workload = new WorkloadOptions { Seed = 3, Series = options.Series, Orgs = 2000, StartTime = start };
            var clock = Stopwatch.StartNew();
            var nextSample = 1;
            progress?.WriteLine($"offering {options.PayloadsPerSecond:N0} payloads/s for {options.Duration.TotalSeconds:F0} s from tailor gen --to-kafka...");
            using (var watermarks = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "tailor-load-watermarks" })
                .SetLogHandler((_, _) => { }).Build())
            {
                long Produced() => partitions.Sum(tp => watermarks.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High.Value);
                (result.Payloads, result.Points) = await GenToKafkaAsync(options.TailorProgram, cluster.BootstrapServers, topics, workload, options, Produced, clock,
                    () =>
                    {
                        if (clock.Elapsed.TotalSeconds >= nextSample)
                        {
                            result.Samples.Add(Sample(nextSample++, Produced(), sink));
                        }
                    }, cancellationToken);
            }

            var produced = result.Payloads;
            var trafficSeconds = clock.Elapsed.TotalSeconds;
            result.ProducedPayloadsPerSec = produced / trafficSeconds;
            result.PointsPerSec = result.Points / trafficSeconds;
            var drain = Stopwatch.StartNew();
            while (sink.Status.Payloads + sink.Status.DeadLetters < produced && drain.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(100, cancellationToken);
                if (clock.Elapsed.TotalSeconds >= nextSample)
                {
                    result.Samples.Add(Sample(nextSample++, produced, sink));
                }
            }

            result.DrainSeconds = drain.Elapsed.TotalSeconds;
            result.SinkPayloadsPerSec = sink.Status.Payloads / (trafficSeconds + result.DrainSeconds);
            result.MaxLag = result.Samples.Count == 0 ? 0 : result.Samples.Max(s => s.Lag);
            await stopSink.CancelAsync();
            await sinkRun;
            await sink.DisposeAsync();

            progress?.WriteLine("compacting every job...");
            // Traffic this fast carries hours of data time in seconds of wall time, so its segments (keyed
            // by the wall-clock hour) hold points far from their hour: widen the allowances to cover them.
            var compaction = new CompactionOptions
            {
                MemoryBudgetBytes = options.CompactionMemoryBytes,
                WorkDirectory = Path.Combine(root, "work"),
                EarlyAllowance = TimeSpan.FromHours(12),
                LateAllowance = TimeSpan.FromHours(12),
            };
            var jobs = new List<CompactionJob>();
            var planner = new CompactionPlanner(store, compaction);
            // Data time runs ahead of the wall clock here: plan every window the widened allowance can reach.
            var lastStart = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + (long)compaction.EarlyAllowance.TotalSeconds;
            for (var w = CompactionWindow.Containing(start, CompactionWindow.DefaultLength); w.StartSeconds <= lastStart; w = new CompactionWindow(w.End, w.Length))
            {
                jobs.AddRange((await planner.PlanAllAsync(w, cancellationToken)).Where(j => j.Inputs.Count > 0));
            }

            var runner = new CompactionRunner(store, compaction);
            var compactClock = Stopwatch.StartNew();
            long pointsIn = 0;
            long inWindow = 0;
            foreach (var job in jobs)
            {
                var report = await runner.RunAsync(job, cancellationToken);
                pointsIn += report.PointsIn;
                inWindow += report.PointsOut + report.DuplicatesDropped;
                foreach (var (stage, seconds) in report.StageSeconds)
                {
                    result.CompactionStageSeconds[stage] = Math.Round(result.CompactionStageSeconds.GetValueOrDefault(stage) + seconds, 3);
                }
            }

            result.CompactionJobs = jobs.Count;
            result.CompactedPointsIn = inWindow;
            result.CompactionSeconds = compactClock.Elapsed.TotalSeconds;
            result.CompactionPointsPerSec = pointsIn / Math.Max(1e-9, result.CompactionSeconds);
            progress?.WriteLine("verifying...");
            var verifier = new CompactionVerifier(store, compaction);
            foreach (var job in jobs)
            {
                var v = await verifier.VerifyAsync(job.Shard, job.Window, cancellationToken);
                result.Expected += v.Expected;
                result.Missing += v.Missing;
                result.Different += v.Different;
            }

            return result;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Runs <c>tailor gen --to-kafka</c> with the load test's workload, stops it with SIGTERM after the
    /// duration (it flushes and prints its summary), and returns the payloads and points it produced.
    /// </summary>
    private static async Task<(long Payloads, long Points)> GenToKafkaAsync(string program, string brokers, string[] topics, WorkloadOptions workload,
        LoadTestOptions options, Func<long> produced, Stopwatch traffic, Action everySecond, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "exec", program, "gen", "--to-kafka", brokers, "--topic", string.Join(',', topics),
            "--points", "1000000000000", "--series", workload.Series.ToString(CultureInfo.InvariantCulture),
            "--orgs", workload.Orgs.ToString(CultureInfo.InvariantCulture), "--seed", workload.Seed.ToString(CultureInfo.InvariantCulture),
            "--start", workload.StartTime.ToString(CultureInfo.InvariantCulture),
            "--rate", options.PayloadsPerSecond.ToString(CultureInfo.InvariantCulture), "--json",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var gen = Process.Start(start) ?? throw new InvalidOperationException("tailor gen did not start.");
        var output = gen.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = gen.StandardError.ReadToEndAsync(cancellationToken);
        // The traffic period starts with the first payload, not with the process: starting the
        // program and reaching the brokers takes seconds on a busy machine.
        var starting = Stopwatch.StartNew();
        while (produced() == 0 && !gen.HasExited)
        {
            if (starting.Elapsed > TimeSpan.FromMinutes(2))
            {
                gen.Kill();
                throw new InvalidOperationException($"tailor gen --to-kafka produced nothing in 2 minutes: {await error}");
            }

            await Task.Delay(20, cancellationToken);
        }

        traffic.Restart();
        while (traffic.Elapsed < options.Duration && !gen.HasExited)
        {
            everySecond();
            await Task.Delay(100, cancellationToken);
        }

        if (!gen.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", gen.Id.ToString(CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync(cancellationToken);
        }

        while (!gen.HasExited)
        {
            everySecond();
            await Task.Delay(100, cancellationToken);
        }

        var text = await output;
        if (gen.ExitCode != 0)
        {
            throw new InvalidOperationException($"tailor gen --to-kafka exited {gen.ExitCode}: {await error}");
        }

        using var summary = JsonDocument.Parse(text);
        return (summary.RootElement.GetProperty("payloads").GetInt64(), summary.RootElement.GetProperty("points").GetInt64());
    }

    private static LoadSample Sample(int second, long produced, SinkEngine sink)
    {
        var status = sink.Status;
        return new LoadSample(second, produced, status.Payloads, produced - status.Payloads - status.DeadLetters, status.BufferedBytes, status.PausedPartitions,
            status.SegmentsCompleted);
    }
}
