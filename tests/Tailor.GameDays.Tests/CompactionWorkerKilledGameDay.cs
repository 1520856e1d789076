using System.Diagnostics;
using Confluent.Kafka;
using Tailor.Compaction;
using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 4: a <c>tailor worker</c> process killed (SIGKILL) in the middle of a compaction job; another
/// worker started in its place finishes it, and every S-file and manifest is byte-identical to a reference
/// compaction of the same segments in another store.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class CompactionWorkerKilledGameDay(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const int Shards = 2;

    [Fact]
    public async Task A_compaction_worker_killed_mid_job_is_replaced_and_the_job_is_finished_with_identical_bytes()
    {
        var figures = new Figures(output, "4-compaction-worker-killed");
        using var root = new TempFolder("gameday-worker-kill");
        var window = SegmentStore.Window;
        var map = new ShardMap(Shards);
        var workload = GameDayWorkload.Generate(seed: 404, points: 1_200_000, series: 6000, orgs: 40, startTime: SegmentStore.WindowStart);
        var storePath = Path.Combine(root.Path, "store");
        var segments = await SegmentStore.WriteAsync(storePath, workload, map);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points in {segments.Count} segments of {Shards} shards");

        // The reference: the same segments (same sizes and times, so the same generations) compacted in this process.
        var referencePath = Path.Combine(root.Path, "reference");
        SegmentStore.CopySegments(storePath, referencePath);
        await using var store = new LocalObjectStore(storePath);
        await using var reference = new LocalObjectStore(referencePath);
        var referenceOptions = new CompactionOptions { WorkDirectory = Path.Combine(root.Path, "work-reference"), Parallelism = 1 };
        var jobs = await new CompactionPlanner(reference, referenceOptions).PlanAllAsync(window);
        var referenceSeconds = new Dictionary<string, double>(StringComparer.Ordinal);
        var referenceReports = new Dictionary<string, CompactionReport>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            var clock = Stopwatch.StartNew();
            var report = await new CompactionRunner(reference, referenceOptions).RunAsync(job);
            referenceSeconds[job.Shard.Value] = clock.Elapsed.TotalSeconds;
            referenceReports[job.Shard.Value] = report;
        }

        Assert.Equal(Shards, jobs.Count);
        figures.Log($"reference compaction: {string.Join(", ", jobs.Select(j => $"{j.Shard.Value} {j.Inputs.Count} segments {referenceReports[j.Shard.Value].PointsOut} points in {referenceSeconds[j.Shard.Value]:F1} s"))}");

        // tailor plan publishes the jobs; one tailor worker takes them one at a time, spilling under a 16 MiB budget.
        var topic = await kafka.CreateTopicAsync(4, "jobs");
        var group = kafka.NewGroupId("compactors");
        var storeUri = new Uri(storePath).AbsoluteUri;
        Assert.All(referenceReports.Values, r => Assert.True(r.PointsIn > 300_000, $"{r.Shard}: {r.PointsIn} points, too few to spill under 16 MiB"));
        var plan = await TailorRun.RunAsync("plan", "--store", storeUri, "--window", window.ToString(), "--to-kafka", kafka.BootstrapServers, "--topic", topic, "--json");
        Assert.True(plan.Code == 0, plan.ToString());
        Assert.Equal(Shards, plan.Json().GetProperty("jobs").GetArrayLength());

        // Kill the worker the moment its work folder holds a spill file: the job it runs has sorted and
        // written part of its input and published nothing yet. (Under 16 MiB every job of this size spills.)
        var victimWork = Path.Combine(root.Path, "work-a");
        await using var victim = StartWorker(storeUri, topic, group, victimWork);
        await victim.WaitForLineAsync(l => l.StartsWith("job-started ", StringComparison.Ordinal), GameDaySettings.Timeout);
        var firstJobAt = figures.Clock.Elapsed;
        string[] workFiles = [];
        await Waiting.UntilAsync(
            () =>
            {
                workFiles = Directory.Exists(victimWork) ? [.. Directory.EnumerateFiles(victimWork, "*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)] : [];
                return workFiles.Any(f => f.EndsWith(".run", StringComparison.Ordinal)) || victim.HasExited;
            },
            GameDaySettings.Timeout, "the worker to spill", victim.Describe);
        victim.Kill();
        var killedAt = figures.Clock.Elapsed;
        Assert.Equal(137, await victim.WaitForExitAsync(GameDaySettings.Timeout));
        await victim.WaitForLineAsync(_ => false, TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        var startedLine = victim.Lines.Last(l => l.StartsWith("job-started ", StringComparison.Ordinal));
        var killedJob = jobs.Single(j => j.Shard.Value == startedLine.Split(' ')[1]);
        var finishedByVictim = victim.Lines.Count(l => l.StartsWith("job-finished ", StringComparison.Ordinal));
        var seriesAtKill = SegmentStore.SeriesObjects(storePath);
        figures.Log($"killed the worker {(killedAt - firstJobAt).TotalSeconds:F1} s after its first job started, during '{startedLine}', with [{string.Join(", ", workFiles)}] in its work folder; it had finished {finishedByVictim} jobs; {seriesAtKill.Count} objects under series/");

        // The kill landed mid-job: the victim never said it finished it, and the job has no manifest (its commit point).
        Assert.Contains(workFiles, f => f.EndsWith(".run", StringComparison.Ordinal));
        Assert.DoesNotContain(victim.Lines, l => l.StartsWith($"job-finished {killedJob.Shard.Value} ", StringComparison.Ordinal));
        Assert.DoesNotContain(seriesAtKill.Keys, k => k == ObjectKeys.Manifest(killedJob.Shard, window.Start));

        // Another worker joins the group in its place.
        var replacementStartedAt = figures.Clock.Elapsed;
        await using var replacement = StartWorker(storeUri, topic, group, Path.Combine(root.Path, "work-b"));
        await replacement.WaitForLineAsync(l => l.StartsWith("assigned ", StringComparison.Ordinal) && l.Length > "assigned ".Length, GameDaySettings.Timeout);
        var assignedAfter = figures.Clock.Elapsed - replacementStartedAt;
        var finishedLine = await replacement.WaitForLineAsync(l => l.StartsWith($"job-finished {killedJob.Shard.Value} {window} written ", StringComparison.Ordinal), GameDaySettings.Timeout);
        var killedJobDoneAfter = figures.Clock.Elapsed - killedAt;
        bool Done(CompactionJob job) => victim.Lines.Concat(replacement.Lines).Any(l => l.StartsWith($"job-finished {job.Shard.Value} {window} written ", StringComparison.Ordinal)
            || l.StartsWith($"job-finished {job.Shard.Value} {window} skipped ", StringComparison.Ordinal));
        await replacement.WaitForLineAsync(_ => jobs.All(Done), GameDaySettings.Timeout);
        var allDoneAfter = figures.Clock.Elapsed - killedAt;
        await Waiting.UntilAsync(() => Committed(group, topic) == jobs.Count, GameDaySettings.Timeout, $"the {jobs.Count} jobs to be committed", replacement.Describe);
        replacement.Terminate();
        Assert.Equal(0, await replacement.WaitForExitAsync(GameDaySettings.Timeout));
        figures.Log($"the replacement was assigned {assignedAfter.TotalSeconds:F1} s after its start and says '{finishedLine}' {killedJobDoneAfter.TotalSeconds:F1} s after the kill; every job done {allDoneAfter.TotalSeconds:F1} s after the kill");

        // Every S-file and manifest (but its clock reading) equals the reference compaction's, and each S-file the independent builder's.
        var written = SegmentStore.SeriesObjects(storePath);
        var expected = SegmentStore.SeriesObjects(referencePath);
        figures.Log($"series/ objects: {written.Count} written, {expected.Count} in the reference");
        foreach (var (key, hash) in written)
        {
            figures.Log($"  {key} {hash[..16]} {(expected.GetValueOrDefault(key) == hash ? "identical" : "DIFFERENT")}");
        }

        Assert.Equal(expected, written);
        var independent = 0;
        foreach (var job in jobs)
        {
            var report = referenceReports[job.Shard.Value];
            Assert.Single(report.Parts);
            Assert.Equal(SegmentStore.ReferenceHash(workload, map, job.Shard, window), written[report.Parts[0].Key]);
            independent++;
            var verify = await new CompactionVerifier(store, new CompactionOptions { WorkDirectory = Path.Combine(root.Path, "work-verify") }).VerifyAsync(job.Shard, window);
            Assert.True(verify.IsExact && verify.ManifestInputsCurrent, $"{job}: {string.Join('\n', verify.Samples)}");
            Assert.Equal(report.PointsOut, verify.Found);
        }

        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("jobs", jobs.Count);
        figures.Set("points_out", referenceReports.Values.Sum(r => r.PointsOut));
        figures.Set("reference_job_s", referenceSeconds[killedJob.Shard.Value]);
        figures.Set("killed_after_first_job_start_s", killedAt - firstJobAt);
        figures.Set("jobs_finished_by_victim", finishedByVictim);
        figures.Set("victim_work_files_at_kill", string.Join(" ", workFiles));
        figures.Set("replacement_assigned_after_start_s", assignedAfter);
        figures.Set("killed_job_done_after_kill_s", killedJobDoneAfter);
        figures.Set("all_jobs_done_after_kill_s", allDoneAfter);
        figures.Set("series_objects_identical", written.Count);
        figures.Set("s_files_identical_to_independent_builder", independent);
        figures.Print();
    }

    private ChildProcess StartWorker(string storeUri, string topic, string group, string workDirectory) =>
        ChildProcess.StartDotnet(GameDaySettings.Tailor,
        [
            "worker", "--store", storeUri, "--kafka", kafka.BootstrapServers, "--group", group, "--topic", topic,
            "--parallelism", "1", "--memory", "16MiB", "--work-dir", workDirectory,
            "--kafka-setting", "session.timeout.ms=6000", "--kafka-setting", "heartbeat.interval.ms=1000", "--kafka-setting", "fetch.wait.max.ms=100",
        ]);

    /// <summary>Offsets the group has committed on the jobs topic: one per finished job.</summary>
    private long Committed(string group, string topic)
    {
        using var reader = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(group)).Build();
        var offsets = reader.Committed(Enumerable.Range(0, 4).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10));
        return offsets.Where(o => o.Offset.Value > 0).Sum(o => o.Offset.Value);
    }
}
