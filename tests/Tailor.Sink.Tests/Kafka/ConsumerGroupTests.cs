using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Kafka;

/// <summary>
/// Consumer-group behaviour the sink relies on, established on the embedded cluster with the sink's
/// settings (cooperative-sticky, no auto-commit, no automatic offset store).
/// </summary>
public sealed class ConsumerGroupTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task One_group_reads_every_message_of_two_topics_with_four_partitions_each()
    {
        string[] topics = [await kafka.CreateTopicAsync(4, "metrics-a"), await kafka.CreateTopicAsync(4, "metrics-b")];
        const int Count = 2000;
        var produced = await kafka.ProduceAsync(topics, partitions: 4, Count);

        var clock = Stopwatch.StartNew();
        await using var consumer = new PolledConsumer("c1", kafka.ConsumerConfig(kafka.NewGroupId()), topics, clock: clock);
        await consumer.WaitForAsync(c => c.Assignment.Count == 8, Timeout, "all 8 partitions");
        var assignedAt = clock.Elapsed;
        await consumer.WaitForAsync(c => c.MessageCount >= Count, Timeout, $"{Count} messages");
        output.WriteLine($"first assignment after {assignedAt.TotalMilliseconds:F0} ms, {Count} messages after {clock.ElapsedMilliseconds} ms");

        var messages = consumer.Messages;
        Assert.Equal(Count, messages.Count);
        Assert.Equal(produced.ToHashSet(), messages.Select(m => m.Position).ToHashSet());
        foreach (var message in messages)
        {
            var index = KafkaClusterFixture.IndexOf(message.Value);
            Assert.Equal(produced[index], message.Position);
            Assert.Equal((uint)(index % 1000), BinaryPrimitives.ReadUInt32LittleEndian(message.Key));
            Assert.Equal(KafkaClusterFixture.MessageValue(index), message.Value);
        }

        // Every partition got its share, in offset order.
        foreach (var partition in messages.GroupBy(m => m.Position.TopicPartition))
        {
            Assert.Equal(Count / 8, partition.Count());
            Assert.Equal(Enumerable.Range(0, Count / 8).Select(i => (long)i), partition.Select(m => m.Position.Offset.Value));
        }
    }

    [Fact]
    public async Task A_restarted_consumer_resumes_from_the_explicitly_committed_offsets()
    {
        var topic = await kafka.CreateTopicAsync(4, "resume");
        await kafka.ProduceAsync([topic], partitions: 4, 400);
        var group = kafka.NewGroupId();

        // First run: read everything, commit only up to offset 60 of each partition.
        var committed = Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, 60)).ToList();
        await using (var first = new PolledConsumer("first", kafka.ConsumerConfig(group), [topic]))
        {
            await first.WaitForAsync(c => c.MessageCount >= 400, Timeout, "400 messages");
            var commit = Stopwatch.StartNew();
            await first.CommitAsync(committed);
            output.WriteLine($"Commit of 4 offsets took {commit.Elapsed.TotalMilliseconds:F1} ms");
            var stored = await first.InvokeAsync(c => c.Committed(Timeout));
            Assert.Equal(committed.ToHashSet(), stored.ToHashSet());
            await first.CloseAsync();
        }

        // Second run, same group: starts exactly at the committed offsets.
        await using var second = new PolledConsumer("second", kafka.ConsumerConfig(group), [topic]);
        await second.WaitForAsync(c => c.MessageCount >= 4 * 40, Timeout, "the 160 uncommitted messages");
        var messages = second.Messages;
        Assert.Equal(160, messages.Count);
        foreach (var partition in messages.GroupBy(m => m.Position.Partition.Value))
        {
            Assert.Equal(Enumerable.Range(60, 40).Select(i => (long)i), partition.Select(m => m.Position.Offset.Value));
        }
    }

    [Fact]
    public async Task Paused_partitions_deliver_nothing_while_Consume_goes_on_and_resume_where_they_stopped()
    {
        var topic = await kafka.CreateTopicAsync(4, "pause");
        await using var consumer = new PolledConsumer("c1", kafka.ConsumerConfig(kafka.NewGroupId()), [topic]);
        await consumer.WaitForAsync(c => c.Assignment.Count == 4, Timeout, "4 partitions");

        TopicPartition[] paused = [new(topic, 0), new(topic, 1)];
        await consumer.InvokeAsync(c => { c.Pause(paused); return true; });
        await kafka.ProduceAsync([topic], partitions: 4, 400);

        // The running partitions deliver all 200 of theirs; then a marker produced afterwards to a
        // running partition arrives. Anything of the paused ones would have come before it.
        await consumer.WaitForAsync(c => c.MessageCount >= 200, Timeout, "200 messages of partitions 2 and 3");
        using (var producer = kafka.CreateProducer())
        {
            await producer.ProduceAsync(new TopicPartition(topic, 2), new Message<byte[], byte[]> { Key = KafkaClusterFixture.OrgKey(1), Value = KafkaClusterFixture.MessageValue(-1) });
        }

        await consumer.WaitForAsync(c => c.MessageCount >= 201, Timeout, "the marker");
        Assert.DoesNotContain(consumer.Messages, m => paused.Contains(m.Position.TopicPartition));
        Assert.Equal(4, (await consumer.InvokeAsync(c => c.Assignment)).Count); // pausing keeps the assignment

        await consumer.InvokeAsync(c => { c.Resume(paused); return true; });
        await consumer.WaitForAsync(c => c.MessageCount >= 401, Timeout, "the paused partitions' 200 messages");
        foreach (var partition in paused)
        {
            var offsets = consumer.Messages.Where(m => m.Position.TopicPartition == partition).Select(m => m.Position.Offset.Value);
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), offsets);
        }
    }

    [Fact]
    public async Task A_member_that_stops_polling_loses_its_partitions_and_its_commit_is_refused()
    {
        var topic = await kafka.CreateTopicAsync(4, "stall");
        await kafka.ProduceAsync([topic], partitions: 4, 40);
        var group = kafka.NewGroupId();
        var config = kafka.ConsumerConfig(group, sessionTimeoutMs: 3000);
        config.MaxPollIntervalMs = 3000; // librdkafka requires max.poll.interval.ms >= session.timeout.ms

        var clock = Stopwatch.StartNew();
        await using var stalled = new PolledConsumer("stalled", config, [topic], clock: clock);
        await using var healthy = new PolledConsumer("healthy", config, [topic], clock: clock);
        await stalled.WaitForAsync(c => c.Assignment.Count > 0 && c.MessageCount >= c.Assignment.Count * 10, Timeout, "its partitions read");
        await healthy.WaitForAssignmentAsync(Timeout);
        var held = stalled.Assignment;
        var stalledOffsets = stalled.NextOffsets();

        // Block the stalled member's poll thread until the group has given its partitions away.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stallStarted = clock.Elapsed;
        var stall = stalled.InvokeAsync(_ => release.Task.Wait(Timeout));
        await healthy.WaitForAsync(c => c.Assignment.Count == 4, Timeout, "all partitions after the stall");
        var takenOver = clock.Elapsed;
        release.SetResult();
        await stall;

        // Back in Consume, the stalled member learns it lost them, and cannot commit for them.
        await stalled.WaitForAsync(c => c.Events.Any(e => e.Kind == RebalanceKind.Lost), Timeout, "a lost event");
        var lost = stalled.Events.First(e => e.Kind == RebalanceKind.Lost);
        Assert.Equal(held, lost.Partitions.ToHashSet());
        var refused = await Assert.ThrowsAnyAsync<KafkaException>(() => stalled.CommitAsync(stalledOffsets));
        output.WriteLine($"stall at {stallStarted.TotalMilliseconds:F0} ms, healthy member held all 4 at {takenOver.TotalMilliseconds:F0} ms; stalled member: {stalled.Describe()}");
        output.WriteLine($"commit after losing the partitions: {refused.Error.Code} {refused.Error.Reason}");
        Assert.Contains(stalled.Errors, e => e.Contains("poll interval", StringComparison.OrdinalIgnoreCase));

        // Nothing the stalled member read past the group's committed offsets was committed.
        var committed = await healthy.InvokeAsync(c => c.Committed(held, Timeout));
        Assert.All(committed, c => Assert.Equal(Offset.Unset, c.Offset));
    }
}
