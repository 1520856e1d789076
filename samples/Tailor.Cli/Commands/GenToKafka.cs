using System.Diagnostics;
using Confluent.Kafka;
using Tailor.Format.Payloads;
using Tailor.Format.Workload;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor gen --to-kafka</c>: the workload generator's payloads produced to Kafka, keyed by org,
/// spread round-robin over every partition of the topics, optionally paced.
/// </summary>
internal static class GenToKafka
{
    public static async Task<int> RunAsync(string brokers, IEnumerable<string> topicList, WorkloadOptions workload, double rate, string[] settings, bool json, CancellationToken cancellationToken)
    {
        var topics = topicList.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal).ToArray();
        if (topics.Length == 0)
        {
            throw new CliException("--to-kafka needs --topic: the topics to produce to (--topic a --topic b, or --topic a,b).", ExitCodes.BadArguments);
        }

        if (rate < 0 || double.IsNaN(rate))
        {
            throw new CliException($"--rate must be 0 (as fast as possible) or a positive number of payloads per second, not {rate}.", ExitCodes.BadArguments);
        }

        if (workload.TargetPoints is not > 0 || workload.Series < 1 || workload.Orgs < 1)
        {
            throw new CliException("--points, --series and --orgs must be positive.", ExitCodes.BadArguments);
        }

        var config = new ProducerConfig
        {
            BootstrapServers = brokers,
            ClientId = "tailor-gen",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            BatchSize = 1 << 20,
            CompressionType = CompressionType.None, // payloads are zstd frames already
        };
        foreach (var setting in settings)
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--kafka-setting '{setting}' is not key=value.", ExitCodes.BadArguments);
            }

            config.Set(setting[..equals].Trim(), setting[(equals + 1)..]);
        }

        IProducer<byte[], byte[]> producer;
        try
        {
            producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        }
        catch (Exception e) when (e is ArgumentException or KafkaException or InvalidOperationException)
        {
            throw new CliException($"The Kafka producer settings were refused: {e.Message}", ExitCodes.BadArguments);
        }

        using var disposeProducer = producer;
        await Console.Error.WriteLineAsync($"connecting to Kafka at {brokers} …");
        var partitions = Partitions(producer, brokers, topics, cancellationToken);
        using var generator = new WorkloadGenerator(workload);
        var frame = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        var watch = Stopwatch.StartNew();
        var progressAt = TimeSpan.FromSeconds(2);
        long payloads = 0, bytes = 0, failed = 0, duplicates = 0;
        string? firstError = null;
        void Delivered(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, report.Error.Reason, null);
            }
        }

        while (!cancellationToken.IsCancellationRequested && generator.TryNext(frame, out var payload))
        {
            var key = new byte[PayloadFormat.KeyLength];
            PayloadFormat.WriteKey(key, payload.OrgId);
            var message = new Message<byte[], byte[]> { Key = key, Value = frame.WrittenSpan.ToArray() };
            frame.Clear();
            var target = partitions[(int)(payloads % partitions.Count)];
            while (true)
            {
                try
                {
                    producer.Produce(target, message, Delivered);
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(100)); // the local queue drains as batches are acknowledged
                }
            }

            payloads++;
            bytes += message.Value.Length;
            duplicates += payload.Kind == PayloadKind.Duplicate ? 1 : 0;
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds(payloads / rate) - watch.Elapsed;
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }

            if (watch.Elapsed >= progressAt)
            {
                progressAt += TimeSpan.FromSeconds(2);
                await Console.Error.WriteLineAsync($"{watch.Elapsed:hh\\:mm\\:ss} {payloads} payloads, {generator.PointsGenerated} points, {bytes / (1 << 20)} MiB, {payloads / watch.Elapsed.TotalSeconds:F0} payloads/s");
            }
        }

        // After a stop request the flush gets a few seconds, not a minute: what it could not deliver is counted.
        var unsent = producer.Flush(cancellationToken.IsCancellationRequested ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(60));
        var seconds = watch.Elapsed.TotalSeconds;
        var summary = new
        {
            Brokers = brokers,
            Topics = topics,
            Partitions = partitions.Count,
            Payloads = payloads,
            Points = generator.PointsGenerated,
            PointsRequested = workload.TargetPoints,
            PointsNote = generator.PointsGenerated == workload.TargetPoints ? null : GenToStore.PointsNote(generator.PointsGenerated, workload.TargetPoints ?? 0),
            Bytes = bytes,
            DuplicatePayloads = duplicates,
            Failed = failed + unsent,
            Seconds = Math.Round(seconds, 3),
            PayloadsPerSec = Math.Round(payloads / Math.Max(seconds, 1e-9), 1),
            Stopped = cancellationToken.IsCancellationRequested,
        };
        if (json)
        {
            JsonOutput.Write(summary);
        }
        else
        {
            await Console.Out.WriteLineAsync($"produced {payloads} payloads ({summary.Points} points, {bytes} bytes) to {partitions.Count} partitions of {string.Join(',', topics)} in {seconds:F1} s ({summary.PayloadsPerSec} payloads/s)");
            if (summary.PointsNote is { } note)
            {
                await Console.Out.WriteLineAsync($"points: {note}");
            }

        }

        if (summary.Failed > 0)
        {
            throw new CliException($"{summary.Failed} payloads were not delivered: {firstError ?? "not acknowledged before the flush timed out"}.", ExitCodes.Failure);
        }

        return ExitCodes.Success;
    }

    /// <summary>Every partition of the topics, in topic order: the round-robin targets.</summary>
    private static List<TopicPartition> Partitions(IProducer<byte[], byte[]> producer, string brokers, string[] topics, CancellationToken cancellationToken)
    {
        Metadata? metadata = null;
        KafkaException? last = null;
        var timeout = TimeSpan.FromSeconds(15);
        var watch = Stopwatch.StartNew();
        using (var admin = new DependentAdminClientBuilder(producer.Handle).Build())
        {
            // Asked in slices of a second, so Ctrl-C or SIGTERM while no broker answers stops within one.
            while (metadata is null && watch.Elapsed < timeout)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var asked = Stopwatch.StartNew();
                try
                {
                    // All topics: naming one in the request would create it where auto-creation is on.
                    var answer = admin.GetMetadata(TimeSpan.FromSeconds(1));
                    metadata = answer.Brokers.Count > 0 ? answer : null;
                }
                catch (KafkaException e)
                {
                    last = e;
                }

                if (metadata is null && asked.Elapsed < TimeSpan.FromMilliseconds(200))
                {
                    cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                }
            }
        }

        if (metadata is null)
        {
            throw new CliException($"No Kafka broker at {brokers} answered within {timeout.TotalSeconds:0} s{(last is null ? "" : $" ({last.Error.Reason})")}.", ExitCodes.Failure);
        }

        var result = new List<TopicPartition>();
        foreach (var topic in topics)
        {
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic && !t.Error.IsError)
                ?? throw new CliException($"Topic '{topic}' does not exist at {brokers}; create it first.", ExitCodes.Failure);
            result.AddRange(found.Partitions.Select(p => p.PartitionId).Order().Select(p => new TopicPartition(topic, p)));
        }

        return result;
    }
}
