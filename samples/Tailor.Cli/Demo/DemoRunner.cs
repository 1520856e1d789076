using System.Diagnostics;
using Confluent.Kafka;
using Spectre.Console;
using Tailor.Compaction;
using Tailor.Format.Payloads;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Cli.Demo;

/// <summary>Options of <c>tailor demo</c>.</summary>
internal sealed record DemoOptions
{
    public long Points { get; init; } = 5_000_000;
    public int Series { get; init; } = 20_000;
    public int Orgs { get; init; } = 200;
    public string DataFolder { get; init; } = "tailor-data";
    public string? StoreUri { get; init; }
    public bool Clean { get; init; }
    public int Workers { get; init; } = 2;
    public int Topics { get; init; } = 2;
    public int PartitionsPerTopic { get; init; } = 8;
    public int SharedShards { get; init; } = 16;
    public ulong Seed { get; init; } = 1;
}

/// <summary>What the demo did, for the summary table and --json.</summary>
internal sealed record DemoSummary
{
    public long Payloads { get; init; }
    public long Points { get; init; }
    public long Segments { get; init; }
    public long Sfiles { get; init; }
    public long BytesIn { get; init; }
    public long BytesOut { get; init; }
    public double BytesPerPoint { get; init; }
    public long PointsOut { get; init; }
    public long DuplicatesResolved { get; init; }
    public long OutOfWindow { get; init; }
    public long DeadLetters { get; init; }
    public int Jobs { get; init; }
    public long Expected { get; init; }
    public long Found { get; init; }
    public long Missing { get; init; }
    public long Different { get; init; }
    public long Extra { get; init; }
    public double Seconds { get; init; }
    public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }
    public required string Store { get; init; }
    public required string Brokers { get; init; }
    public required IReadOnlyList<string> Windows { get; init; }
}

/// <summary>
/// The whole pipeline on embedded defaults: an in-process Kafka cluster (librdkafka's mock brokers,
/// the real protocol on loopback), realistic traffic produced to several topics, sink workers in one
/// consumer group writing segments to a store, compaction of every shard and window with input, and a
/// one-to-one verification.
/// </summary>
internal sealed class DemoRunner(DemoOptions options, IAnsiConsole progress)
{
    public async Task<DemoSummary> RunAsync(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var stages = new Dictionary<string, double>();
        var (store, storeName, workFolder) = OpenStore();
        await using var _ = store;

        // 1. An embedded cluster with the demo's topics.
        var topics = Enumerable.Range(0, options.Topics).Select(i => $"tailor-demo-{(char)('a' + i)}").ToArray();
        var watch = Stopwatch.StartNew();
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions
        {
            Topics = topics.ToDictionary(t => t, _ => options.PartitionsPerTopic),
            InitialRebalanceDelay = TimeSpan.Zero,
        });
        progress.MarkupLine($"[grey]kafka[/]    embedded cluster at {cluster.BootstrapServers} ({topics.Length} topics × {options.PartitionsPerTopic} partitions)");
        progress.MarkupLine($"[grey]store[/]    {Markup.Escape(storeName)}");

        // 2. Sink workers in one consumer group.
        var shardMap = new ShardMap(options.SharedShards);
        var engines = new List<(SinkEngine Engine, KafkaPayloadSource Source, Task Run)>();
        using var stopSinks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        for (var w = 0; w < options.Workers; w++)
        {
            var source = new KafkaPayloadSource(new KafkaPayloadSourceOptions
            {
                BootstrapServers = cluster.BootstrapServers,
                Topics = topics,
                GroupId = "tailor-demo",
                ClientId = $"tailor-demo-sink-{w}",
                SessionTimeout = TimeSpan.FromSeconds(6),
                HeartbeatInterval = TimeSpan.FromSeconds(1),
                FetchWaitMax = TimeSpan.FromMilliseconds(100),
            });
            var engine = new SinkEngine(new SinkOptions { ShardMap = shardMap, BufferBudgetBytes = 128L << 20 }, store, source);
            engines.Add((engine, source, engine.RunAsync(stopSinks.Token)));
        }

        // Every worker holds its share before traffic starts: a worker that joins mid-run makes the group
        // rebalance, and each rebalance closes and commits the open segments (a run with 48 segments
        // instead of 32 took 11 s to produce and sink instead of 6.4 s).
        await WaitForGroupAsync(engines.Select(e => e.Source).ToList(), topics.Length * options.PartitionsPerTopic, cancellationToken);

        // 3. Traffic: the realistic workload, ending now, spread over every partition, produced no
        // further ahead of the sinks than the mock brokers keep (they drop a partition's data past 5 MiB).
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var hours = Math.Max(1, options.Points / Math.Max(1, options.Series) / 120);
        var workload = new WorkloadOptions { Seed = options.Seed, Series = options.Series, Orgs = options.Orgs, TargetPoints = options.Points, StartTime = now - (hours * 3600) };
        long produced = 0, producedBytes = 0, points = 0;
        await progress.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var generate = ctx.AddTask("produce and sink", maxValue: options.Points);
                (produced, producedBytes, points) = await ProduceAsync(cluster.BootstrapServers, topics, workload, engines.Select(e => e.Engine).ToList(),
                    p => generate.Value = p, cancellationToken);
                generate.Value = generate.MaxValue;
                var drain = ctx.AddTask("sinks catch up", maxValue: produced);
                var consumed = 0L;
                var lastProgress = Stopwatch.StartNew();
                while ((consumed = engines.Sum(e => e.Engine.Status.Payloads + e.Engine.Status.DeadLetters)) < produced)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (consumed > (long)drain.Value)
                    {
                        drain.Value = consumed;
                        lastProgress.Restart();
                    }
                    else if (lastProgress.Elapsed > StallLimit)
                    {
                        throw new CliException($"The demo's sink workers stopped consuming: {consumed:N0} of {produced:N0} payloads after "
                            + $"{StallLimit.TotalSeconds:F0} s without progress ({Describe(engines.Select(e => e.Engine))}).");
                    }

                    await Task.Delay(100, cancellationToken);
                }

                drain.Value = drain.MaxValue;
                var upload = ctx.AddTask("complete and upload segments", maxValue: 1);
                await stopSinks.CancelAsync();
                var stopped = Task.WhenAll(engines.Select(e => e.Run));
                if (await Task.WhenAny(stopped, Task.Delay(StallLimit, cancellationToken)) != stopped)
                {
                    throw new CliException($"The demo's sink workers did not finish their last segments within {StallLimit.TotalSeconds:F0} s "
                        + $"({Describe(engines.Select(e => e.Engine))}).");
                }

                await stopped;
                upload.Value = 1;
            });
        stages["produce_and_sink"] = watch.Elapsed.TotalSeconds;
        var payloads = engines.Sum(e => e.Engine.Status.Payloads);
        var deadLetters = engines.Sum(e => e.Engine.Status.DeadLetters);
        foreach (var (engine, source, _) in engines)
        {
            await engine.DisposeAsync();
            source.Dispose();
        }

        // 4. Compaction of every shard and window with input, then verification.
        watch.Restart();
        var compactionOptions = new CompactionOptions { WorkDirectory = workFolder, MemoryBudgetBytes = 512L << 20 };
        var windows = Windows(workload.StartTime, now);
        var planner = new CompactionPlanner(store, compactionOptions);
        var jobs = new List<CompactionJob>();
        foreach (var window in windows)
        {
            jobs.AddRange(await planner.PlanAllAsync(window, cancellationToken));
        }

        var reports = new List<CompactionReport>();
        var verifications = new List<VerifyReport>();
        await progress.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var compacting = ctx.AddTask($"compact {jobs.Count} jobs", maxValue: Math.Max(1, jobs.Count));
                var runner = new CompactionRunner(store, compactionOptions);
                foreach (var job in jobs)
                {
                    reports.Add(await runner.RunAsync(job, cancellationToken));
                    compacting.Increment(1);
                }

                compacting.Value = compacting.MaxValue;
                stages["compact"] = watch.Elapsed.TotalSeconds;
                watch.Restart();
                var verifying = ctx.AddTask($"verify {jobs.Count} jobs", maxValue: Math.Max(1, jobs.Count));
                var verifier = new CompactionVerifier(store, compactionOptions);
                foreach (var job in jobs)
                {
                    verifications.Add(await verifier.VerifyAsync(job.Shard, job.Window, cancellationToken));
                    verifying.Increment(1);
                }

                verifying.Value = verifying.MaxValue;
                stages["verify"] = watch.Elapsed.TotalSeconds;
            });

        long segments = 0, segmentBytes = 0;
        await foreach (var info in store.ListAsync(ObjectKeys.SegmentsRoot, cancellationToken))
        {
            segments++;
            segmentBytes += info.Size;
        }

        var pointsOut = reports.Sum(r => r.PointsOut);
        var bytesOut = reports.Sum(r => r.BytesOut);
        foreach (var group in reports.SelectMany(r => r.StageSeconds).GroupBy(kv => kv.Key, kv => kv.Value))
        {
            if (group.Key is "read" or "encode" or "spill" or "upload")
            {
                stages[$"compact.{group.Key}"] = Math.Round(group.Sum(), 3);
            }
        }

        progress.MarkupLine($"[grey]look[/]     tailor serve --store {Markup.Escape(storeName)} --shards {options.SharedShards}   (then open http://127.0.0.1:8080)");
        return new DemoSummary
        {
            Payloads = payloads,
            Points = points,
            Segments = segments,
            Sfiles = reports.Sum(r => r.Parts.Count),
            BytesIn = segmentBytes,
            BytesOut = bytesOut,
            BytesPerPoint = pointsOut == 0 ? 0 : Math.Round((double)bytesOut / pointsOut, 3),
            PointsOut = pointsOut,
            DuplicatesResolved = reports.Sum(r => r.DuplicatesDropped),
            OutOfWindow = reports.Sum(r => r.OutOfWindow),
            DeadLetters = deadLetters,
            Jobs = jobs.Count,
            Expected = verifications.Sum(v => v.Expected),
            Found = verifications.Sum(v => v.Found),
            Missing = verifications.Sum(v => v.Missing),
            Different = verifications.Sum(v => v.Different),
            Extra = verifications.Sum(v => v.Extra),
            Seconds = Math.Round(total.Elapsed.TotalSeconds, 2),
            StageSeconds = stages.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 3)),
            Store = storeName,
            Brokers = cluster.BootstrapServers,
            Windows = [.. windows.Select(w => w.ToString())],
        };
    }

    private (IObjectStore Store, string Name, string WorkFolder) OpenStore()
    {
        if (options.StoreUri is { } uri)
        {
            var remote = ObjectStoreFactory.Open(uri);
            return (remote, remote.Name, Path.Combine(Path.GetTempPath(), "tailor-demo-work"));
        }

        // Every run gets its own folder, so rerunning over the same data folder never mixes runs; the
        // command checked the folder and cleaned it (DemoFolder.Prepare) before the run started.
        var run = DemoFolder.NewRun(options.DataFolder);
        Directory.CreateDirectory(Path.Combine(run, "store"));
        var local = new LocalObjectStore(Path.Combine(run, "store"));
        return (local, local.Name, Path.Combine(run, "work"));
    }

    private static List<CompactionWindow> Windows(long first, long last)
    {
        var windows = new List<CompactionWindow>();
        for (var w = CompactionWindow.Containing(first, CompactionWindow.DefaultLength); w.StartSeconds <= last;
             w = new CompactionWindow(w.End, w.Length))
        {
            windows.Add(w);
        }

        return windows;
    }

    private static async Task<(long Payloads, long Bytes, long Points)> ProduceAsync(string brokers, string[] topics, WorkloadOptions workload,
        List<SinkEngine> engines, Action<long> onPoints, CancellationToken cancellationToken)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = brokers,
            ClientId = "tailor-demo-gen",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            BatchSize = 1 << 20,
            CompressionType = CompressionType.None,
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        var partitions = new List<TopicPartition>();
        using (var admin = new DependentAdminClientBuilder(producer.Handle).Build())
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            foreach (var topic in topics)
            {
                var t = metadata.Topics.Single(m => m.Topic == topic);
                partitions.AddRange(t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
            }
        }

        // Stay within half of what the mock brokers keep per partition.
        var maxAhead = partitions.Count * (long)(EmbeddedKafkaCluster.PartitionLogCapBytes / 2);
        using var generator = new WorkloadGenerator(workload);
        var frame = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        long payloads = 0, bytes = 0;
        string? error = null;
        while (generator.TryNext(frame, out var payload))
        {
            var key = new byte[PayloadFormat.KeyLength];
            PayloadFormat.WriteKey(key, payload.OrgId);
            var message = new Message<byte[], byte[]> { Key = key, Value = frame.WrittenSpan.ToArray() };
            frame.ResetWrittenCount();
            var waiting = Stopwatch.StartNew();
            var consumedBytes = engines.Sum(e => e.Status.Bytes);
            while (bytes - engines.Sum(e => e.Status.Bytes) > maxAhead)
            {
                producer.Poll(TimeSpan.FromMilliseconds(5));
                await Task.Delay(5, cancellationToken);
                if (engines.Sum(e => e.Status.Bytes) != consumedBytes)
                {
                    consumedBytes = engines.Sum(e => e.Status.Bytes);
                    waiting.Restart();
                }
                else if (waiting.Elapsed > StallLimit)
                {
                    throw new CliException($"The demo's sink workers stopped consuming while {payloads:N0} payloads were produced: "
                        + $"{StallLimit.TotalSeconds:F0} s without progress ({Describe(engines)}).");
                }
            }

            while (true)
            {
                try
                {
                    producer.Produce(partitions[(int)(payloads % partitions.Count)], message, r => { if (r.Error.IsError) { error ??= r.Error.Reason; } });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }

            payloads++;
            bytes += message.Value.Length;
            onPoints(generator.PointsGenerated);
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        if (error is not null)
        {
            throw new CliException($"The demo's producer failed: {error}");
        }

        return (payloads, bytes, generator.PointsGenerated);
    }

    /// <summary>How long a demo phase may go without progress before it is reported as stuck.</summary>
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Waits until the workers together hold every one of the <paramref name="partitions"/> once, each
    /// worker some (when there are enough partitions to go round).
    /// </summary>
    private static async Task WaitForGroupAsync(IReadOnlyList<KafkaPayloadSource> sources, int partitions, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var held = sources.Select(s => s.Assignment).ToList();
            var owned = held.SelectMany(a => a).ToList();
            if (owned.Count == partitions && owned.Distinct().Count() == partitions && (sources.Count > partitions || held.All(a => a.Count > 0)))
            {
                return;
            }

            if (waited.Elapsed > StallLimit)
            {
                throw new CliException($"The demo's sink workers did not share the {partitions} partitions within {StallLimit.TotalSeconds:F0} s: "
                    + string.Join("; ", held.Select((a, i) => $"worker {i + 1} holds {a.Count}")) + ".");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static string Describe(IEnumerable<SinkEngine> engines) =>
        string.Join("; ", engines.Select((e, i) =>
        {
            var status = e.Status;
            return $"worker {i + 1}: {status.Payloads:N0} payloads, {status.SegmentsCompleted} segments done, {status.OpenSegments} open, "
                + $"{status.SegmentsFailed} failed, {status.Rewinds} rewinds, {status.PausedPartitions} partitions paused";
        }));
}
