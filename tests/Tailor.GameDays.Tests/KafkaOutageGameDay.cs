using Tailor.GameDays.Tests.Kit;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 8: every Kafka broker goes down while two sink workers hold segments and offsets they
/// have not committed, for longer than the workers' session timeout, then comes back. The workers run
/// in this process on the product's engine and source; the brokers are the embedded cluster's, taken
/// down with <see cref="Tailor.Sink.Kafka.EmbeddedKafkaCluster.SetBrokerDown"/>.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class KafkaOutageGameDay(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Every_broker_down_past_the_session_timeout_then_back_the_workers_carry_on_and_lose_nothing()
    {
        var figures = new Figures(output, "8-kafka-outage");
        await using var scenario = await InProcessSinkScenario.CreateAsync(kafka, figures, "outage", seed: 808, points: 200_000);
        var (workload, store, map, traffic, watch) = (scenario.Workload, scenario.Store, scenario.Map, scenario.Traffic, scenario.Watch);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points; every broker down for {Outage.TotalSeconds} s");

        var kafkaOptions = InProcessSinkWorker.KafkaOptions(kafka.BootstrapServers, scenario.Topics, scenario.Group, TimeSpan.FromSeconds(30));
        await using var first = new InProcessSinkWorker("w1", kafkaOptions, InProcessSinkWorker.EngineOptions(map, 16L << 20), store, figures.Clock, scenario.Logs);
        await using var second = new InProcessSinkWorker("w2", kafkaOptions, InProcessSinkWorker.EngineOptions(map, 16L << 20), store, figures.Clock, scenario.Logs);
        InProcessSinkWorker[] workers = [first, second];
        await InProcessSinkWorker.WaitForOwnersAsync(workers, traffic.Partitions.Count);

        // The first 40% of the traffic, then the brokers go while the last segments are still open.
        var half = workload.Frames.Count * 2 / 5;
        await traffic.RunAsync(watch, rate: 400, until: half);
        var committedBefore = (await watch.CommittedAsync()).Values.Sum();
        var eventsBefore = workers.Sum(w => w.Count("commit-refused") + w.Count("lost") + w.Count("revoked"));
        var brokers = kafka.Cluster.Brokers.Count;
        var downAt = figures.Clock.Elapsed;
        for (var id = 1; id <= brokers; id++)
        {
            kafka.Cluster.SetBrokerDown(id);
        }

        await Task.Delay(Outage);
        var refusedDuring = workers.Sum(w => w.Count("commit-refused"));
        for (var id = 1; id <= brokers; id++)
        {
            kafka.Cluster.SetBrokerDown(id, down: false);
        }

        var upAt = figures.Clock.Elapsed;
        figures.Log($"brokers down {downAt.TotalSeconds:F1}–{upAt.TotalSeconds:F1} s; {refusedDuring} commits refused meanwhile; runs: {string.Join(", ", workers.Select(w => w.Run.Status))}");
        Assert.All(workers, w => Assert.False(w.Run.IsCompleted, $"{w.Name} stopped during the outage: {w.Describe()}"));

        // The rest of the traffic once the cluster is back; every offset must end up committed.
        await traffic.RunAsync(watch, rate: 400, from: half);
        await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => InProcessSinkWorker.DescribeAll(workers));
        var drained = figures.Clock.Elapsed - upAt;
        var refused = workers.Sum(w => w.Count("commit-refused"));
        var lost = workers.Sum(w => w.Count("lost"));
        var revoked = workers.Sum(w => w.Count("revoked"));
        foreach (var worker in workers)
        {
            await worker.StopAsync();
        }

        var outcome = await scenario.OutcomeAsync();
        figures.Log(InProcessSinkWorker.DescribeAll(workers));

        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("outage_s", Outage);
        figures.Set("committed_before_outage", committedBefore);
        figures.Set("commits_refused", refused);
        figures.Set("commits_refused_during_outage", refusedDuring);
        figures.Set("partitions_lost", lost);
        figures.Set("partitions_revoked", revoked);
        figures.Set("all_committed_after_recovery_s", drained);
        outcome.SetFigures(figures, workload);
        figures.Print();

        Assert.Equal(0, eventsBefore);
        Assert.True(refused + lost > 0, "the outage went unnoticed: no commit was refused and no partition lost");
        outcome.AssertNothingLost(workload);
    }
}
