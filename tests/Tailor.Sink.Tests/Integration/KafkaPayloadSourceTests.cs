using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tailor.Sink.Kafka;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// The Kafka source on its own, driven as the engine drives it: what a listener does inside the
/// rebalance handlers (pause, throw) and what comes out of <see cref="KafkaPayloadSource.TryReceive"/>.
/// </summary>
[Collection(SinkIntegrationCollection.Name)]
public sealed class KafkaPayloadSourceTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    [Fact]
    public async Task A_listener_that_throws_during_an_assignment_stops_the_source_after_the_rebalance_completed()
    {
        var topic = await kafka.CreateTopicAsync(2, "throws");
        await kafka.ProduceAsync([topic], partitions: 2, count: 10);
        using var logs = new TestOutputLogs(output);
        using var source = new KafkaPayloadSource(IntegrationSettings.Kafka(kafka, kafka.NewGroupId(), [topic]), logs.CreateLogger<KafkaPayloadSource>());
        var listener = new Listener { OnAssignedAction = _ => throw new InvalidCastException("the listener broke") };
        source.Start(listener);

        var watch = Stopwatch.StartNew();
        var failure = Assert.Throws<InvalidOperationException>(() =>
        {
            while (watch.Elapsed < IntegrationSettings.Timeout)
            {
                source.TryReceive(TimeSpan.FromMilliseconds(100), out _, CancellationToken.None);
            }
        });
        Assert.IsType<InvalidCastException>(failure.InnerException);
        Assert.Equal(2, source.Assignment.Count); // librdkafka finished the assignment: the exception never crossed Consume
    }

    [Fact]
    public async Task Partitions_paused_inside_the_assignment_handler_deliver_nothing_until_resumed_and_then_each_message_once()
    {
        var topic = await kafka.CreateTopicAsync(2, "paused");
        await kafka.ProduceAsync([topic], partitions: 2, count: 40);
        using var logs = new TestOutputLogs(output);
        using var source = new KafkaPayloadSource(IntegrationSettings.Kafka(kafka, kafka.NewGroupId(), [topic]), logs.CreateLogger<KafkaPayloadSource>());
        IReadOnlyList<SourcePartition>? assigned = null;
        var listener = new Listener
        {
            // The engine does this when it is over its budget as partitions arrive: librdkafka has not
            // assigned them yet, so the source applies the pause right after the handler.
            OnAssignedAction = partitions =>
            {
                assigned = partitions;
                source.Pause(partitions);
            },
        };
        source.Start(listener);
        var received = new List<SourceMessage>();
        var watch = Stopwatch.StartNew();
        while (assigned is null && watch.Elapsed < IntegrationSettings.Timeout)
        {
            Receive();
        }

        Assert.NotNull(assigned);

        // Poll as the engine would for two seconds: at most the message returned by the very Consume
        // call that ran the handler gets through; the fetched rest waits.
        var pausedAt = watch.Elapsed;
        while (watch.Elapsed - pausedAt < TimeSpan.FromSeconds(2))
        {
            Receive();
        }

        var whilePaused = received.Count;
        output.WriteLine($"{whilePaused} messages while paused");
        Assert.InRange(whilePaused, 0, 1);

        source.Resume(assigned);
        while (received.Count < 40 && watch.Elapsed < IntegrationSettings.Timeout)
        {
            Receive();
        }

        Assert.Equal(40, received.Count);
        Assert.Equal(40, received.Select(m => (m.Partition, m.Offset)).Distinct().Count());
        source.Close();

        void Receive()
        {
            if (source.TryReceive(TimeSpan.FromMilliseconds(100), out var message, CancellationToken.None))
            {
                received.Add(message);
            }
        }
    }

    /// <summary>
    /// librdkafka's close has hung for some users with brokers gone; on this version the revocation's
    /// commit fails once the coordinator has been missing for the session timeout, and the close
    /// returns: a host stopping during a Kafka outage stops, and the uncommitted records are read
    /// again by the next owner.
    /// </summary>
    [Fact]
    public async Task Close_with_every_broker_down_returns_within_the_session_timeout_and_the_revocation_commit_is_refused()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaClusterOptions { BrokerCount = 1 });
        await cluster.EnsureTopicAsync("down", 2);
        using (var producer = new Confluent.Kafka.ProducerBuilder<byte[], byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(new Confluent.Kafka.TopicPartition("down", i % 2), new Confluent.Kafka.Message<byte[], byte[]> { Key = [1, 0, 0, 0], Value = [1] });
            }
        }

        using var logs = new TestOutputLogs(output);
        var options = new KafkaPayloadSourceOptions
        {
            BootstrapServers = cluster.BootstrapServers, Topics = ["down"], GroupId = "down-group",
            SessionTimeout = TimeSpan.FromSeconds(6), HeartbeatInterval = TimeSpan.FromSeconds(1), FetchWaitMax = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var source = new KafkaPayloadSource(options, logs.CreateLogger<KafkaPayloadSource>());
        var received = new List<SourceMessage>();
        bool? committed = null;
        var listener = new Listener { OnRevokingAction = _ => committed = source.Commit([.. received.Select(m => new SourceOffset(m.Partition, m.Offset + 1))]) };
        source.Start(listener);
        var watch = Stopwatch.StartNew();
        while (received.Count < 10 && watch.Elapsed < IntegrationSettings.Timeout)
        {
            if (source.TryReceive(TimeSpan.FromMilliseconds(100), out var message, CancellationToken.None))
            {
                received.Add(message);
            }
        }

        Assert.Equal(10, received.Count);
        cluster.SetBrokerDown(1);
        await Task.Delay(500);
        var closing = Stopwatch.StartNew();
        var close = Task.Run(source.Close);
        var finished = await Task.WhenAny(close, Task.Delay(options.SessionTimeout + TimeSpan.FromSeconds(20))) == close;
        output.WriteLine($"close finished: {finished} after {closing.Elapsed}");
        Assert.True(finished, $"Close did not return within {options.SessionTimeout + TimeSpan.FromSeconds(20)} with the broker down");
        Assert.False(committed, "the revocation's commit cannot reach a coordinator");
    }

    private sealed class Listener : IPayloadSourceListener
    {
        public Action<IReadOnlyList<SourcePartition>>? OnAssignedAction { get; init; }

        public void OnAssigned(IReadOnlyList<SourcePartition> partitions) => OnAssignedAction?.Invoke(partitions);

        public Action<IReadOnlyList<SourcePartition>>? OnRevokingAction { get; init; }

        public void OnRevoking(IReadOnlyList<SourcePartition> partitions) => OnRevokingAction?.Invoke(partitions);

        public void OnLost(IReadOnlyList<SourcePartition> partitions)
        {
        }
    }
}
