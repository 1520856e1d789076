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

    private sealed class Listener : IPayloadSourceListener
    {
        public Action<IReadOnlyList<SourcePartition>>? OnAssignedAction { get; init; }

        public void OnAssigned(IReadOnlyList<SourcePartition> partitions) => OnAssignedAction?.Invoke(partitions);

        public void OnRevoking(IReadOnlyList<SourcePartition> partitions)
        {
        }

        public void OnLost(IReadOnlyList<SourcePartition> partitions)
        {
        }
    }
}
