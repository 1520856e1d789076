using System.Buffers;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using Tailor.Format.Payloads;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Benchmarks.Sink;

/// <summary>Options of <see cref="SinkBench"/>.</summary>
public sealed class SinkBenchOptions
{
    /// <summary>Partitions of the benchmark topic. Default 32.</summary>
    public int Partitions { get; init; } = 32;

    /// <summary>Bytes produced per partition; the mock brokers keep at most 5 MiB a partition. Default 4 MiB.</summary>
    public long BytesPerPartition { get; init; } = 4L << 20;

    /// <summary>The sink's buffer budget. Default 64 MiB.</summary>
    public long BufferBudgetBytes { get; init; } = 64L << 20;

    /// <summary>Rounds of bare consumer and sink, alternating; the best of each counts. Default 5 (a round lasts about a second, so fewer leave the ratio to chance).</summary>
    public int Rounds { get; init; } = 5;
}

/// <summary>The figures of <c>tailor bench sink</c>.</summary>
public sealed class SinkBenchResult
{
    /// <summary>Payloads in the topic.</summary>
    [JsonPropertyName("payloads")] public long Payloads { get; set; }

    /// <summary>Bytes in the topic.</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; set; }

    /// <summary>Payloads per second through one sink worker (consumed, validated, routed and written to segments).</summary>
    [JsonPropertyName("payloads_per_sec")] public double PayloadsPerSec { get; set; }

    /// <summary>Payloads per second of a bare consumer reading the same messages.</summary>
    [JsonPropertyName("bare_consumer_payloads_per_sec")] public double BareConsumerPayloadsPerSec { get; set; }

    /// <summary>The sink over the bare consumer (target at least 0.8).</summary>
    [JsonPropertyName("ratio_to_bare_consumer")] public double RatioToBareConsumer { get; set; }

    /// <summary>Seconds to complete, upload and commit the open segments at the end.</summary>
    [JsonPropertyName("final_upload_seconds")] public double FinalUploadSeconds { get; set; }

    /// <summary>The process's peak working set during the sink runs.</summary>
    [JsonPropertyName("peak_working_set_bytes")] public long PeakWorkingSetBytes { get; set; }

    /// <summary>The most bytes the sink held for segments not yet uploaded.</summary>
    [JsonPropertyName("peak_buffered_bytes")] public long PeakBufferedBytes { get; set; }

    /// <summary>The sink's buffer budget.</summary>
    [JsonPropertyName("buffer_budget_bytes")] public long BufferBudgetBytes { get; set; }

    /// <summary>Segments written.</summary>
    [JsonPropertyName("segments")] public long Segments { get; set; }

    /// <summary>The machine.</summary>
    [JsonPropertyName("machine")] public string Machine { get; set; } = Tailor.Benchmarks.Machine.Describe();
}

/// <summary>
/// One sink worker (embedded cluster, local store) against a bare consumer reading the same messages
/// in the same run, alternating, each timed from its first message to its last.
/// </summary>
public static class SinkBench
{
    /// <summary>Runs the benchmark.</summary>
    public static async Task<SinkBenchResult> RunAsync(SinkBenchOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        const string Topic = "tailor-bench-sink";
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions
        {
            Topics = new Dictionary<string, int> { [Topic] = options.Partitions },
            InitialRebalanceDelay = TimeSpan.Zero,
        });
        progress?.WriteLine($"producing {options.BytesPerPartition * options.Partitions / 1048576} MiB to {options.Partitions} partitions...");
        var (payloads, bytes) = Produce(cluster.BootstrapServers, Topic, options);
        var result = new SinkBenchResult { Payloads = payloads, Bytes = bytes, BufferBudgetBytes = options.BufferBudgetBytes };
        var root = Path.Combine(Path.GetTempPath(), $"tailor-bench-sink-{Guid.NewGuid():N}");
        try
        {
            for (var round = 0; round < options.Rounds; round++)
            {
                progress?.WriteLine($"round {round + 1}: bare consumer...");
                var bare = BareConsumer(cluster.BootstrapServers, Topic, payloads, cancellationToken);
                result.BareConsumerPayloadsPerSec = Math.Max(result.BareConsumerPayloadsPerSec, payloads / bare);
                progress?.WriteLine($"round {round + 1}: sink worker...");
                var folder = Path.Combine(root, $"round-{round}");
                Directory.CreateDirectory(folder);
                var (seconds, final, peakSet, peakBuffered, segments) = await SinkAsync(cluster.BootstrapServers, Topic, payloads, folder, options, cancellationToken);
                result.PayloadsPerSec = Math.Max(result.PayloadsPerSec, payloads / seconds);
                result.FinalUploadSeconds = final;
                result.PeakWorkingSetBytes = Math.Max(result.PeakWorkingSetBytes, peakSet);
                result.PeakBufferedBytes = Math.Max(result.PeakBufferedBytes, peakBuffered);
                result.Segments = segments;
                Directory.Delete(folder, recursive: true);
            }

            result.RatioToBareConsumer = result.PayloadsPerSec / result.BareConsumerPayloadsPerSec;
            return result;
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static (long Payloads, long Bytes) Produce(string brokers, string topic, SinkBenchOptions options)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = brokers,
            Acks = Acks.All,
            LingerMs = 5,
            BatchSize = 1 << 20,
            CompressionType = CompressionType.None,
        }).SetLogHandler((_, _) => { }).Build();
        using var generator = new WorkloadGenerator(new WorkloadOptions { Seed = 5, Series = 20_000, MaxSeriesPerPayload = 100 });
        var frame = new ArrayBufferWriter<byte>(1 << 16);
        var perPartition = new long[options.Partitions];
        long payloads = 0, bytes = 0;
        var partition = 0;
        while (generator.TryNext(frame, out var payload))
        {
            if (perPartition.All(b => b >= options.BytesPerPartition))
            {
                break;
            }

            while (perPartition[partition] >= options.BytesPerPartition)
            {
                partition = (partition + 1) % options.Partitions;
            }

            var key = new byte[PayloadFormat.KeyLength];
            PayloadFormat.WriteKey(key, payload.OrgId);
            var value = frame.WrittenSpan.ToArray();
            frame.ResetWrittenCount();
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, partition), new Message<byte[], byte[]> { Key = key, Value = value });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }

            perPartition[partition] += value.Length;
            partition = (partition + 1) % options.Partitions;
            payloads++;
            bytes += value.Length;
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        return (payloads, bytes);
    }

    private static ConsumerConfig ConsumerConfig(string brokers, string group) => new()
    {
        BootstrapServers = brokers,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 1000,
        FetchWaitMaxMs = 100,
        QueuedMaxMessagesKbytes = 16384,
    };

    private static double BareConsumer(string brokers, string topic, long payloads, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(ConsumerConfig(brokers, $"bare-{Guid.NewGuid():N}")).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        long read = 0;
        long sum = 0;
        long first = 0;
        while (read < payloads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (message is null)
            {
                continue;
            }

            if (read++ == 0)
            {
                first = Stopwatch.GetTimestamp();
            }

            sum += message.Message.Value.Length + message.Message.Key.Length; // touch what a consumer would
        }

        var seconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
        consumer.Close();
        GC.KeepAlive(sum);
        return seconds;
    }

    private static async Task<(double Seconds, double Final, long PeakWorkingSet, long PeakBuffered, long Segments)> SinkAsync(string brokers, string topic,
        long payloads, string folder, SinkBenchOptions options, CancellationToken cancellationToken)
    {
        await using var store = new LocalObjectStore(folder);
        using var source = new KafkaPayloadSource(new KafkaPayloadSourceOptions
        {
            BootstrapServers = brokers,
            Topics = [topic],
            GroupId = $"sink-{Guid.NewGuid():N}",
            SessionTimeout = TimeSpan.FromSeconds(6),
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            FetchWaitMax = TimeSpan.FromMilliseconds(100),
        });
        var engine = new SinkEngine(new SinkOptions { BufferBudgetBytes = options.BufferBudgetBytes }, store, source);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = engine.RunAsync(stop.Token);
        long peak = 0;
        while (engine.Status.Payloads == 0)
        {
            await Task.Delay(1, cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        while (engine.Status.Payloads + engine.Status.DeadLetters < payloads)
        {
            peak = Math.Max(peak, Environment.WorkingSet);
            await Task.Delay(5, cancellationToken);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var stopping = Stopwatch.GetTimestamp();
        await stop.CancelAsync();
        await run;
        var final = Stopwatch.GetElapsedTime(stopping).TotalSeconds;
        peak = Math.Max(peak, Environment.WorkingSet);
        var status = engine.Status;
        await engine.DisposeAsync();
        return (seconds, final, peak, status.PeakBufferedBytes, status.SegmentsCompleted);
    }
}
