using System.Diagnostics;
using Tailor.GameDays.Tests.Kit;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>
/// One crash trial: its own embedded Kafka cluster and s3rver bucket, a seeded workload produced while
/// <c>tailor sink</c> worker processes of one group are killed with SIGKILL at seeded random moments and
/// restarted at once; then the group drains, stops, and every (shard, window) is compacted, verified and
/// compared with the S-file an independent builder makes from the generated payloads.
/// </summary>
/// <remarks>
/// The seed fixes the workload, the waits between kills and which worker each kill hits. What a victim is
/// doing at that moment (starting, joining, consuming, committing) depends on timing and is recorded.
/// With <c>selfCheck</c>, a passed trial then deletes one segment and checks that the audit names exactly
/// the payloads lost with it (<see cref="LossSelfCheck"/>).
/// </remarks>
internal sealed class CrashTrial(CrashTrialSettings settings, int trial, bool selfCheck, S3rverFixture s3, Figures figures)
{
    private const int PartitionsPerTopic = 4;

    private readonly List<SinkWorkerProcess> _all = [];

    public int Seed => settings.Seed + trial;

    public async Task<CrashTrialReport> RunAsync()
    {
        var report = new CrashTrialReport { Trial = trial, Seed = Seed, KillsWanted = settings.Kills };
        var total = Stopwatch.StartNew();
        var kafka = new KafkaClusterFixture();
        await kafka.InitializeAsync();
        using var root = new TempFolder($"crash-trial-{Seed}");
        try
        {
            await RunAsync(kafka, root, report);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or Confluent.Kafka.KafkaException or IOException)
        {
            report.Error = $"{e.GetType().Name}: {e.Message}";
            figures.Log($"the trial stopped: {e}");
        }
        finally
        {
            foreach (var worker in _all)
            {
                await worker.DisposeAsync();
            }

            await kafka.DisposeAsync();
            report.Seconds["total"] = Math.Round(total.Elapsed.TotalSeconds, 1);
        }

        return report;
    }

    private async Task RunAsync(KafkaClusterFixture kafka, TempFolder root, CrashTrialReport report)
    {
        var step = Stopwatch.StartNew();
        // Aligned to the hour so a seed gives the same payloads whenever it runs (the generator cuts payloads
        // by time); points still span the hour before this one to half an hour into it, as the planner expects.
        var hour = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 3600 * 3600;
        var workload = GameDayWorkload.Generate(seed: (ulong)Seed, points: settings.Points, startTime: hour - 3600);
        report.Payloads = workload.Frames.Count;
        report.Points = workload.Points;
        report.PayloadBytes = workload.Bytes;
        report.Seconds["generate"] = Lap(step);
        string[] topics = [await kafka.CreateTopicAsync(PartitionsPerTopic, "crash-a"), await kafka.CreateTopicAsync(PartitionsPerTopic, "crash-b")];
        var group = kafka.NewGroupId("crash");
        var bucket = await s3.CreateBucketAsync("crash");
        var config = new SinkWorkerConfig(S3Store.Uri(bucket, s3.Endpoint), kafka.BootstrapServers, group, topics);
        var configPath = config.WriteTo(Path.Combine(root.Path, "sink.json"));
        using var traffic = new KafkaTraffic(kafka, workload, topics, PartitionsPerTopic);
        using var watch = new GroupWatch(kafka, group, traffic.Partitions);
        figures.Log($"trial {trial} seed {Seed}: {workload.Frames.Count} payloads, {workload.Points} points, {workload.Bytes / 1024} KiB; bucket {bucket}, group {group}");

        var slots = new SinkWorkerProcess[settings.Workers];
        var generations = new int[settings.Workers];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = Start(i, 0, configPath);
        }

        await SinkGroup.WaitForOwnersAsync(slots, traffic.Partitions.Count);
        report.Seconds["group_formed"] = Lap(step);
        watch.StartSampling(TimeSpan.FromMilliseconds(500));

        // Spread the traffic over the kills, so they land while payloads flow, segments fill and commits move.
        var rate = workload.Frames.Count / (settings.Kills * settings.MeanKillInterval.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var producing = traffic.RunAsync(watch, rate);
        double? producedAt = null;
        var random = new Random(Seed);
        while (report.Kills.Count < settings.Kills * CrashTrialSettings.KillCapFactor
            && (report.Kills.Count < settings.Kills || !producing.IsCompleted))
        {
            var wait = random.Next(settings.KillMinMilliseconds, settings.KillMaxMilliseconds + 1);
            var slot = random.Next(slots.Length);
            await Task.Delay(wait);
            if (producing.IsFaulted)
            {
                await producing;
            }

            if (producing.IsCompleted)
            {
                producedAt ??= clock.Elapsed.TotalSeconds;
            }

            var victim = slots[slot];
            var at = clock.Elapsed.TotalSeconds;
            var phase = PhaseOf(victim, out var owned, out var commits);
            var lifetime = victim.Process.Started.Elapsed.TotalSeconds;
            victim.Process.Kill();
            var exit = await victim.Process.WaitForExitAsync(GameDaySettings.Timeout);
            slots[slot] = Start(slot, ++generations[slot], configPath);
            var kill = new KillRecord(report.Kills.Count + 1, Math.Round(at, 2), victim.Name, victim.Id, phase, producing.IsCompleted ? "catching-up" : "producing", Math.Round(lifetime, 2), owned, commits, exit);
            report.Kills.Add(kill);
            figures.Log($"kill {kill.Number}: {kill.Worker} (pid {kill.Pid}) after {wait} ms, {kill.Phase}, {kill.Traffic}, alive {kill.LifetimeSeconds:F1} s, {owned} partitions, {commits} commits; exit {exit}; {traffic.Produced}/{workload.Frames.Count} produced");
        }

        await producing;
        producedAt ??= clock.Elapsed.TotalSeconds;
        report.Seconds["produce"] = Math.Round(producedAt.Value, 1);
        report.Seconds["kill_phase"] = Lap(step);

        // Lag 0: every partition committed up to its end by the workers started after the last kill.
        await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => string.Join('\n', slots.Select(w => $"{w.Name}: {w.Process.Describe()}")));
        report.Seconds["drain"] = Lap(step);
        foreach (var worker in slots)
        {
            report.GracefulStops.Add($"{worker.Name} exit {await worker.StopAsync()}");
        }

        await watch.StopSamplingAsync();
        report.CommitRegressions = watch.Regressions;
        report.CommitSamples = watch.Samples;
        report.Seconds["stop"] = Lap(step);
        report.WorkersStarted = _all.Count;
        report.WorkersThatCommitted = _all.Count(w => w.Events("committed").Count > 0);
        figures.Log($"drained and stopped: {_all.Count} workers started over the trial, {report.WorkersThatCommitted} of them committed; {watch.Regressions.Count} commit regressions in {watch.Samples} samples");

        await using var store = s3.OpenStore(bucket);
        var killed = report.Kills.Select(k => k.Worker).ToHashSet(StringComparer.Ordinal);
        var writers = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
        foreach (var worker in _all)
        {
            if (worker.Process.Lines.FirstOrDefault(l => l.StartsWith("started writer ", StringComparison.Ordinal)) is { } line)
            {
                writers[line.Split(' ')[2]] = (worker.Name, killed.Contains(worker.Name));
            }
        }

        report.TornPuts.AddRange(await TornPuts.RemoveAsync(s3, bucket, store, writers));
        if (report.TornPuts.Count > 0)
        {
            figures.Log($"torn puts removed (bodies cut short by a kill, which S3 would not have stored): {string.Join("; ", report.TornPuts.Select(t => $"{t.Key} {t.Bytes} bytes by {t.Writer}{(t.Killed ? " (killed)" : string.Empty)}"))}");
        }

        var audit = await SegmentAudit.ReadAsync(store);
        report.Segments = audit.Segments;
        report.SegmentRecords = audit.Records;
        report.SinkDuplicateCopies = audit.Duplicates(workload);
        var pointsOf = workload.Frames.GroupBy(f => f.Hash).ToDictionary(g => g.Key, g => g.First().Points, StringComparer.Ordinal);
        report.SinkDuplicatePoints = audit.Copies.Sum(c => (long)Math.Max(0, c.Value - workload.ProducedCopies.GetValueOrDefault(c.Key)) * pointsOf.GetValueOrDefault(c.Key));
        report.UnknownRecords = audit.Unknown(workload);
        report.UnreadableSegments.AddRange(audit.Unreadable);
        MissingPayload Describe(int index)
        {
            var frame = workload.Frames[index];
            var position = traffic.PositionOf(index);
            return new MissingPayload(index, frame.Org, frame.Points, $"{position.Topic}/{position.Partition.Value}@{position.Offset.Value}", CommittedPast(position.Topic, position.Partition.Value, position.Offset.Value));
        }

        report.MissingPayloads.AddRange(audit.Missing(workload).Select(Describe));

        report.Seconds["audit"] = Lap(step);
        figures.Log($"segments: {audit.Segments} ({audit.Records} records), {report.SinkDuplicateCopies} re-consumed copies, {report.MissingPayloads.Count} payloads missing, {audit.Unreadable.Count} not whole");

        report.Compaction = await CompactionCheck.RunAsync(store, workload, config.Map(), Path.Combine(root.Path, "work"));
        report.Seconds["compact"] = Math.Round(report.Compaction.CompactSeconds, 1);
        report.Seconds["verify"] = Math.Round(report.Compaction.VerifySeconds, 1);
        report.Seconds["compact_verify_compare"] = Lap(step);
        figures.Log($"compaction: {report.Compaction}");

        if (selfCheck && report.Passed)
        {
            report.SelfCheck = await LossSelfCheck.RunAsync(store, workload, audit, config.Map(), Path.Combine(root.Path, "self-check"), report, Describe);
            report.Seconds["self_check"] = Lap(step);
            figures.Log($"self-check: deleted {report.SelfCheck.DeletedSegment} ({report.SelfCheck.RecordsInSegment} records): {report.SelfCheck.MissingPayloads} payloads missing "
                + $"(expected {report.SelfCheck.ExpectedMissingPayloads}), {report.SelfCheck.ReferenceMismatches} S-files differ from the reference, verify missing {report.SelfCheck.VerifyMissing}; the report would read:\n{report.SelfCheck.FailureReport}");
        }
    }

    private SinkWorkerProcess Start(int slot, int generation, string configPath)
    {
        var worker = SinkWorkerProcess.Start($"w{slot}.{generation}", configPath, S3Store.Environment);
        _all.Add(worker);
        return worker;
    }

    /// <summary>What a worker is doing, by its own event lines.</summary>
    private static string PhaseOf(SinkWorkerProcess worker, out int owned, out int commits)
    {
        var lines = worker.Process.Lines;
        owned = worker.Owned().Count;
        commits = lines.Count(l => l.StartsWith("committed ", StringComparison.Ordinal));
        if (!lines.Any(l => l.StartsWith("started writer ", StringComparison.Ordinal)))
        {
            return "starting";
        }

        if (owned > 0)
        {
            return commits > 0 ? "committing" : "consuming";
        }

        return lines.Any(l => l.StartsWith("assigned ", StringComparison.Ordinal)) ? "unassigned" : "joining";
    }

    /// <summary>The workers whose accepted commits moved a partition past <paramref name="offset"/>.</summary>
    private List<string> CommittedPast(string topic, int partition, long offset)
    {
        var prefix = $"{topic}/{partition}@";
        var names = new List<string>();
        foreach (var worker in _all)
        {
            foreach (var line in worker.Events("committed"))
            {
                var word = line.Split(' ').FirstOrDefault(w => w.StartsWith(prefix, StringComparison.Ordinal));
                if (word is not null && long.Parse(word.AsSpan(prefix.Length), System.Globalization.CultureInfo.InvariantCulture) > offset)
                {
                    names.Add($"{worker.Name} ({word})");
                    break;
                }
            }
        }

        return names;
    }

    private static double Lap(Stopwatch step)
    {
        var seconds = Math.Round(step.Elapsed.TotalSeconds, 1);
        step.Restart();
        return seconds;
    }
}
