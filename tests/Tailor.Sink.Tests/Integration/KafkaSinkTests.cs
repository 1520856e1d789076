using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// Sink workers in this process on the embedded cluster and local stores: poison messages, replay
/// from a time, a failing store, and workers joining and leaving the group.
/// </summary>
[Collection(SinkIntegrationCollection.Name)]
public sealed class KafkaSinkTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>, IDisposable
{
    private static readonly DateTimeOffset Base = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("tailor-sink-it-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Poison_messages_end_in_dead_letters_with_their_coordinates_and_the_partition_keeps_flowing()
    {
        var topic = await kafka.CreateTopicAsync(2, "poison");
        var group = kafka.NewGroupId("poison");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, [topic], partitionsPerTopic: 2, count: 200, seed: 21);
        await using var store = new LocalObjectStore(_root.FullName);
        var options = IntegrationSettings.Engine();
        options.MaxPayloadBytes = 64 * 1024;
        await using var worker = new InProcessWorker("w1", IntegrationSettings.Kafka(kafka, group, [topic]), options, store, logs);

        // Good payloads, then four kinds of poison in partition 0, then good payloads again.
        await traffic.ProduceAsync(0, 100);
        var good = traffic.Frames[0].Frame;
        using var producer = kafka.CreateProducer();
        var target = new TopicPartition(topic, 0);
        (string Kind, Message<byte[], byte[]> Message)[] poison =
        [
            ("missing key", new() { Key = null!, Value = good }),
            ("malformed key", new() { Key = [1, 2, 3], Value = good }),
            ("not zstd", new() { Key = KafkaClusterFixture.OrgKey(7), Value = "this is not a zstd frame"u8.ToArray() }),
            ("over the size limit", new() { Key = KafkaClusterFixture.OrgKey(7), Value = new byte[100 * 1024] }),
        ];
        var poisoned = new List<(string Kind, long Offset, byte[] Value)>();
        foreach (var (kind, message) in poison)
        {
            var delivery = await producer.ProduceAsync(target, message);
            poisoned.Add((kind, delivery.Offset.Value, message.Value));
        }

        await traffic.ProduceAsync(100, 100);
        await Waiting.UntilAsync(() => worker.Engine.Status.Payloads == 200 && worker.Engine.Status.DeadLetters == 4, IntegrationSettings.Timeout, "200 payloads and 4 dead letters", worker.Describe);
        await worker.StopAsync();

        // Each poison message is one dead letter named by its coordinates, holding its value as received.
        var letters = new Dictionary<string, (JsonElement Header, byte[] Value)>();
        await foreach (var info in store.ListAsync(ObjectKeys.DeadLetterRoot))
        {
            var bytes = new byte[info.Size];
            await store.ReadAsync(info.Key, 0, bytes);
            var newline = Array.IndexOf(bytes, (byte)'\n');
            using var header = JsonDocument.Parse(bytes.AsMemory(0, newline));
            letters[info.Key] = (header.RootElement.Clone(), bytes[(newline + 1)..]);
        }

        Assert.Equal(4, letters.Count);
        foreach (var (kind, offset, value) in poisoned)
        {
            var (header, stored) = letters[ObjectKeys.DeadLetter(topic, 0, offset)];
            output.WriteLine($"{kind} at {topic}[0]@{offset}: {header.GetProperty("reason").GetString()}");
            Assert.Equal(topic, header.GetProperty("topic").GetString());
            Assert.Equal(0, header.GetProperty("partition").GetInt32());
            Assert.Equal(offset, header.GetProperty("offset").GetInt64());
            Assert.False(string.IsNullOrEmpty(header.GetProperty("reason").GetString()));
            Assert.Equal(value, stored);
        }

        // The partition kept flowing: every good payload, before and after the poison, is in a segment,
        // and the commit passed the poison.
        var frames = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(frames.Missing(200));
        Assert.Equal(200, frames.Records.Count);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        var committed = await offsets.CommittedAsync();
        Assert.Equal(traffic.Ends()[target], committed[target]);
        Assert.All(poisoned, p => Assert.InRange(p.Offset, 0, committed[target] - 51));
        Assert.Equal(traffic.Ends()[new TopicPartition(topic, 1)], committed[new TopicPartition(topic, 1)]);
    }

    [Fact]
    public async Task Replay_from_a_time_re_reads_the_messages_after_it_and_never_skips_unread_ones()
    {
        // Message i is stamped Base + i s and sits in partition i % 2 at offset i / 2.
        var topic = await kafka.CreateTopicAsync(2, "replay");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, [topic], partitionsPerTopic: 2, count: 300, seed: 31);
        Timestamp Stamp(int i) => new(Base.AddSeconds(i));
        var caughtUp = kafka.NewGroupId("replay-all");
        var behind = kafka.NewGroupId("replay-behind");

        // "behind" read messages 0..199 and stopped; "caught up" read all 300 afterwards.
        await traffic.ProduceAsync(0, 200, Stamp);
        await RunAsync(behind, expected: 200, replayFrom: null);
        await traffic.ProduceAsync(200, 100, Stamp);
        await RunAsync(caughtUp, expected: 300, replayFrom: null);

        // Replay both: from Base + 150 s the caught-up group reads 150..299 again; from Base + 250 s the
        // group that is behind starts at its commit (200..299), not at the time.
        var watch = Stopwatch.StartNew();
        var replays = await Task.WhenAll(
            RunAsync(caughtUp, expected: 150, replayFrom: Base.AddSeconds(150)),
            RunAsync(behind, expected: 100, replayFrom: Base.AddSeconds(250)));
        output.WriteLine($"both replays took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(Enumerable.Range(150, 150), replays[0]);
        Assert.Equal(Enumerable.Range(200, 100), replays[1]);

        using var offsets = new GroupOffsets(kafka, caughtUp, traffic.Partitions);
        Assert.Equal(GroupOffsets.Format(traffic.Ends()), GroupOffsets.Format(await offsets.CommittedAsync()));

        // Runs one worker of the group until it wrote `expected` payloads; returns the frames it wrote, sorted.
        async Task<List<int>> RunAsync(string group, int expected, DateTimeOffset? replayFrom)
        {
            var kafkaOptions = IntegrationSettings.Kafka(kafka, group, [topic]);
            kafkaOptions.ReplayFrom = replayFrom;
            var folder = Directory.CreateDirectory(Path.Combine(_root.FullName, $"{group}-{replayFrom?.ToUnixTimeSeconds() ?? 0}"));
            await using var store = new LocalObjectStore(folder.FullName);
            await using (var worker = new InProcessWorker(group, kafkaOptions, IntegrationSettings.Engine(), store, logs))
            {
                await Waiting.UntilAsync(() => worker.Engine.Status.Payloads >= expected, IntegrationSettings.Timeout, $"{expected} payloads", worker.Describe);
                await worker.StopAsync();
                Assert.Equal(expected, worker.Engine.Status.Payloads);
            }

            var stored = await StoredFrames.ReadAsync(store, traffic);
            Assert.Equal(expected, stored.Records.Count);
            return [.. stored.Copies.Keys.Order()];
        }
    }

    [Fact]
    public async Task A_store_failing_a_fifth_of_its_calls_for_a_while_then_all_of_them_loses_nothing_and_its_retries_are_counted()
    {
        const int Count = 3000;
        string[] topics = [await kafka.CreateTopicAsync(4, "faults-a"), await kafka.CreateTopicAsync(4, "faults-b")];
        var group = kafka.NewGroupId("faults");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 41);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        var faults = new FaultInjectionOptions { FailureRate = 0.2, Seed = 41 };
        var injected = new FaultInjectingObjectStore(new LocalObjectStore(_root.FullName), faults);
        await using var store = new RetryingObjectStore(
            injected, new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(100), MaxAttempts = 8, Seed = 41 });
        using var meter = new MetricCapture(ObjectStoreMetrics.MeterName);
        await using var worker = new InProcessWorker("w1", IntegrationSettings.Kafka(kafka, group, topics), IntegrationSettings.Engine(maxPayloads: 20), store, logs);

        // A third of the traffic goes through a store that fails 20% of its calls with 503, 500 or
        // resets: the retries absorb them.
        const int Third = Count / 3;
        await traffic.ProduceInStepAsync(0, Third, batch: 250, offsets);
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, worker.Describe);
        var failedWhileFaulty = injected.InjectedFailures;
        var retriesWhileFaulty = meter.Sum(ObjectStoreMetrics.RetriesName, ("store", store.Name));
        Assert.Equal(0, worker.Engine.Status.Rewinds);

        // Then every call fails until an upload gives up: the worker aborts its segments and re-reads
        // from the last commit (a seek on every partition), and carries on once the store is back.
        faults.FailureRate = 1;
        var outage = traffic.ProduceInStepAsync(Third, Third, batch: 250, offsets);
        await Waiting.UntilAsync(() => worker.Engine.Status.Rewinds >= 1, IntegrationSettings.Timeout, "a rewind after failed uploads", worker.Describe);
        faults.FailureRate = 0;
        await outage;
        await traffic.ProduceInStepAsync(2 * Third, Count - (2 * Third), batch: 250, offsets);
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, worker.Describe);
        await worker.StopAsync();

        var stored = await StoredFrames.ReadAsync(store, traffic);
        output.WriteLine($"{failedWhileFaulty} failures injected at 20%, {retriesWhileFaulty} retries counted on {ObjectStoreMetrics.MeterName}; " +
            $"{injected.InjectedFailures} failures in all; {stored.ExtraCopies} duplicates; {worker.Describe()}");
        Assert.Empty(stored.Missing(Count));
        Assert.Empty(stored.Unknown);
        Assert.True(failedWhileFaulty >= 20, $"only {failedWhileFaulty} failures were injected");
        Assert.InRange(retriesWhileFaulty, failedWhileFaulty * 0.9, failedWhileFaulty);
        Assert.True(worker.Engine.Status.SegmentsFailed >= 1);

        // Only the outage's re-read can duplicate: records of segments uploaded but not yet committed.
        var secondThird = Enumerable.Range(0, 2 * Third).ToHashSet();
        Assert.All(stored.Copies.Where(c => c.Value > 1), c => Assert.Contains(c.Key, secondThird));
    }

    [Fact]
    public async Task A_slow_store_pauses_every_partition_past_the_buffer_budget_and_resumes_them_without_losing_anything()
    {
        const int Count = 6000;
        string[] topics = [await kafka.CreateTopicAsync(4, "budget-a"), await kafka.CreateTopicAsync(4, "budget-b")];
        var group = kafka.NewGroupId("budget");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 45);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);

        // Every store call takes 150 ms, so uploads fall behind a consumer that reads 2 MB in a moment.
        await using var store = new FaultInjectingObjectStore(new LocalObjectStore(_root.FullName), new FaultInjectionOptions { Latency = TimeSpan.FromMilliseconds(150) });
        var options = IntegrationSettings.Engine(maxPayloads: 100_000);
        options.BufferBudgetBytes = 1 << 20;
        options.ChunkBytes = 16 * 1024;
        await using var worker = new InProcessWorker("w1", IntegrationSettings.Kafka(kafka, group, topics), options, store, logs);
        await traffic.ProduceInStepAsync(0, Count, batch: 2000, offsets);
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, worker.Describe);
        await worker.StopAsync();

        var pauses = worker.Events.Where(e => e.Kind == "paused").ToList();
        var resumes = worker.Events.Where(e => e.Kind == "resumed").ToList();
        output.WriteLine($"{pauses.Count} pauses, {resumes.Count} resumes; {worker.Engine.Status}");
        Assert.NotEmpty(pauses);
        Assert.NotEmpty(resumes);
        Assert.All(pauses, p => Assert.Equal(8, p.Partitions.Count));
        Assert.InRange(worker.Engine.Status.PeakBufferedBytes, options.BufferBudgetBytes, 2 * options.BufferBudgetBytes);
        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Missing(Count));
        Assert.Equal(Count, stored.Records.Count);
    }

    [Fact]
    public async Task Two_workers_then_a_third_joins_then_one_leaves_and_nothing_is_missing_or_written_twice()
    {
        const int Count = 6000;
        const int Phase = Count / 3;
        string[] topics = [await kafka.CreateTopicAsync(4, "members-a"), await kafka.CreateTopicAsync(4, "members-b")];
        var group = kafka.NewGroupId("members");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 51);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        var all = traffic.Partitions.Select(p => new SourcePartition(p.Topic, p.Partition.Value)).ToHashSet();
        var store = new RecordingStore(new LocalObjectStore(_root.FullName));
        await using var disposeStore = store;
        var clock = Stopwatch.StartNew();
        InProcessWorker Start(string name) => new(name, IntegrationSettings.Kafka(kafka, group, topics), IntegrationSettings.Engine(), store, logs, clock);
        string Describe(IEnumerable<InProcessWorker> workers) => string.Join(" | ", workers.Select(w => w.Describe()));
        Task Settled(params InProcessWorker[] workers) => Waiting.UntilAsync(
            () =>
            {
                var owned = workers.SelectMany(w => w.Assignment).ToList();
                return owned.Count == all.Count && all.SetEquals(owned) && workers.All(w => w.Assignment.Count > 0);
            },
            IntegrationSettings.Timeout,
            $"{workers.Length} workers owning every partition once",
            () => Describe(workers));

        await using var a = Start("a");
        await using var b = Start("b");
        await Settled(a, b);
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: a and b own every partition");
        await traffic.ProduceInStepAsync(0, Phase, batch: 400, offsets);

        // A third worker joins while traffic flows: cooperative rebalances move some partitions to it.
        await using var c = Start("c");
        var producing = traffic.ProduceInStepAsync(Phase, Phase, batch: 200, offsets);
        await Settled(a, b, c);
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: a, b and c own every partition");
        await producing;

        // b leaves in order while traffic flows: its partitions go to a and c.
        producing = traffic.ProduceInStepAsync(2 * Phase, Count - (2 * Phase), batch: 200, offsets);
        await b.StopAsync();
        await Settled(a, c);
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: a and c own every partition");
        await producing;
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, () => Describe([a, c]));
        await a.StopAsync();
        await c.StopAsync();
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: stopped. {Describe([a, b, c])}");

        // Nothing missing; every segment readable (the reader checks footers and records).
        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Missing(Count));
        Assert.Empty(stored.Unknown);

        // No key was written twice, and each segment key names the worker that wrote it.
        var writes = store.Writes;
        Assert.Equal(writes.Count, writes.Distinct(StringComparer.Ordinal).Count());
        var writers = new[] { a, b, c }.Select(w => ObjectKeys.FormatWriterId(w.Engine.WriterId)).ToHashSet();
        Assert.All(stored.Records.Select(r => r.Key).Distinct(), key => Assert.Contains(Path.GetFileName(key)[..16], writers));

        // Duplicates come only from partitions that changed owner.
        var moved = new[] { a, b, c }.SelectMany(w => w.Events).Where(e => e.Kind is "revoked" or "lost").SelectMany(e => e.Partitions).ToHashSet();
        var duplicated = stored.Copies.Where(c => c.Value > 1).Select(c => traffic.PositionOf(c.Key).TopicPartition).Select(p => new SourcePartition(p.Topic, p.Partition.Value)).ToHashSet();
        output.WriteLine($"{stored.ExtraCopies} duplicates in [{string.Join(" ", duplicated)}]; partitions that moved: [{string.Join(" ", moved)}]");
        Assert.Subset(moved, duplicated);
    }
}
