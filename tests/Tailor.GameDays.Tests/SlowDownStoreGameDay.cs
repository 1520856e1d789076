using Tailor.GameDays.Tests.Kit;
using Tailor.Sink;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 3: the store answers 20% of all requests with HTTP 503 Slow Down — a proxy in front of s3rver
/// sends the real answer S3 gives a hot prefix — while two sink workers write a stream of traffic, then
/// while every job is compacted and verified. The workers and compaction run in this process so the
/// <c>Tailor.Storage</c> meter that counts their retries can be read.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class SlowDownStoreGameDay(KafkaClusterFixture kafka, S3rverFixture s3, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const double Share = 0.2;

    [Fact]
    public async Task The_store_answering_503_Slow_Down_to_a_fifth_of_requests_slows_sink_and_compaction_but_they_complete_with_every_retry_counted_and_nothing_lost()
    {
        var figures = new Figures(output, "3-store-503-slow-down");
        var trafficSeconds = GameDaySettings.SlowDownSeconds;
        using var root = new TempFolder("gameday-slowdown");
        var workload = GameDayWorkload.Generate(seed: 303, points: (long)Math.Clamp(trafficSeconds * 20_000, 200_000, 2_000_000));
        string[] topics = [await kafka.CreateTopicAsync(4, "slowdown-a"), await kafka.CreateTopicAsync(4, "slowdown-b")];
        var group = kafka.NewGroupId("slowdown");
        var bucket = await s3.CreateBucketAsync("slowdown");
        await using var proxy = new S3Proxy(s3.Endpoint, seed: 303);
        using var meter = new MetricCapture(ObjectStoreMetrics.MeterName);
        await using var throughProxy = s3.OpenStore(bucket, configure: o => o.Endpoint = proxy.Endpoint);
        await using var direct = s3.OpenStore(bucket);
        var storeName = throughProxy.Name;
        var map = new ShardMap(8);
        using var traffic = new KafkaTraffic(kafka, workload, topics, partitionsPerTopic: 4);
        using var watch = new GroupWatch(kafka, group, traffic.Partitions);
        var logs = new FiguresLogs(figures);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points, produced over {trafficSeconds} s; store {storeName}");

        // From here on, a fifth of the store's answers are 503 Slow Down.
        proxy.SlowDownShare = Share;
        var faultsFrom = figures.Clock.Elapsed;
        var kafkaOptions = InProcessSinkWorker.KafkaOptions(kafka.BootstrapServers, topics, group, TimeSpan.FromSeconds(60));
        SinkOptions Engine() => InProcessSinkWorker.EngineOptions(map, 64L << 20);
        var workers = new[]
        {
            new InProcessSinkWorker("sink-1", kafkaOptions, Engine(), throughProxy, figures.Clock, logs),
            new InProcessSinkWorker("sink-2", kafkaOptions, Engine(), throughProxy, figures.Clock, logs),
        };
        try
        {
            await InProcessSinkWorker.WaitForOwnersAsync(workers, traffic.Partitions.Count);
            await traffic.RunAsync(watch, rate: workload.Frames.Count / trafficSeconds);
            var producedAt = figures.Clock.Elapsed;
            await watch.WaitForCommitsAsync(traffic.Ends(), GameDaySettings.Timeout * 2, () => InProcessSinkWorker.DescribeAll(workers));
            var drained = figures.Clock.Elapsed - producedAt;
            foreach (var worker in workers)
            {
                await worker.StopAsync();
            }

            var sinkRetries = Retries();
            var sinkInjected = proxy.Injected;
            var statuses = workers.Select(w => w.Engine.Status).ToList();
            figures.Log($"sink done: every offset committed {drained.TotalSeconds:F1} s after the last payload; {sinkInjected} answers were 503, {sinkRetries} retries counted; "
                + $"segments {statuses.Sum(s => s.SegmentsCompleted)} completed, {statuses.Sum(s => s.SegmentsFailed)} failed, {statuses.Sum(s => s.Rewinds)} rewinds");

            // Compaction and verification under the same 503s.
            var compaction = await CompactionCheck.RunAsync(throughProxy, workload, map, Path.Combine(root.Path, "work"));
            var faultSeconds = (figures.Clock.Elapsed - faultsFrom).TotalSeconds;
            proxy.SlowDownShare = 0;
            figures.Log($"compaction under 503s: {compaction}");

            var requests = proxy.Requests;
            var retries = Retries();
            var failedRequests = meter.Sum(ObjectStoreMetrics.RequestsName, ("store", storeName), ("outcome", ObjectStoreMetrics.Failed));
            var meteredRequests = meter.Sum(ObjectStoreMetrics.RequestsName, ("store", storeName));
            var audit = await SegmentAudit.ReadAsync(direct);
            var missing = audit.Missing(workload);
            var retriesByError = meter.Measurements.Where(m => m.Instrument == ObjectStoreMetrics.RetriesName && m.Tags.GetValueOrDefault("store") == storeName)
                .GroupBy(m => $"{m.Tags.GetValueOrDefault("operation")}:{m.Tags.GetValueOrDefault("error")}").OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (long)g.Sum(m => m.Value));
            figures.Log($"the proxy saw {requests.Count} requests and answered {proxy.Injected} with 503; the meter counted {meteredRequests} requests, {retries} retries ({string.Join(", ", retriesByError.Select(r => $"{r.Key} {r.Value}"))}), {failedRequests} failures");
            figures.Log($"segments: {audit.Segments} ({audit.Records} records), {missing.Count} payloads missing, {audit.Duplicates(workload)} duplicate copies");

            figures.Set("payloads", workload.Frames.Count);
            figures.Set("points", workload.Points);
            figures.Set("slow_down_share", Share);
            figures.Set("traffic_s", trafficSeconds);
            figures.Set("faults_s", faultSeconds);
            figures.Set("requests_seen_by_proxy", requests.Count);
            figures.Set("answered_503", proxy.Injected);
            figures.Set("answered_503_during_sink", sinkInjected);
            figures.Set("requests_metered", meteredRequests);
            figures.Set("retries_metered", retries);
            figures.Set("retries_metered_during_sink", sinkRetries);
            figures.Set("retries_by_operation_and_error", retriesByError);
            figures.Set("requests_failed_after_retries", failedRequests);
            figures.Set("commit_drain_after_last_payload_s", drained);
            figures.Set("segments_completed", statuses.Sum(s => s.SegmentsCompleted));
            figures.Set("segments_failed", statuses.Sum(s => s.SegmentsFailed));
            figures.Set("rewinds", statuses.Sum(s => s.Rewinds));
            figures.Set("segments", audit.Segments);
            figures.Set("missing_payloads", missing.Count);
            figures.Set("duplicate_copies", audit.Duplicates(workload));
            figures.Set("compaction", compaction);
            figures.Print();

            // Every 503 the store gave was either retried (and counted) or failed a request for good (counted too).
            Assert.True(proxy.Injected > 100, $"only {proxy.Injected} answers were 503");
            Assert.Equal(proxy.Injected, (long)(retries + failedRequests));
            Assert.InRange(proxy.Injected / (double)requests.Count, Share - 0.03, Share + 0.03);
            Assert.Empty(audit.Unreadable);
            Assert.Empty(missing);
            Assert.Equal(0, audit.Unknown(workload));
            CompactionCheck.AssertNothingLost(compaction);
        }
        finally
        {
            proxy.SlowDownShare = 0;
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }

        double Retries() => meter.Sum(ObjectStoreMetrics.RetriesName, ("store", storeName));
    }
}
