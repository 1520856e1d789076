using Microsoft.Extensions.Logging;

namespace Tailor.Sink.Kafka;

/// <summary>Settings of an <see cref="EmbeddedKafkaCluster"/>.</summary>
public sealed class EmbeddedKafkaClusterOptions
{
    /// <summary>
    /// Number of mock brokers, each listening on its own loopback port. Default 3. Partition
    /// leaders are spread over the brokers and replication factor is min(3, brokers).
    /// </summary>
    public int BrokerCount { get; init; } = 3;

    /// <summary>
    /// Topics created at start, with their partition counts. Default none. Topics that are not
    /// created explicitly are auto-created on first use with
    /// <see cref="EmbeddedKafkaCluster.AutoCreatedPartitionCount"/> partitions.
    /// </summary>
    public IReadOnlyDictionary<string, int> Topics { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// How long an empty consumer group waits for more members before its first assignment, like a
    /// broker's <c>group.initial.rebalance.delay.ms</c>. Default 3 s (the mock's own default), so
    /// workers started together get their first assignment in one round. Set
    /// <see cref="TimeSpan.Zero"/> when a single consumer should be assigned at once. <c>null</c>
    /// leaves the mock's default untouched.
    /// </summary>
    public TimeSpan? InitialRebalanceDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Receives the log of the client that owns the cluster (librdkafka's messages about the mock
    /// brokers). Default <c>null</c>: the log is dropped.
    /// </summary>
    public ILogger? Logger { get; init; }

    /// <summary>How long <see cref="EmbeddedKafkaCluster.Start"/> waits for the brokers to answer. Default 10 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
