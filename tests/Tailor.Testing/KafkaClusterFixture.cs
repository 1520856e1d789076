using System.Buffers.Binary;
using Confluent.Kafka;
using Tailor.Sink.Kafka;

namespace Tailor.Testing;

/// <summary>
/// An embedded Kafka cluster (librdkafka's mock brokers on loopback) for one test class
/// (<c>IClassFixture&lt;KafkaClusterFixture&gt;</c>) or collection. Starting one takes about 0.1 s,
/// so classes can each have their own and run in parallel.
/// </summary>
/// <remarks>
/// Topics and group ids made here are unique per call, so tests sharing a fixture never see each
/// other's messages or members. Client settings follow <c>docs/kafka-mock-notes.md</c>.
/// </remarks>
public sealed class KafkaClusterFixture : IAsyncLifetime
{
    private int _sequence;
    private EmbeddedKafkaCluster? _cluster;

    /// <summary>The running cluster.</summary>
    public EmbeddedKafkaCluster Cluster => _cluster ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>Bootstrap servers of the cluster (<c>127.0.0.1:port,...</c>).</summary>
    public string BootstrapServers => Cluster.BootstrapServers;

    /// <summary>Starts the cluster.</summary>
    public Task InitializeAsync()
    {
        _cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions { BrokerCount = 3 });
        return Task.CompletedTask;
    }

    /// <summary>Stops the cluster.</summary>
    public Task DisposeAsync()
    {
        _cluster?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Creates a topic with a unique name and <paramref name="partitions"/> partitions.</summary>
    public async Task<string> CreateTopicAsync(int partitions, string prefix = "topic")
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _sequence)}-{Guid.NewGuid().ToString("N")[..8]}";
        await Cluster.EnsureTopicAsync(name, partitions);
        return name;
    }

    /// <summary>A consumer group id no other test uses.</summary>
    public string NewGroupId(string prefix = "group") => $"{prefix}-{Interlocked.Increment(ref _sequence)}-{Guid.NewGuid():N}";

    /// <summary>
    /// Consumer settings the sink relies on: cooperative-sticky, no auto-commit, no automatic
    /// offset store, earliest reset, heartbeats every second and short fetch waits (the mock holds an
    /// empty fetch for the whole wait even when data arrives).
    /// </summary>
    /// <param name="groupId">The consumer group.</param>
    /// <param name="sessionTimeoutMs">Session timeout; a mock rebalance round lasts this minus 1 s.</param>
    public ConsumerConfig ConsumerConfig(string groupId, int sessionTimeoutMs = 6000) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        SessionTimeoutMs = sessionTimeoutMs,
        HeartbeatIntervalMs = Math.Min(1000, sessionTimeoutMs / 3),
        MaxPollIntervalMs = Math.Max(sessionTimeoutMs, 30_000),
        FetchWaitMaxMs = 100,
    };

    /// <summary>Producer settings for test traffic: idempotent, acks from all replicas, no recompression.</summary>
    public ProducerConfig ProducerConfig() => new()
    {
        BootstrapServers = BootstrapServers,
        Acks = Acks.All,
        EnableIdempotence = true,
        LingerMs = 5,
        CompressionType = CompressionType.None,
    };

    /// <summary>A producer of raw key and value bytes.</summary>
    public IProducer<byte[], byte[]> CreateProducer() => new ProducerBuilder<byte[], byte[]>(ProducerConfig()).Build();

    /// <summary>
    /// Produces <paramref name="count"/> messages round-robin over every partition of
    /// <paramref name="topics"/> (each with <paramref name="partitions"/> partitions), keyed by
    /// <see cref="OrgKey"/> of <c>i % 1000</c>, each value holding its index <c>i</c>; waits for
    /// every delivery.
    /// </summary>
    /// <returns>Where each message landed, indexed by <c>i</c>.</returns>
    public async Task<TopicPartitionOffset[]> ProduceAsync(IReadOnlyList<string> topics, int partitions, int count, Func<int, Timestamp>? timestamp = null)
    {
        using var producer = CreateProducer();
        var deliveries = new Task<DeliveryResult<byte[], byte[]>>[count];
        for (var i = 0; i < count; i++)
        {
            var slot = i % (topics.Count * partitions);
            var target = new TopicPartition(topics[slot / partitions], slot % partitions);
            var message = new Message<byte[], byte[]> { Key = OrgKey((uint)(i % 1000)), Value = MessageValue(i) };
            if (timestamp is not null)
            {
                message.Timestamp = timestamp(i);
            }

            deliveries[i] = producer.ProduceAsync(target, message);
        }

        var results = await Task.WhenAll(deliveries);
        return results.Select(r => r.TopicPartitionOffset).ToArray();
    }

    /// <summary>A message key as the sink expects it: the org id, 4 bytes little-endian.</summary>
    public static byte[] OrgKey(uint orgId)
    {
        var key = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(key, orgId);
        return key;
    }

    /// <summary>The value <see cref="ProduceAsync"/> gives message <paramref name="index"/>: the index, then filler bytes.</summary>
    public static byte[] MessageValue(int index)
    {
        var value = new byte[16 + (index % 48)];
        BinaryPrimitives.WriteInt32LittleEndian(value, index);
        value.AsSpan(4).Fill((byte)index);
        return value;
    }

    /// <summary>The index a value made by <see cref="MessageValue"/> carries.</summary>
    public static int IndexOf(byte[] value) => BinaryPrimitives.ReadInt32LittleEndian(value);
}
