using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Tailor.Sink.Kafka;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Kafka;

/// <summary>What the embedded cluster offers and where librdkafka's mock stops.</summary>
public sealed class EmbeddedKafkaClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Start_reports_loopback_brokers_that_other_clients_see_in_metadata()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions { BrokerCount = 3 });
        output.WriteLine($"startup {cluster.StartupTime.TotalMilliseconds:F0} ms, brokers {cluster.BootstrapServers}");

        Assert.Equal(3, cluster.Brokers.Count);
        Assert.All(cluster.Brokers, b => Assert.StartsWith("127.0.0.1:", b, StringComparison.Ordinal));
        Assert.Equal(3, cluster.Brokers.Distinct().Count());
        Assert.Equal(cluster.MockBootstrapServers, cluster.BootstrapServers);
        Assert.True(cluster.SupportsTopicCreation);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(Timeout);
        Assert.Equal(cluster.Brokers, metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => $"{b.Host}:{b.Port}"));
        Assert.Equal([1, 2, 3], metadata.Brokers.Select(b => b.BrokerId).Order());
    }

    [Fact]
    public void A_broker_taken_down_refuses_connections_until_it_is_brought_back()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions { BrokerCount = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SetBrokerDown(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SetBrokerDown(2));

        cluster.SetBrokerDown(1);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            Assert.Throws<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(2)));
        }

        cluster.SetBrokerDown(1, down: false);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            Assert.Equal([1], admin.GetMetadata(Timeout).Brokers.Select(b => b.BrokerId));
        }
    }

    [Fact]
    public async Task EnsureTopicAsync_creates_topics_with_the_requested_partition_count()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();

        foreach (var partitions in new[] { 1, 8, 16 })
        {
            var topic = $"created-{partitions}";
            await cluster.EnsureTopicAsync(topic, partitions);

            // Another client sees the count, and the last partition takes messages.
            var seen = admin.GetMetadata(Timeout).Topics.Single(t => t.Topic == topic);
            Assert.Equal(partitions, seen.Partitions.Count);
            Assert.Equal(ErrorCode.NoError, seen.Error.Code);
            var delivery = await producer.ProduceAsync(new TopicPartition(topic, partitions - 1), new Message<byte[], byte[]> { Key = [1, 0, 0, 0], Value = [42] });
            Assert.Equal(new TopicPartitionOffset(topic, partitions - 1, 0), delivery.TopicPartitionOffset);
        }

        // Idempotent for the same count; a different count is refused, not silently ignored.
        await cluster.EnsureTopicAsync("created-8", 8);
        await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.EnsureTopicAsync("created-8", 12));
        Assert.Equal(8, cluster.GetPartitionCount("created-8"));
        Assert.Null(cluster.GetPartitionCount("never-used"));
    }

    [Fact]
    public void Topics_listed_in_the_options_exist_when_Start_returns()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions
        {
            Topics = new Dictionary<string, int> { ["payloads-a"] = 8, ["payloads-b"] = 2 },
        });

        Assert.Equal(8, cluster.GetPartitionCount("payloads-a"));
        Assert.Equal(2, cluster.GetPartitionCount("payloads-b"));
    }

    [Fact]
    public async Task A_topic_used_before_it_is_created_gets_four_partitions_and_no_more()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();

        await producer.ProduceAsync("auto-created", new Message<byte[], byte[]> { Key = [7, 0, 0, 0], Value = [1] });
        Assert.Equal(EmbeddedKafkaCluster.AutoCreatedPartitionCount, cluster.GetPartitionCount("auto-created"));

        // Producing to a partition past the count does not grow the topic: the client refuses it.
        var error = await Assert.ThrowsAsync<ProduceException<byte[], byte[]>>(() =>
            producer.ProduceAsync(new TopicPartition("auto-created", 9), new Message<byte[], byte[]> { Key = [7, 0, 0, 0], Value = [1] }));
        Assert.Equal(ErrorCode.Local_UnknownPartition, error.Error.Code);
        Assert.Equal(4, cluster.GetPartitionCount("auto-created"));
    }

    [Fact]
    public async Task CreateTopics_through_the_admin_client_is_not_supported_by_the_mock()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();

        var specification = new TopicSpecification { Name = "via-admin", NumPartitions = 6, ReplicationFactor = 1 };
        var options = new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(2), OperationTimeout = TimeSpan.FromSeconds(2) };
        var failure = await Assert.ThrowsAnyAsync<KafkaException>(() => admin.CreateTopicsAsync([specification], options));
        output.WriteLine($"CreateTopics: {failure.Message}");

        Assert.Null(cluster.GetPartitionCount("via-admin"));
    }

    [Fact]
    public async Task A_partition_keeps_only_its_last_5_MiB_even_when_nobody_read_it()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        await cluster.EnsureTopicAsync("capped", 1);
        const int MessageBytes = 64 * 1024;
        const int Messages = 128; // 8 MiB
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < Messages; i++)
            {
                await producer.ProduceAsync(new TopicPartition("capped", 0), new Message<byte[], byte[]> { Key = [0, 0, 0, 0], Value = new byte[MessageBytes] });
            }
        }

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "capped-reader" }).Build();
        var marks = consumer.QueryWatermarkOffsets(new TopicPartition("capped", 0), Timeout);
        var kept = (marks.High.Value - marks.Low.Value) * MessageBytes;
        output.WriteLine($"produced {Messages} x {MessageBytes} B, kept offsets {marks.Low.Value}..{marks.High.Value} = {kept / 1024} KiB");

        Assert.Equal(Messages, marks.High.Value);
        Assert.True(marks.Low.Value > 0, "the oldest messages should have been dropped");
        Assert.InRange(kept, EmbeddedKafkaCluster.PartitionLogCapBytes - (2 * MessageBytes), EmbeddedKafkaCluster.PartitionLogCapBytes);

        // A reader that starts at offset 0 lands on the low watermark: what was dropped is gone.
        consumer.Assign(new TopicPartitionOffset("capped", 0, Offset.Beginning));
        var first = consumer.Consume(Timeout);
        Assert.Equal(marks.Low.Value, first.Offset.Value);
    }

    [Fact]
    public void Dispose_stops_the_brokers()
    {
        var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions { BrokerCount = 1 });
        var port = int.Parse(cluster.Brokers[0].Split(':')[1]);
        using (var open = new TcpClient())
        {
            open.Connect("127.0.0.1", port);
        }

        cluster.Dispose();

        using var closed = new TcpClient();
        Assert.Throws<SocketException>(() => closed.Connect("127.0.0.1", port));
    }
}
