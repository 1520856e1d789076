using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// Produces a workload's payloads to Kafka as producers do: keyed by org, spread round-robin over every
/// partition of the topics, paced, and never further ahead of the sink group's commits than the mock
/// cluster keeps (it drops a partition's oldest data past 5 MiB, read or not). Remembers where each landed.
/// </summary>
internal sealed class KafkaTraffic : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly GameDayWorkload _workload;
    private readonly ConcurrentDictionary<int, TopicPartitionOffset> _positions = new();
    private long _throttledTicks;

    public KafkaTraffic(KafkaClusterFixture kafka, GameDayWorkload workload, IReadOnlyList<string> topics, int partitionsPerTopic)
    {
        _workload = workload;
        Topics = topics;
        PartitionsPerTopic = partitionsPerTopic;
        var config = kafka.ProducerConfig();
        config.BatchSize = 1 << 20;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
    }

    public IReadOnlyList<string> Topics { get; }

    public int PartitionsPerTopic { get; }

    public IReadOnlyList<TopicPartition> Partitions => [.. Topics.SelectMany(t => Enumerable.Range(0, PartitionsPerTopic).Select(p => new TopicPartition(t, p)))];

    /// <summary>Payloads acknowledged by the cluster so far.</summary>
    public int Produced => _positions.Count;

    /// <summary>Time spent waiting for the group to commit before producing more.</summary>
    public TimeSpan Throttled => TimeSpan.FromTicks(Interlocked.Read(ref _throttledTicks));

    public TopicPartitionOffset PositionOf(int index) => _positions[index];

    /// <summary>The next offset of every partition written to (its end, as far as this producer knows).</summary>
    public Dictionary<TopicPartition, long> Ends() =>
        _positions.Values.GroupBy(p => p.TopicPartition).ToDictionary(g => g.Key, g => g.Max(p => p.Offset.Value) + 1);

    /// <summary>Produces payloads [start, start + count) and waits for every acknowledgement.</summary>
    public async Task ProduceAsync(int start, int count)
    {
        var deliveries = new List<Task>(count);
        var slots = Topics.Count * PartitionsPerTopic;
        for (var i = start; i < start + count; i++)
        {
            var frame = _workload.Frames[i];
            var slot = i % slots;
            var target = new TopicPartition(Topics[slot / PartitionsPerTopic], slot % PartitionsPerTopic);
            var message = new Message<byte[]?, byte[]?> { Key = KafkaClusterFixture.OrgKey(frame.Org), Value = frame.Frame };
            var index = i;
            deliveries.Add(_producer.ProduceAsync(target, message).ContinueWith(t => _positions[index] = t.Result.TopicPartitionOffset, TaskScheduler.Default));
        }

        await Task.WhenAll(deliveries);
    }

    /// <summary>
    /// Produces payloads [<paramref name="from"/>, <paramref name="until"/>) at about <paramref name="rate"/> a
    /// second, holding back while any partition has more than <paramref name="maxUncommittedBytes"/> above the group's commit.
    /// </summary>
    public async Task RunAsync(GroupWatch group, double rate, int from = 0, int? until = null, long maxUncommittedBytes = 3L << 20, CancellationToken cancellationToken = default)
    {
        var end = until ?? _workload.Frames.Count;
        var batch = Math.Max(1, (int)(rate / 10));
        var clock = Stopwatch.StartNew();
        for (var i = from; i < end; i += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var due = TimeSpan.FromSeconds((i - from) / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            var waited = Stopwatch.StartNew();
            await Waiting.UntilAsync(async () => await UncommittedBytesAsync(group) <= maxUncommittedBytes, GameDaySettings.Timeout * 3, "the sink group to catch up with the producer");
            if (waited.Elapsed > TimeSpan.FromMilliseconds(150))
            {
                Interlocked.Add(ref _throttledTicks, waited.Elapsed.Ticks);
            }

            await ProduceAsync(i, Math.Min(batch, end - i));
        }
    }

    /// <summary>The most payload bytes any partition holds above the group's commit.</summary>
    public async Task<long> UncommittedBytesAsync(GroupWatch group)
    {
        var committed = await group.CommittedAsync();
        var bytes = new Dictionary<TopicPartition, long>();
        foreach (var (index, position) in _positions)
        {
            if (position.Offset.Value >= committed.GetValueOrDefault(position.TopicPartition))
            {
                bytes[position.TopicPartition] = bytes.GetValueOrDefault(position.TopicPartition) + _workload.Frames[index].Frame.Length;
            }
        }

        return bytes.Count == 0 ? 0 : bytes.Values.Max();
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
