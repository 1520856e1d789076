using Confluent.Kafka;

namespace Tailor.Sink.Kafka;

/// <summary>
/// Finds, for each partition, the first offset whose message timestamp is at or after a time: what
/// <c>--replay-from TIME</c> moves a group's offsets to.
/// </summary>
/// <remarks>
/// <para>The broker's own lookup (<c>OffsetsForTimes</c>) is asked first. A broker that has no
/// message at or after the time answers "end"; librdkafka's mock cluster answers "end" for
/// <em>every</em> timestamp. So an "end" answer is checked against the partition's last message:
/// when that message is at or after the time, the answer cannot be right, and the partition is
/// binary-searched by reading single messages, which assumes timestamps do not decrease along the
/// partition (true for producer timestamps from a clock, within clock skew).</para>
/// <para>The search reads with its own consumer, which never joins a group and never commits.</para>
/// </remarks>
public static class OffsetTimeSearch
{
    /// <summary>Finds the first offset at or after <paramref name="time"/> in each of <paramref name="partitions"/>.</summary>
    /// <param name="config">Connection settings (bootstrap servers, security); group and commit settings are ignored.</param>
    /// <param name="partitions">Partitions to look in.</param>
    /// <param name="time">The time to replay from.</param>
    /// <param name="timeout">Limit for each broker request.</param>
    /// <returns>
    /// One offset per partition, in the order given: the first message at or after the time, or the
    /// partition's end offset when every message is older.
    /// </returns>
    public static IReadOnlyList<TopicPartitionOffset> Find(ClientConfig config, IReadOnlyList<TopicPartition> partitions, DateTimeOffset time, TimeSpan timeout)
    {
        var readerConfig = new ConsumerConfig(new Dictionary<string, string>(config))
        {
            GroupId = "tailor-offset-time-search",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = false,
            FetchWaitMaxMs = 50,
        };
        using var reader = new ConsumerBuilder<Ignore, Ignore>(readerConfig).SetLogHandler((_, _) => { }).Build();
        var target = time.ToUnixTimeMilliseconds();
        var answers = reader.OffsetsForTimes(partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(time))), timeout);
        var found = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            var answer = answers.First(a => a.TopicPartition == partition);
            if (answer.Offset.Value >= 0)
            {
                found.Add(answer);
                continue;
            }

            var marks = reader.QueryWatermarkOffsets(partition, timeout);
            if (marks.High.Value <= marks.Low.Value)
            {
                found.Add(new TopicPartitionOffset(partition, marks.High));
                continue;
            }

            var last = ReadAt(reader, partition, marks.High.Value - 1, timeout);
            if (last is null || last.Value.Timestamp < target)
            {
                found.Add(new TopicPartitionOffset(partition, marks.High));
                continue;
            }

            found.Add(new TopicPartitionOffset(partition, Search(reader, partition, marks.Low.Value, marks.High.Value, target, timeout)));
        }

        return found;
    }

    /// <summary>The first offset in [low, high) whose timestamp is at or after <paramref name="target"/>, knowing the last one is.</summary>
    private static long Search(IConsumer<Ignore, Ignore> reader, TopicPartition partition, long low, long high, long target, TimeSpan timeout)
    {
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            var message = ReadAt(reader, partition, middle, timeout);
            if (message is null || message.Value.Timestamp >= target)
            {
                high = middle;
            }
            else
            {
                // Offsets between middle and the message read do not exist (deleted or control records).
                low = message.Value.Offset + 1;
            }
        }

        return low;
    }

    /// <summary>The first message at or after <paramref name="offset"/>: its offset and timestamp (Unix ms).</summary>
    private static (long Offset, long Timestamp)? ReadAt(IConsumer<Ignore, Ignore> reader, TopicPartition partition, long offset, TimeSpan timeout)
    {
        reader.Assign(new TopicPartitionOffset(partition, offset));
        try
        {
            var result = reader.Consume(timeout);
            return result?.Message is null ? null : (result.Offset.Value, result.Message.Timestamp.UnixTimestampMs);
        }
        finally
        {
            reader.Unassign();
        }
    }
}
