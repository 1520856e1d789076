using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>Game day 1: every sink worker of the group killed at once (SIGKILL), then restarted.</summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class SinkWorkersKilledTogetherGameDay(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const int Workers = 3;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Every_sink_worker_killed_at_once_then_restarted_drains_the_lag_resumes_segments_and_loses_nothing()
    {
        var figures = new Figures(output, "1-every-sink-worker-killed");
        using var root = new TempFolder("gameday-kill-all");
        var workload = GameDayWorkload.Generate(seed: 101, points: 600_000);
        string[] topics = [await kafka.CreateTopicAsync(4, "killall-a"), await kafka.CreateTopicAsync(4, "killall-b")];
        var group = kafka.NewGroupId("killall");
        var storePath = Path.Combine(root.Path, "store");
        Directory.CreateDirectory(storePath);
        await using var store = new LocalObjectStore(storePath);
        var config = new SinkWorkerConfig(new Uri(storePath).AbsoluteUri, kafka.BootstrapServers, group, topics);
        var configPath = config.WriteTo(Path.Combine(root.Path, "sink.json"));
        using var traffic = new KafkaTraffic(kafka, workload, topics, partitionsPerTopic: 4);
        using var watch = new GroupWatch(kafka, group, traffic.Partitions);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points, {workload.Bytes / 1024} KiB, windows {string.Join(", ", workload.Windows)}");

        var first = new List<SinkWorkerProcess>();
        var second = new List<SinkWorkerProcess>();
        try
        {
            for (var i = 0; i < Workers; i++)
            {
                first.Add(SinkWorkerProcess.Start($"first-{i}", configPath));
            }

            await SinkGroup.WaitForOwnersAsync(first, traffic.Partitions.Count);
            figures.Log($"{Workers} workers own the {traffic.Partitions.Count} partitions");
            var producing = traffic.RunAsync(watch, rate: 400);

            // Kill every worker at once while traffic flows and commits are moving.
            await Waiting.UntilAsync(() => traffic.Produced >= workload.Frames.Count * 2 / 5, GameDaySettings.Timeout, "40% of the traffic to be produced");
            foreach (var worker in first)
            {
                worker.Process.Kill();
            }

            var killedAt = figures.Clock.Elapsed;
            foreach (var worker in first)
            {
                Assert.Equal(137, await worker.Process.WaitForExitAsync(GameDaySettings.Timeout));
            }

            var committedAtKill = await watch.CommittedAsync();
            var endsAtKill = await watch.EndsAsync();
            var uncommittedAtKill = endsAtKill.Sum(e => e.Value - committedAtKill.GetValueOrDefault(e.Key));
            var segmentsAtKill = await SinkGroup.SegmentsByAsync(store, await WriterIdsAsync(first));
            figures.Log($"killed all {Workers} workers; {traffic.Produced} produced, {uncommittedAtKill} records uncommitted, {segmentsAtKill} segments written");

            // The outage: traffic keeps arriving and nobody consumes it.
            await Task.Delay(Outage);
            var lagAtRestart = await watch.LagAsync();
            var endsAtRestart = await watch.EndsAsync();
            var restartedAt = figures.Clock.Elapsed;
            for (var i = 0; i < Workers; i++)
            {
                second.Add(SinkWorkerProcess.Start($"second-{i}", configPath));
            }

            figures.Log($"restarted {Workers} workers; lag {lagAtRestart} records");
            await Waiting.UntilAsync(() => second.Any(w => w.Owned().Count > 0), GameDaySettings.Timeout, "a restarted worker to be assigned partitions");
            var firstAssignment = figures.Clock.Elapsed - restartedAt;
            var newWriters = await WriterIdsAsync(second);
            await Waiting.UntilAsync(async () => await SinkGroup.SegmentsByAsync(store, newWriters) > 0, GameDaySettings.Timeout, "a segment from a restarted worker");
            var firstSegment = figures.Clock.Elapsed - restartedAt;
            await watch.WaitForCommitsAsync(endsAtRestart, GameDaySettings.Timeout * 2, () => string.Join('\n', second.Select(w => w.Process.Describe())));
            var drained = figures.Clock.Elapsed - restartedAt;
            figures.Log($"after the restart: first assignment {firstAssignment.TotalSeconds:F1} s, first new segment {firstSegment.TotalSeconds:F1} s, lag at the restart drained {drained.TotalSeconds:F1} s");

            await producing;
            await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => string.Join('\n', second.Select(w => w.Process.Describe())));
            foreach (var worker in second)
            {
                Assert.Equal(0, await worker.StopAsync());
            }

            figures.Log("every payload committed; the restarted workers stopped gracefully");

            var audit = await SegmentAudit.ReadAsync(store);
            var missing = audit.Missing(workload);
            var duplicates = audit.Duplicates(workload);
            figures.Log($"segments: {audit.Segments} ({audit.Records} records), {missing.Count} payloads missing, {duplicates} duplicate copies, {audit.Unreadable.Count} unreadable");
            var compaction = await CompactionCheck.RunAsync(store, workload, config.Map(), Path.Combine(root.Path, "work"));
            figures.Log($"compaction: {compaction}");

            figures.Set("workers", Workers);
            figures.Set("payloads", workload.Frames.Count);
            figures.Set("points", workload.Points);
            figures.Set("killed_at_s", killedAt);
            figures.Set("produced_at_kill", endsAtKill.Values.Sum());
            figures.Set("uncommitted_at_kill", uncommittedAtKill);
            figures.Set("segments_before_kill", segmentsAtKill);
            figures.Set("outage_s", Outage);
            figures.Set("lag_at_restart", lagAtRestart);
            figures.Set("first_assignment_after_restart_s", firstAssignment);
            figures.Set("first_new_segment_after_restart_s", firstSegment);
            figures.Set("lag_drained_after_restart_s", drained);
            figures.Set("producer_throttled_s", traffic.Throttled);
            figures.Set("segments", audit.Segments);
            figures.Set("segments_by_restarted_workers", audit.SegmentsByWriter.Where(w => newWriters.Contains(w.Key)).Sum(w => w.Value));
            figures.Set("records", audit.Records);
            figures.Set("missing_payloads", missing.Count);
            figures.Set("duplicate_copies", duplicates);
            figures.Set("compaction", compaction);
            figures.Print();

            Assert.Empty(audit.Unreadable);
            Assert.Empty(missing);
            Assert.Equal(0, audit.Unknown(workload));
            Assert.True(audit.SegmentsByWriter.Keys.Any(newWriters.Contains), "the restarted workers wrote no segment");
            CompactionCheck.AssertNothingLost(compaction);
        }
        finally
        {
            foreach (var worker in first.Concat(second))
            {
                await worker.DisposeAsync();
            }
        }
    }

    private static async Task<HashSet<string>> WriterIdsAsync(IEnumerable<SinkWorkerProcess> workers)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var worker in workers)
        {
            ids.Add(await worker.WriterIdAsync());
        }

        return ids;
    }
}
