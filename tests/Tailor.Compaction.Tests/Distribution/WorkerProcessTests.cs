using System.Diagnostics;
using System.Text.Json;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Compaction.Tests.Distribution;

/// <summary>Compaction workers as processes (<c>tailor worker</c>, <c>samples/CompactionHost</c>) on the embedded cluster, which this process owns.</summary>
public sealed class WorkerProcessTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    [Fact]
    public async Task A_worker_killed_mid_job_is_replaced_by_the_other_which_writes_identical_bytes_and_every_job_gets_its_manifest()
    {
        var clock = Stopwatch.StartNew();

        // Four shards of input, each job long enough at one thread (about a second) for a kill to land inside it.
        await using var kit = await CompactionTestKit.CreateAsync(points: 3_000_000, series: 8000, orgs: 40, sharedShards: 4);
        var window = CompactionTestKit.Window;
        var storeUri = new Uri(kit.Store.RootPath).AbsoluteUri;
        var jobs = await new CompactionPlanner(kit.Store).PlanAllAsync(window);
        Assert.Equal(4, jobs.Count);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {kit.Frames.Count} payloads in {jobs.Sum(j => j.Inputs.Count)} segments; jobs {string.Join(", ", jobs.Select(j => $"{j.Shard.Value} {j.InputBytes / 1024} KiB"))}");

        // The reference: the same segments in another store, compacted in one process.
        var referencePath = Path.Combine(kit.Root.FullName, "reference");
        DistributionKit.CopySegments(kit.Store.RootPath, referencePath);
        await using var reference = new LocalObjectStore(referencePath);
        var referenceRunner = new CompactionRunner(reference, new CompactionOptions { WorkDirectory = Path.Combine(kit.WorkDirectory, "reference") });
        foreach (var job in jobs)
        {
            Assert.False((await referenceRunner.RunAsync(job)).Skipped);
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: reference compacted");

        // tailor plan publishes the jobs; two tailor worker processes share them.
        var topic = await kafka.CreateTopicAsync(4, "jobs");
        var group = kafka.NewGroupId("compactors");
        var plan = await DistributionKit.RunTailorAsync("plan", "--store", storeUri, "--window", window.ToString(), "--to-kafka", kafka.BootstrapServers, "--topic", topic, "--json");
        Assert.True(plan.Code == 0, plan.Error);
        using (var planned = JsonDocument.Parse(plan.Output))
        {
            Assert.True(planned.RootElement.GetProperty("published").GetBoolean());
            Assert.Equal(4, planned.RootElement.GetProperty("jobs").GetArrayLength());
            var partitions = planned.RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("partition").GetInt32()).Distinct().Count();
            Assert.True(partitions >= 3, $"the jobs of one window should spread over the partitions, not land in {partitions}");
        }

        await using var a = StartWorker(storeUri, topic, group, Path.Combine(kit.WorkDirectory, "a"));
        await using var b = StartWorker(storeUri, topic, group, Path.Combine(kit.WorkDirectory, "b"));

        // Kill whichever worker starts a job first, the moment it says so.
        static bool Started(string line) => line.StartsWith("job-started ", StringComparison.Ordinal);
        var first = await Task.WhenAny(Quietly(a.WaitForLineAsync(Started, DistributionKit.Timeout)), Quietly(b.WaitForLineAsync(Started, DistributionKit.Timeout)));
        var startedLine = await first ?? throw new TimeoutException($"No worker started a job. A: {a.Describe()}\nB: {b.Describe()}");
        var (victim, survivor) = a.Lines.Contains(startedLine) ? (a, b) : (b, a);
        victim.Kill();
        Assert.Equal(137, await victim.WaitForExitAsync(DistributionKit.Timeout));
        var killed = startedLine.Split(' ');
        var killedJob = jobs.Single(j => j.Shard.Value == killed[1] && j.Window.ToString() == killed[2]);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed worker {victim.Id} during '{startedLine}'");

        // The kill landed mid-job: the victim never finished it and its manifest does not exist (the
        // survivor cannot own that partition before the victim's session expires).
        Assert.DoesNotContain(victim.Lines, l => l.StartsWith($"job-finished {killedJob.Shard.Value} {window} ", StringComparison.Ordinal));
        Assert.Null(await DistributionKit.ManifestAsync(kit.Store, killedJob.Shard, window));

        // The survivor takes the victim's partitions and runs the job again, then every job of the plan is done.
        var finishedAgain = await survivor.WaitForLineAsync(l => l.StartsWith($"job-finished {killedJob.Shard.Value} {window} written ", StringComparison.Ordinal), DistributionKit.Timeout);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the survivor says '{finishedAgain}'");
        bool Done(CompactionJob job) => victim.Lines.Concat(survivor.Lines).Any(l =>
            l.StartsWith($"job-finished {job.Shard.Value} {window} written ", StringComparison.Ordinal) || l.StartsWith($"job-finished {job.Shard.Value} {window} skipped ", StringComparison.Ordinal));
        await survivor.WaitForLineAsync(_ => jobs.All(Done), DistributionKit.Timeout);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: every job finished");

        survivor.Terminate();
        Assert.Equal(0, await survivor.WaitForExitAsync(DistributionKit.Timeout));
        Assert.Contains(survivor.Lines, l => l.StartsWith("stopped ", StringComparison.Ordinal));

        // Every job of the plan has its manifest, with the plan's generation and byte-identical parts.
        foreach (var job in jobs)
        {
            var manifest = await DistributionKit.ManifestAsync(kit.Store, job.Shard, window);
            Assert.True(manifest is not null, $"{job} has no manifest. Victim: {victim.Describe()}\nSurvivor: {survivor.Describe()}");
            Assert.Equal(job.Generation, manifest.Generation);
            var expected = await DistributionKit.PartsAsync(reference, (await DistributionKit.ManifestAsync(reference, job.Shard, window))!);
            var written = await DistributionKit.PartsAsync(kit.Store, manifest);
            Assert.Equal(expected, written);
            Assert.Equal(written.Select(p => p.Sha256), manifest.Outputs.Select(p => p.Sha256));
            output.WriteLine($"{job}: {written.Count} parts identical to the reference, first {written[0].Sha256[..16]}");
        }

        var committed = DistributionKit.Committed(kafka, group, topic, 4);
        Assert.Equal(4, committed.Values.Where(o => o > 0).Sum());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: done; committed {string.Join(' ', committed.Select(c => $"{c.Key}@{c.Value}"))}");
    }

    [Fact]
    public async Task The_CompactionHost_sample_binds_its_configuration_runs_published_jobs_and_stops_gracefully_on_SIGTERM()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 100_000, sharedShards: 2);
        var window = CompactionTestKit.Window;
        var jobs = await new CompactionPlanner(kit.Store).PlanAllAsync(window);
        var topic = await kafka.CreateTopicAsync(2, "jobs");
        using (var publisher = new CompactionJobPublisher(new CompactionJobPublisherOptions { BootstrapServers = kafka.BootstrapServers, Topic = topic }))
        {
            await publisher.PublishAsync(jobs);
        }

        // Command-line configuration wins over the sample's appsettings.json.
        await using var host = ChildProcess.StartDotnet(DistributionKit.CompactionHost,
        [
            $"--Tailor:Compaction:Store={new Uri(kit.Store.RootPath).AbsoluteUri}",
            $"--Tailor:Compaction:BootstrapServers={kafka.BootstrapServers}",
            $"--Tailor:Compaction:Topic={topic}",
            $"--Tailor:Compaction:GroupId={kafka.NewGroupId("host")}",
            "--Tailor:Compaction:SessionTimeout=00:00:06",
            "--Tailor:Compaction:Settings:fetch.wait.max.ms=100",
            $"--Tailor:Compaction:Compaction:WorkDirectory={kit.WorkDirectory}",
            "--Tailor:Compaction:Compaction:Parallelism=1",
        ]);
        foreach (var job in jobs)
        {
            await host.WaitForLineAsync(l => l.Contains($"{job}: Written (", StringComparison.Ordinal), DistributionKit.Timeout);
            Assert.Equal(job.Generation, (await DistributionKit.ManifestAsync(kit.Store, job.Shard, window))?.Generation);
        }

        host.Terminate();
        Assert.Equal(0, await host.WaitForExitAsync(DistributionKit.Timeout));
        await host.WaitForLineAsync(l => l.Contains("Compaction worker left group", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }

    private ChildProcess StartWorker(string storeUri, string topic, string group, string workDirectory) =>
        ChildProcess.StartDotnet(DistributionKit.Tailor,
        [
            "worker", "--store", storeUri, "--kafka", kafka.BootstrapServers, "--group", group, "--topic", topic,
            "--parallelism", "1", "--work-dir", workDirectory, "--verbose", .. DistributionKit.MockSettings,
        ]);

    /// <summary>The line, or null when the wait failed (the other worker's wait is abandoned, not observed).</summary>
    private static async Task<string?> Quietly(Task<string> wait)
    {
        try
        {
            return await wait;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
