using System.Text;
using Confluent.Kafka;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Compaction.Tests.Distribution;

/// <summary>One <see cref="CompactionWorker"/> in this process against the embedded Kafka cluster.</summary>
public sealed class CompactionWorkerTests(KafkaClusterFixture kafka) : IClassFixture<KafkaClusterFixture>
{
    [Fact]
    public async Task A_worker_runs_each_job_once_commits_it_only_after_its_manifest_and_skips_duplicates_stale_plans_and_garbage()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 300_000, sharedShards: 3);
        var window = CompactionTestKit.Window;
        var jobs = await new CompactionPlanner(kit.Store).PlanAllAsync(window);
        Assert.Equal(3, jobs.Count);
        var stale = new CompactionJob(jobs[0].Shard, window, jobs[0].Inputs.Take(jobs[0].Inputs.Count - 1));
        var topic = await kafka.CreateTopicAsync(2, "jobs");
        var group = kafka.NewGroupId("compactors");

        // The plan, the same plan again, an older plan of one window (a subset of its inputs), and garbage.
        IReadOnlyList<PublishedJob> published;
        using (var publisher = new CompactionJobPublisher(new CompactionJobPublisherOptions { BootstrapServers = kafka.BootstrapServers, Topic = topic }))
        {
            published = [.. await publisher.PublishAsync(jobs), .. await publisher.PublishAsync(jobs), .. await publisher.PublishAsync([stale])];
        }

        Assert.All(published, p => Assert.Equal(CompactionJobMessage.KeyOf(p.Job), p.Key));
        Assert.All(published.GroupBy(p => p.Key), g => Assert.Single(g.Select(p => p.Position.Partition).Distinct()));
        using (var producer = kafka.CreateProducer())
        {
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("junk"), Value = Encoding.UTF8.GetBytes("{not a job") });
        }

        // Every commit must come after the manifests of every job below the committed offset.
        var violations = new List<string>();
        var worker = new CompactionWorker(kit.Store, DistributionKit.WorkerOptions(kafka, topic, group, kit.WorkDirectory));
        var log = new WorkerEventLog(worker, e =>
        {
            if (e.Kind != CompactionWorkerEventKind.Committed)
            {
                return;
            }

            foreach (var offset in e.Offsets)
            {
                foreach (var done in published.Where(p => p.Position.TopicPartition == offset.TopicPartition && p.Position.Offset.Value < offset.Offset.Value))
                {
                    var manifest = DistributionKit.ManifestAsync(kit.Store, done.Job.Shard, window).GetAwaiter().GetResult();
                    if (manifest is null)
                    {
                        violations.Add($"{offset} committed before {done.Job} had a manifest");
                    }
                }
            }
        });
        using var stop = new CancellationTokenSource();
        var running = worker.RunAsync(stop.Token);
        var ends = published.GroupBy(p => p.Position.Partition.Value).ToDictionary(g => g.Key, g => g.Max(p => p.Position.Offset.Value) + 1);
        ends[0] = Math.Max(ends.GetValueOrDefault(0), 0) + 1; // the garbage went to partition 0, after the jobs there
        await log.WaitForAsync(events => events.Count(e => e.Kind == CompactionWorkerEventKind.JobFinished) == published.Count + 1, running, "every message handled");
        await log.WaitForAsync(events => ends.All(end => events.Any(e => e.Kind == CompactionWorkerEventKind.Committed
            && e.Offsets.Any(o => o.Partition.Value == end.Key && o.Offset.Value == end.Value))), running, "commits up to the end of every partition");
        await stop.CancelAsync();
        await running;

        Assert.Empty(violations);
        var outcomes = log.Finished.GroupBy(e => e.Outcome).ToDictionary(g => g.Key!.Value, g => g.Count());
        Assert.Equal(3, outcomes[CompactionJobOutcome.Written]);
        Assert.Equal(3, outcomes[CompactionJobOutcome.Skipped]);
        Assert.Equal(1, outcomes[CompactionJobOutcome.Superseded]);
        Assert.Equal(1, outcomes[CompactionJobOutcome.Invalid]);
        foreach (var job in jobs)
        {
            var manifest = await DistributionKit.ManifestAsync(kit.Store, job.Shard, window);
            Assert.Equal(job.Generation, manifest?.Generation);
        }

        var committed = DistributionKit.Committed(kafka, group, topic, 2);
        Assert.Equal(ends, committed);
        var status = worker.Status;
        Assert.Equal(published.Count + 1, status.Received);
        Assert.Equal(3, status.Written);
        Assert.Null(status.RunningJob);
    }

    [Fact]
    public async Task A_job_cancelled_by_a_stop_is_not_committed_and_the_next_member_runs_it()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 300_000, series: 2000, sharedShards: 1);
        var window = CompactionTestKit.Window;
        var job = Assert.Single(await new CompactionPlanner(kit.Store).PlanAllAsync(window));
        var topic = await kafka.CreateTopicAsync(1, "jobs");
        var group = kafka.NewGroupId("compactors");
        using (var publisher = new CompactionJobPublisher(new CompactionJobPublisherOptions { BootstrapServers = kafka.BootstrapServers, Topic = topic }))
        {
            await publisher.PublishAsync([job]);
        }

        // A stop with no time to finish: the job is cancelled and its offset stays uncommitted. The first
        // worker's store answers each call a second late, so the stop always lands inside the job.
        var options = DistributionKit.WorkerOptions(kafka, topic, group, kit.WorkDirectory);
        options.StopTimeout = TimeSpan.Zero;
        await using var slow = new FaultInjectingObjectStore(kit.Store, new FaultInjectionOptions { Latency = TimeSpan.FromSeconds(1) }, leaveInnerOpen: true);
        var first = new CompactionWorker(slow, options);
        var firstLog = new WorkerEventLog(first);
        using (var stop = new CancellationTokenSource())
        {
            var running = first.RunAsync(stop.Token);
            await firstLog.WaitForAsync(events => events.Any(e => e.Kind == CompactionWorkerEventKind.JobStarted), running, "a job start");
            await stop.CancelAsync();
            await running;
        }

        Assert.Equal(CompactionJobOutcome.Cancelled, Assert.Single(firstLog.Finished).Outcome);
        Assert.DoesNotContain(firstLog.Events, e => e.Kind == CompactionWorkerEventKind.Committed);
        Assert.Null(await DistributionKit.ManifestAsync(kit.Store, job.Shard, window));
        Assert.Equal(-1001, DistributionKit.Committed(kafka, group, topic, 1)[0]);

        // The next member of the group receives the job again and runs it to its manifest and commit.
        options.StopTimeout = TimeSpan.FromSeconds(30);
        var second = new CompactionWorker(kit.Store, options);
        var secondLog = new WorkerEventLog(second);
        using (var stop = new CancellationTokenSource())
        {
            var running = second.RunAsync(stop.Token);
            await secondLog.WaitForAsync(events => events.Any(e => e.Kind == CompactionWorkerEventKind.Committed), running, "the job's commit");
            await stop.CancelAsync();
            await running;
        }

        var finished = Assert.Single(secondLog.Finished);
        Assert.Equal(CompactionJobOutcome.Written, finished.Outcome);
        Assert.Equal(job.Generation, (await DistributionKit.ManifestAsync(kit.Store, job.Shard, window))?.Generation);
        Assert.Equal(1, DistributionKit.Committed(kafka, group, topic, 1)[0]);
    }

    [Fact]
    public async Task A_store_outage_holds_the_job_uncommitted_until_the_store_recovers_and_a_job_whose_input_is_gone_is_given_up()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 100_000, sharedShards: 2);
        var window = CompactionTestKit.Window;
        var jobs = await new CompactionPlanner(kit.Store).PlanAllAsync(window);
        var good = jobs[0];
        var missingKey = ObjectKeys.Segment(jobs[1].Shard, window.Start, writerId: 1, sequence: 99);
        var gone = new CompactionJob(jobs[1].Shard, window, [.. jobs[1].Inputs, new SegmentInput(missingKey, 4096, "\"deleted\"")]);
        var topic = await kafka.CreateTopicAsync(1, "jobs");
        var group = kafka.NewGroupId("compactors");
        using (var publisher = new CompactionJobPublisher(new CompactionJobPublisherOptions { BootstrapServers = kafka.BootstrapServers, Topic = topic }))
        {
            await publisher.PublishAsync([good, gone]);
        }

        // Every store call fails (503, 500, resets) until the test ends the outage.
        var faults = new FaultInjectionOptions { FailureRate = 1 };
        await using var flaky = new FaultInjectingObjectStore(kit.Store, faults, leaveInnerOpen: true);
        var options = DistributionKit.WorkerOptions(kafka, topic, group, kit.WorkDirectory);
        options.MaxAttempts = 2;
        options.RetryBackoff = TimeSpan.FromMilliseconds(50);
        options.MaxRetryBackoff = TimeSpan.FromMilliseconds(200);
        var worker = new CompactionWorker(flaky, options);
        var log = new WorkerEventLog(worker);
        using var stop = new CancellationTokenSource();
        var running = worker.RunAsync(stop.Token);

        await log.WaitForAsync(events => events.Count(e => e.Kind == CompactionWorkerEventKind.JobRetrying) >= 4, running, "four failed attempts");
        Assert.Empty(log.Finished);
        Assert.DoesNotContain(log.Events, e => e.Kind == CompactionWorkerEventKind.Committed);
        Assert.All(log.Events.Where(e => e.Kind == CompactionWorkerEventKind.JobRetrying), e => Assert.Equal(good.Generation, e.Job?.Generation));
        Assert.Equal(-1001, DistributionKit.Committed(kafka, group, topic, 1)[0]);

        faults.FailureRate = 0;
        await log.WaitForAsync(events => events.Any(e => e.Kind == CompactionWorkerEventKind.Committed && e.Offsets.Any(o => o.Offset.Value == 2)), running, "both jobs committed");
        await stop.CancelAsync();
        await running;

        var finished = log.Finished.ToList();
        Assert.Equal(2, finished.Count);
        Assert.Equal((good.Generation, CompactionJobOutcome.Written), (finished[0].Job?.Generation, finished[0].Outcome!.Value));
        Assert.Equal((gone.Generation, CompactionJobOutcome.Failed), (finished[1].Job?.Generation, finished[1].Outcome!.Value));
        Assert.Equal(2, finished[1].Attempts);
        Assert.Contains(missingKey, finished[1].Error, StringComparison.Ordinal);
        Assert.Equal(good.Generation, (await DistributionKit.ManifestAsync(kit.Store, good.Shard, window))?.Generation);
        Assert.Null(await DistributionKit.ManifestAsync(kit.Store, gone.Shard, window));
        Assert.Equal(2, DistributionKit.Committed(kafka, group, topic, 1)[0]);
        Assert.Equal(1, worker.Status.Failed);
    }

    [Fact]
    public async Task A_worker_without_a_reachable_broker_fails_with_a_message_naming_the_brokers()
    {
        using var folder = new TempFolder("worker");
        await using var store = new LocalObjectStore(folder.Path);
        var options = new CompactionWorkerOptions { BootstrapServers = "127.0.0.1:1", ConnectTimeout = TimeSpan.FromSeconds(2) };
        var failure = await Assert.ThrowsAsync<TimeoutException>(() => new CompactionWorker(store, options).RunAsync());
        Assert.Contains("No Kafka broker at 127.0.0.1:1 answered within 2 s", failure.Message, StringComparison.Ordinal);

        var bad = Assert.Throws<ArgumentException>(() => new CompactionWorker(store, new CompactionWorkerOptions { BootstrapServers = "x:1", Compaction = { Force = true } }));
        Assert.Contains("Force must be false", bad.Message, StringComparison.Ordinal);
    }
}
