using Confluent.Kafka;
using Tailor.GameDays.Tests.Kit;
using Tailor.Sink;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 2: one of two sink workers writes through a store that takes 3–5 s to answer every call
/// (a <see cref="FaultInjectingObjectStore"/> adding latency), with a small buffer budget so its uploads
/// back up into paused partitions. The workers run in this process because <c>tailor sink</c> has no
/// fault-injection setting (and should not grow one).
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class SlowSinkWorkerGameDay(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Latency = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Jitter = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task One_sink_worker_with_a_slow_store_pauses_itself_but_stays_in_the_group_which_keeps_up_and_loses_nothing()
    {
        var figures = new Figures(output, "2-slow-sink-worker");
        await using var scenario = await InProcessSinkScenario.CreateAsync(kafka, figures, "slow", seed: 202, points: 400_000);
        var (workload, store, map, traffic, watch, logs) = (scenario.Workload, scenario.Store, scenario.Map, scenario.Traffic, scenario.Watch, scenario.Logs);
        await using var slowStore = new FaultInjectingObjectStore(store, new FaultInjectionOptions { Latency = Latency, LatencyJitter = Jitter, Seed = 202 }, leaveInnerOpen: true);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points; the slow worker's store adds {Latency.TotalSeconds}–{(Latency + Jitter).TotalSeconds} s to every call");

        var kafkaOptions = InProcessSinkWorker.KafkaOptions(kafka.BootstrapServers, scenario.Topics, scenario.Group, TimeSpan.FromSeconds(30));
        SinkOptions Engine() => InProcessSinkWorker.EngineOptions(map, 1L << 20);
        await using var fast = new InProcessSinkWorker("fast", kafkaOptions, Engine(), store, figures.Clock, logs);
        await using var slow = new InProcessSinkWorker("slow", kafkaOptions, Engine(), slowStore, figures.Clock, logs);
        InProcessSinkWorker[] workers = [fast, slow];
        await InProcessSinkWorker.WaitForOwnersAsync(workers, traffic.Partitions.Count);
        var formedAt = figures.Clock.Elapsed;
        var rebalanceEventsAtStart = workers.Sum(w => w.Count("revoked") + w.Count("lost"));
        figures.Log($"group formed: fast owns {fast.Owned.Count}, slow owns {slow.Owned.Count} partitions");

        // Sample how far each worker's partitions trail the producer while traffic flows.
        using var sampling = new CancellationTokenSource();
        var lagSamples = new List<(TimeSpan At, long Fast, long Slow)>();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var ends = await watch.EndsAsync();
                var committed = await watch.CommittedAsync();
                long Lag(InProcessSinkWorker w) => w.Owned.Sum(p =>
                {
                    var tp = new TopicPartition(p.Topic, p.Partition);
                    return ends.GetValueOrDefault(tp) - committed.GetValueOrDefault(tp);
                });
                lock (lagSamples)
                {
                    lagSamples.Add((figures.Clock.Elapsed, Lag(fast), Lag(slow)));
                }

                await Task.Delay(500, sampling.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });

        var rate = 300.0;
        await traffic.RunAsync(watch, rate);
        var producedAt = figures.Clock.Elapsed;
        await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => InProcessSinkWorker.DescribeAll(workers));
        var drained = figures.Clock.Elapsed - producedAt;
        await sampling.CancelAsync();
        await sampler;
        figures.Log($"produced {workload.Frames.Count} payloads at {rate}/s in {(producedAt - formedAt).TotalSeconds:F1} s; every offset committed {drained.TotalSeconds:F1} s after the last payload");

        // Count rebalance events before the graceful stop, which revokes everything by design.
        var revocations = workers.Sum(w => w.Count("revoked"));
        var losses = workers.Sum(w => w.Count("lost"));
        var assignments = workers.Sum(w => w.Events.Count(e => e.Kind == "assigned" && e.Partitions.Count > 0));
        foreach (var worker in workers)
        {
            await worker.StopAsync();
        }

        var outcome = await scenario.OutcomeAsync();
        figures.Log(InProcessSinkWorker.DescribeAll(workers));

        List<(TimeSpan At, long Fast, long Slow)> samples;
        lock (lagSamples)
        {
            samples = [.. lagSamples];
        }

        var fastStatus = fast.Engine.Status;
        var slowStatus = slow.Engine.Status;
        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("rate_per_s", rate);
        figures.Set("slow_store_latency_s", $"{Latency.TotalSeconds}–{(Latency + Jitter).TotalSeconds}");
        figures.Set("buffer_budget_bytes", 1 << 20);
        figures.Set("production_s", producedAt - formedAt);
        figures.Set("commit_drain_after_last_payload_s", drained);
        figures.Set("revocations", revocations);
        figures.Set("losses", losses);
        figures.Set("assignments_with_partitions", assignments);
        figures.Set("slow_pauses", slow.Count("paused"));
        figures.Set("slow_resumes", slow.Count("resumed"));
        figures.Set("fast_pauses", fast.Count("paused"));
        figures.Set("max_lag_fast", samples.Count == 0 ? 0 : samples.Max(s => s.Fast));
        figures.Set("max_lag_slow", samples.Count == 0 ? 0 : samples.Max(s => s.Slow));
        figures.Set("lag_samples", samples.Count);
        figures.Set("payloads_fast", fastStatus.Payloads);
        figures.Set("payloads_slow", slowStatus.Payloads);
        figures.Set("peak_buffered_fast", fastStatus.PeakBufferedBytes);
        figures.Set("peak_buffered_slow", slowStatus.PeakBufferedBytes);
        figures.Set("commits_fast", fast.Count("committed"));
        figures.Set("commits_slow", slow.Count("committed"));
        outcome.SetFigures(figures, workload);
        figures.Print();

        Assert.Equal(0, rebalanceEventsAtStart);
        Assert.True(revocations == 0 && losses == 0, $"a rebalance storm: {revocations} revocations, {losses} losses. {string.Join("\n", workers.Select(w => w.Describe()))}");
        Assert.True(slow.Count("paused") > 0, "the slow worker never filled its buffer budget: the store was not slow enough to matter");
        Assert.True(slowStatus.Payloads > 0 && fastStatus.Payloads > 0);
        outcome.AssertNothingLost(workload);
    }
}
