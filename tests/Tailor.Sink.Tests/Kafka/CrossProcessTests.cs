using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Kafka;

/// <summary>
/// Clients in other processes reach the embedded cluster like a real one, and a consumer process
/// killed with SIGKILL hands its partitions over after its session times out, with every message it
/// had not committed delivered again to the new owner.
/// </summary>
public sealed class CrossProcessTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90); // generous: a loaded 2-core machine slows process start and rebalances

    [Fact]
    public async Task A_consumer_in_another_process_reads_and_commits_through_the_bootstrap_servers()
    {
        string[] topics = [await kafka.CreateTopicAsync(4, "remote-a"), await kafka.CreateTopicAsync(4, "remote-b")];
        const int Count = 800;
        var produced = await kafka.ProduceAsync(topics, partitions: 4, Count);
        var group = kafka.NewGroupId();

        await using var probe = KafkaProbe.Start(kafka.BootstrapServers, group, topics, commitAfter: Count);
        await probe.WaitForLineAsync(l => l.StartsWith("committed ", StringComparison.Ordinal), Timeout);
        output.WriteLine($"probe read and committed {Count} messages {probe.Started.ElapsedMilliseconds} ms after it was started");

        Assert.Equal(produced.ToHashSet(), KafkaProbe.Messages(probe).ToHashSet());
        Assert.Equal(Count, KafkaProbe.Messages(probe).Count);

        // The commit landed in the cluster: this process sees the group's offsets at the ends.
        using var reader = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(group)).Build();
        var partitions = topics.SelectMany(t => Enumerable.Range(0, 4).Select(p => new TopicPartition(t, p))).ToList();
        var committed = reader.Committed(partitions, Timeout);
        Assert.All(committed, c => Assert.Equal(Count / 8, c.Offset.Value));

        // SIGTERM: the probe leaves the group in order and exits cleanly.
        probe.Terminate();
        await probe.WaitForLineAsync(l => l == "closed", Timeout);
        Assert.Equal(0, await probe.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task A_killed_consumer_process_hands_its_partitions_over_after_the_session_timeout_and_its_uncommitted_messages_come_again()
    {
        var topic = await kafka.CreateTopicAsync(4, "killed");
        const int Count = 400;
        await kafka.ProduceAsync([topic], partitions: 4, Count);
        var group = kafka.NewGroupId();
        var all = Enumerable.Range(0, 4).Select(p => new TopicPartition(topic, p)).ToHashSet();

        // The probe commits after its first 20 messages, then reads on without committing.
        await using var probe = KafkaProbe.Start(kafka.BootstrapServers, group, [topic], commitAfter: 20, sessionTimeoutMs: 6000);
        await probe.WaitForLineAsync(l => l == "started", Timeout);
        var clock = Stopwatch.StartNew();
        await using var survivor = new PolledConsumer("survivor", kafka.ConsumerConfig(group, sessionTimeoutMs: 6000), [topic], clock: clock);
        await survivor.WaitForAssignmentAsync(Timeout);
        await probe.WaitForLineAsync(_ => KafkaProbe.Assignment(probe).Count + survivor.Assignment.Count == all.Count, Timeout);
        Assert.Equal(all, KafkaProbe.Assignment(probe).Union(survivor.Assignment).ToHashSet());
        Assert.NotEmpty(KafkaProbe.Assignment(probe));

        // Let the probe read all of the partitions it holds (100 messages each) past its commit, then kill
        // it. What it holds is read again at each line: on a loaded machine the group can rebalance once
        // more after both members first had partitions, and a count taken then would never be reached.
        await probe.WaitForLineAsync(l => l.StartsWith("committed ", StringComparison.Ordinal), Timeout);
        try
        {
            await probe.WaitForLineAsync(_ => ReadAllItHolds(), Timeout);
        }
        catch (TimeoutException e)
        {
            // Seen once in a full CI run (never alone): name what the probe holds and the group's history.
            throw new TimeoutException($"The probe did not read all of what it holds. {Holdings()}. {e.Message}", e);
        }
        var probeHeld = KafkaProbe.Assignment(probe);
        var committed = KafkaProbe.Committed(probe).ToDictionary(o => o.TopicPartition, o => o.Offset.Value);
        var readByProbe = KafkaProbe.Messages(probe);
        var killedAt = clock.Elapsed;
        probe.Kill();
        Assert.Equal(137, await probe.WaitForExitAsync(Timeout));

        await survivor.WaitForAsync(c => c.Assignment.SetEquals(all), Timeout, "the killed member's partitions");
        var takenOverAt = clock.Elapsed;
        await survivor.WaitForAsync(c => c.Messages.Count(m => probeHeld.Contains(m.Position.TopicPartition)) >= ExpectedAgain(), Timeout, "the uncommitted messages");
        output.WriteLine($"killed at {killedAt.TotalMilliseconds:F0} ms, partitions reassigned at {takenOverAt.TotalMilliseconds:F0} ms: {(takenOverAt - killedAt).TotalMilliseconds:F0} ms with session.timeout.ms 6000");
        output.WriteLine($"probe held {PolledConsumer.Format(probeHeld)}, committed {string.Join(" ", committed.Select(c => $"{c.Key.Partition.Value}@{c.Value}"))}; survivor: {survivor.Describe()}");

        // The survivor starts each taken-over partition exactly at the probe's commit (0 if none),
        // so what the probe read but had not committed is delivered again, nothing below it.
        foreach (var partition in probeHeld)
        {
            var start = committed.GetValueOrDefault(partition, 0);
            var again = survivor.Messages.Where(m => m.Position.TopicPartition == partition).Select(m => m.Position.Offset.Value).ToList();
            Assert.Equal(Enumerable.Range((int)start, 100 - (int)start).Select(i => (long)i), again);
            var readUncommitted = readByProbe.Where(m => m.TopicPartition == partition && m.Offset.Value >= start).Select(m => m.Offset.Value);
            Assert.Subset(again.ToHashSet(), readUncommitted.ToHashSet());
        }

        Assert.DoesNotContain(survivor.Events, e => e.Kind == RebalanceKind.Lost);

        int ExpectedAgain() => probeHeld.Sum(p => 100 - (int)committed.GetValueOrDefault(p, 0));

        string Holdings()
        {
            var read = KafkaProbe.Messages(probe);
            var held = KafkaProbe.Assignment(probe).Select(p =>
            {
                var offsets = read.Where(m => m.TopicPartition == p).Select(m => m.Offset.Value).Distinct().ToList();
                return $"{p.Partition.Value}: {offsets.Count} offsets read, last {(offsets.Count == 0 ? "none" : offsets.Max().ToString(CultureInfo.InvariantCulture))}";
            });
            var history = probe.Lines.Where(l => !l.StartsWith("msg ", StringComparison.Ordinal));
            return $"Holds [{string.Join("; ", held)}]; its lines other than messages: [{string.Join(" | ", history)}]; survivor: {survivor.Describe()}";
        }

        bool ReadAllItHolds()
        {
            var held = KafkaProbe.Assignment(probe);
            var read = KafkaProbe.Messages(probe);
            return held.Count > 0 && held.All(p => read.Where(m => m.TopicPartition == p).Select(m => m.Offset.Value).Distinct().Count() >= 100);
        }
    }
}
