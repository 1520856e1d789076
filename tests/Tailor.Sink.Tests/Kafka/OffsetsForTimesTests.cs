using System.Diagnostics;
using Confluent.Kafka;
using Tailor.Sink.Kafka;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Kafka;

/// <summary>
/// What <c>--replay-from TIME</c> can use on the mock: the broker lookup does not work, a search by
/// reading single messages does, and committing its result before the group joins moves the group.
/// </summary>
public sealed class OffsetsForTimesTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Base = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_mock_answers_end_to_every_offsets_for_times_lookup_but_keeps_message_timestamps()
    {
        var topic = await ProduceTimedAsync();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(kafka.NewGroupId())).Build();

        foreach (var time in new[] { DateTimeOffset.UnixEpoch, Base, Base.AddSeconds(51), Base.AddDays(1) })
        {
            var lookup = Enumerable.Range(0, 2).Select(p => new TopicPartitionTimestamp(new TopicPartition(topic, p), new Timestamp(time)));
            var answers = consumer.OffsetsForTimes(lookup, Timeout);
            Assert.All(answers, a => Assert.Equal(Offset.End, a.Offset));
        }

        // The producer's CreateTime survives the trip: a reader can search by it.
        consumer.Assign(new TopicPartitionOffset(topic, 1, 25));
        var message = consumer.Consume(Timeout);
        Assert.Equal(TimestampType.CreateTime, message.Message.Timestamp.Type);
        Assert.Equal(Base.AddSeconds(51).ToUnixTimeMilliseconds(), message.Message.Timestamp.UnixTimestampMs);
    }

    [Fact]
    public async Task OffsetTimeSearch_finds_the_first_offset_at_or_after_a_time()
    {
        var topic = await ProduceTimedAsync();
        TopicPartition[] partitions = [new(topic, 0), new(topic, 1)];
        var config = new ClientConfig { BootstrapServers = kafka.BootstrapServers };

        // Message i sits in partition i % 2 at offset i / 2, stamped Base + i seconds.
        var watch = Stopwatch.StartNew();
        var found = OffsetTimeSearch.Find(config, partitions, Base.AddSeconds(51), Timeout);
        output.WriteLine($"search over 2 x 50 messages took {watch.ElapsedMilliseconds} ms");
        Assert.Equal([new TopicPartitionOffset(topic, 0, 26), new TopicPartitionOffset(topic, 1, 25)], found);

        Assert.Equal([0L, 0L], OffsetTimeSearch.Find(config, partitions, Base.AddHours(-1), Timeout).Select(o => o.Offset.Value));
        Assert.Equal([1L, 0L], OffsetTimeSearch.Find(config, partitions, Base.AddSeconds(1), Timeout).Select(o => o.Offset.Value));
        Assert.Equal([50L, 50L], OffsetTimeSearch.Find(config, partitions, Base.AddHours(1), Timeout).Select(o => o.Offset.Value));
    }

    [Fact]
    public async Task A_commit_from_outside_the_group_works_only_for_a_group_the_mock_has_never_seen()
    {
        var topic = await ProduceTimedAsync();
        TopicPartitionOffset[] offsets = [new(topic, 0, 40), new(topic, 1, 40)];

        // A group nobody has joined yet: the commit is stored.
        var fresh = kafka.NewGroupId();
        using (var committer = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(fresh)).Build())
        {
            committer.Commit(offsets);
            Assert.Equal(offsets.ToHashSet(), committer.Committed(offsets.Select(o => o.TopicPartition), Timeout).ToHashSet());
        }

        // A group that had members, now empty: the mock answers UNKNOWN_MEMBER_ID (a real broker
        // accepts commits to an empty group, which is how offset resets work there).
        var used = kafka.NewGroupId();
        await using (var earlier = new PolledConsumer("earlier", kafka.ConsumerConfig(used), [topic]))
        {
            await earlier.WaitForAsync(c => c.MessageCount >= 100, Timeout, "100 messages");
            await earlier.CommitAsync(earlier.NextOffsets());
            await earlier.CloseAsync();
        }

        using var outsider = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(used)).Build();
        var refused = Assert.Throws<KafkaException>(() => outsider.Commit(offsets));
        Assert.Equal(ErrorCode.UnknownMemberId, refused.Error.Code);
    }

    [Fact]
    public async Task Replaying_from_a_time_starts_assigned_partitions_at_the_found_offsets_and_commits_move_the_group()
    {
        var topic = await ProduceTimedAsync();
        TopicPartition[] partitions = [new(topic, 0), new(topic, 1)];
        var group = kafka.NewGroupId();

        // The group has run before: it read everything and committed the ends.
        await using (var earlier = new PolledConsumer("earlier", kafka.ConsumerConfig(group), [topic]))
        {
            await earlier.WaitForAsync(c => c.MessageCount >= 100, Timeout, "100 messages");
            await earlier.CommitAsync(earlier.NextOffsets());
            await earlier.CloseAsync();
        }

        // Replay from Base + 80 s: look the offsets up, then start each assigned partition there.
        var found = OffsetTimeSearch.Find(new ClientConfig { BootstrapServers = kafka.BootstrapServers }, partitions, Base.AddSeconds(80), Timeout);
        Assert.All(found, o => Assert.Equal(40, o.Offset.Value));
        await using var replay = new PolledConsumer(
            "replay",
            kafka.ConsumerConfig(group),
            [topic],
            onAssigned: (_, assigned) => assigned.Select(a => found.FirstOrDefault(f => f.TopicPartition == a.TopicPartition) ?? a));
        await replay.WaitForAsync(c => c.MessageCount >= 20, Timeout, "the 20 messages from 80 s on");
        Assert.Equal(20, replay.MessageCount);
        Assert.All(replay.Messages, m => Assert.True(m.Position.Offset.Value >= 40));
        Assert.All(replay.Messages, m => Assert.True(m.Timestamp.UnixTimestampMs >= Base.AddSeconds(80).ToUnixTimeMilliseconds()));

        // Committing as it goes leaves the group where a plain restart expects it.
        await replay.CommitAsync(replay.NextOffsets());
        var committed = await replay.InvokeAsync(c => c.Committed(partitions, Timeout));
        Assert.All(committed, c => Assert.Equal(50, c.Offset.Value));
    }

    /// <summary>Produces 100 messages to a 2-partition topic; message i at Base + i seconds in partition i % 2.</summary>
    private async Task<string> ProduceTimedAsync()
    {
        var topic = await kafka.CreateTopicAsync(2, "timed");
        await kafka.ProduceAsync([topic], partitions: 2, 100, i => new Timestamp(Base.AddSeconds(i)));
        return topic;
    }
}
