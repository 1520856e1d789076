using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 7: a sink worker stalls (SIGSTOP: every thread stops, heartbeats included) past its session
/// timeout while it holds open and uploading segments, the group gives its partitions to the other worker,
/// then it resumes (SIGCONT). Against s3rver behind a proxy that records every request.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class StalledSinkWorkerGameDay(KafkaClusterFixture kafka, S3rverFixture s3, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    [Fact]
    public async Task A_sink_worker_stalled_past_its_session_timeout_overwrites_nothing_commits_nothing_after_the_stall_and_loses_nothing()
    {
        var figures = new Figures(output, "7-stalled-sink-worker");
        using var root = new TempFolder("gameday-stall");
        var workload = GameDayWorkload.Generate(seed: 707, points: 450_000);
        string[] topics = [await kafka.CreateTopicAsync(4, "stall-a"), await kafka.CreateTopicAsync(4, "stall-b")];
        var group = kafka.NewGroupId("stall");
        var bucket = await s3.CreateBucketAsync("stall");
        await using var proxy = new S3Proxy(s3.Endpoint);
        await using var store = s3.OpenStore(bucket);
        var config = new SinkWorkerConfig(S3Store.Uri(bucket, proxy.Endpoint), kafka.BootstrapServers, group, topics);
        var configPath = config.WriteTo(Path.Combine(root.Path, "sink.json"));
        using var traffic = new KafkaTraffic(kafka, workload, topics, partitionsPerTopic: 4);
        using var watch = new GroupWatch(kafka, group, traffic.Partitions);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points; store s3://{bucket} through the recording proxy");

        await using var steady = SinkWorkerProcess.Start("steady", configPath, S3Store.Environment);
        await using var stalled = SinkWorkerProcess.Start("stalled", configPath, S3Store.Environment);
        SinkWorkerProcess[] workers = [steady, stalled];
        await SinkGroup.WaitForOwnersAsync(workers, traffic.Partitions.Count);
        var stalledWriter = await stalled.WriterIdAsync();
        watch.StartSampling(TimeSpan.FromMilliseconds(200));
        var producing = traffic.RunAsync(watch, rate: 500);

        // Stall the worker while it holds records in open segments: its partitions keep receiving traffic.
        await Waiting.UntilAsync(() => traffic.Produced >= workload.Frames.Count / 3, GameDaySettings.Timeout, "a third of the traffic to be produced");
        var ownedAtStall = stalled.Owned();
        var committedAtStall = await watch.CommittedAsync();
        stalled.Pause();
        var stalledAt = figures.Clock.Elapsed;
        var requestsAtStall = proxy.Requests.Count;
        figures.Log($"SIGSTOP {stalled.Name} (writer {stalledWriter}), which owned {string.Join(' ', ownedAtStall.Order())}");

        // The group notices after the session timeout and hands its partitions to the steady worker.
        await Waiting.UntilAsync(() => steady.Owned().Count == traffic.Partitions.Count, GameDaySettings.Timeout, "the steady worker to own every partition", steady.Process.Describe);
        var takeover = figures.Clock.Elapsed - stalledAt;
        var linesAtResume = stalled.Process.Lines.Count;
        stalled.Resume();
        var resumedAt = figures.Clock.Elapsed;
        figures.Log($"the steady worker owns every partition {takeover.TotalSeconds:F1} s after the stall; SIGCONT {stalled.Name}");

        // It learns it lost its partitions, rejoins, and the group gives it some back.
        await Waiting.UntilAsync(() => stalled.Events("lost", linesAtResume).Count > 0 || stalled.Events("revoked", linesAtResume).Count > 0,
            GameDaySettings.Timeout, "the stalled worker to learn it lost its partitions", stalled.Process.Describe);
        var learned = figures.Clock.Elapsed - resumedAt;
        await SinkGroup.WaitForOwnersAsync(workers, traffic.Partitions.Count, fromLine: 0);
        var rebalanced = figures.Clock.Elapsed - resumedAt;
        figures.Log($"after SIGCONT: lost reported in {learned.TotalSeconds:F1} s, both workers own partitions again in {rebalanced.TotalSeconds:F1} s");

        await producing;
        await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => steady.Process.Describe() + "\n" + stalled.Process.Describe());
        await watch.StopSamplingAsync();
        Assert.Equal(0, await steady.StopAsync());
        Assert.Equal(0, await stalled.StopAsync());

        // What the stalled worker itself says it did between SIGCONT and learning of the loss, and after.
        var afterResume = stalled.Process.Lines.Skip(linesAtResume).ToList();
        var lossLine = afterResume.FindIndex(l => l.StartsWith("lost ", StringComparison.Ordinal) || l.StartsWith("revoked ", StringComparison.Ordinal));
        var beforeLoss = lossLine < 0 ? afterResume : afterResume.Take(lossLine).ToList();
        var acceptedAfterStall = beforeLoss.Where(l => l.StartsWith("committed ", StringComparison.Ordinal)).ToList();
        var refusedAfterStall = beforeLoss.Count(l => l.StartsWith("commit-refused ", StringComparison.Ordinal));
        var unownedCommits = CommitsOutsideOwnership(stalled.Process.Lines, linesAtResume);
        figures.Log($"{stalled.Name} after SIGCONT, before the loss: {acceptedAfterStall.Count} commits accepted, {refusedAfterStall} refused; lines: {string.Join(" | ", afterResume.Take(6))}");

        // Every object write the store saw, by key: each key exactly once.
        var writes = proxy.Requests.Where(r => r.WritesObject && !r.Injected).Select(r => (Key: S3Proxy.KeyOf(r.Path, bucket), r.Status)).ToList();
        var segmentWrites = writes.Where(w => w.Key.StartsWith(ObjectKeys.SegmentsRoot, StringComparison.Ordinal)).ToList();
        var writtenTwice = segmentWrites.GroupBy(w => w.Key).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        var stalledWritesAfterResume = proxy.Requests.Skip(requestsAtStall).Count(r => r.WritesObject && r.Path.Contains($"/{stalledWriter}-", StringComparison.Ordinal));

        var audit = await SegmentAudit.ReadAsync(store);
        var missing = audit.Missing(workload);
        var duplicates = audit.Duplicates(workload);
        figures.Log($"segments: {audit.Segments} ({audit.Records} records), {segmentWrites.Count} segment writes seen by the proxy, {writtenTwice.Count} keys written twice, {missing.Count} payloads missing, {duplicates} duplicate copies, {audit.Unreadable.Count} unreadable");
        var compaction = await CompactionCheck.RunAsync(store, workload, config.Map(), Path.Combine(root.Path, "work"));
        figures.Log($"compaction: {compaction}");

        figures.Set("workers", 2);
        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("stalled_owned", ownedAtStall.Count);
        figures.Set("committed_at_stall", committedAtStall.Values.Sum());
        figures.Set("stall_s", resumedAt - stalledAt);
        figures.Set("takeover_after_stall_s", takeover);
        figures.Set("loss_reported_after_resume_s", learned);
        figures.Set("both_own_partitions_after_resume_s", rebalanced);
        figures.Set("commits_accepted_after_stall", acceptedAfterStall.Count);
        figures.Set("commits_refused_after_stall", refusedAfterStall);
        figures.Set("commits_outside_ownership", unownedCommits.Count);
        figures.Set("commit_regressions_seen", watch.Regressions.Count);
        figures.Set("commit_samples", watch.Samples);
        figures.Set("segment_writes", segmentWrites.Count);
        figures.Set("keys_written_twice", writtenTwice.Count);
        figures.Set("stalled_worker_writes_after_stall", stalledWritesAfterResume);
        figures.Set("segments", audit.Segments);
        figures.Set("missing_payloads", missing.Count);
        figures.Set("duplicate_copies", duplicates);
        figures.Set("compaction", compaction);
        figures.Print();

        Assert.True(acceptedAfterStall.Count == 0, $"the stalled worker committed after the stall: {string.Join(" | ", acceptedAfterStall)}");
        Assert.True(unownedCommits.Count == 0, $"commits of partitions the worker did not own: {string.Join(" | ", unownedCommits)}");
        Assert.True(watch.Regressions.Count == 0, $"the group's commits went backwards: {string.Join("; ", watch.Regressions)}");
        Assert.True(writtenTwice.Count == 0, $"keys written twice: {string.Join(", ", writtenTwice)}");
        Assert.All(segmentWrites, w => Assert.Equal(200, w.Status));
        Assert.Equal(audit.Segments, segmentWrites.Select(w => w.Key).Distinct().Count());
        Assert.Empty(audit.Unreadable);
        Assert.Empty(missing);
        Assert.Equal(0, audit.Unknown(workload));
        CompactionCheck.AssertNothingLost(compaction);
    }

    /// <summary>Commit lines of partitions the worker did not own at that point by its own assigned/revoked/lost lines (from the resume on).</summary>
    private static List<string> CommitsOutsideOwnership(IReadOnlyList<string> lines, int from)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal);
        var bad = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            var words = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            switch (words[0])
            {
                case "assigned":
                    owned.UnionWith(words.Skip(1));
                    break;
                case "revoked" or "lost":
                    owned.ExceptWith(words.Skip(1));
                    break;
                case "committed" when i >= from && words.Skip(1).Any(w => !owned.Contains(w[..w.LastIndexOf('@')])):
                    bad.Add(lines[i]);
                    break;
            }
        }

        return bad;
    }
}
