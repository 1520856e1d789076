using System.Diagnostics;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// One sink worker on the embedded cluster: after a graceful stop, every payload is in exactly one
/// segment and every offset is committed, and the <c>Tailor.Sink</c> meter counted what happened.
/// </summary>
[Collection(SinkIntegrationCollection.Name)]
public sealed class KafkaSinkExactlyOnceTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("tailor-sink-it-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Every_payload_over_8_partitions_of_2_topics_is_in_exactly_one_segment_after_a_stop_and_the_meter_counted_it()
    {
        const int Count = 4000;
        string[] topics = [await kafka.CreateTopicAsync(4, "once-a"), await kafka.CreateTopicAsync(4, "once-b")];
        var group = kafka.NewGroupId("once");
        using var logs = new TestOutputLogs(output);
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 11);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        await using var store = new LocalObjectStore(_root.FullName);
        using var meter = new MetricCapture(SinkMetrics.Name);
        var watch = Stopwatch.StartNew();
        var options = IntegrationSettings.Engine(maxPayloads: 300);

        await using var worker = new InProcessWorker("w1", IntegrationSettings.Kafka(kafka, group, topics), options, store, logs);
        await traffic.ProduceInStepAsync(0, Count, batch: 500, offsets);
        await Waiting.UntilAsync(() => worker.Engine.Status.Payloads >= Count, IntegrationSettings.Timeout, "every payload consumed", worker.Describe);
        await worker.StopAsync();
        output.WriteLine($"{Count} payloads produced, consumed and stopped in {watch.ElapsedMilliseconds} ms; {worker.Describe()}");

        // Exactly once: each frame once, byte for byte, in a segment of its org's shard.
        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Unknown);
        Assert.Empty(stored.Missing(Count));
        Assert.Equal(Count, stored.Records.Count);
        foreach (var (key, frame) in stored.Records)
        {
            var index = traffic.IndexByFrame[Tailor.Sink.Tests.Engine.SinkTestKit.FrameId(frame)];
            Assert.True(traffic.Frames[index].Frame.AsSpan().SequenceEqual(frame));
            Assert.StartsWith($"segments/{options.ShardMap.Route(traffic.Frames[index].Org).Value}/", key, StringComparison.Ordinal);
        }

        // Every offset committed, at the partitions' ends.
        var committed = await offsets.CommittedAsync();
        Assert.Equal(GroupOffsets.Format(traffic.Ends()), GroupOffsets.Format(committed));
        Assert.Equal(8, committed.Count);

        // The meter saw the same run.
        var segments = stored.Records.Select(r => r.Key).Distinct().Count();
        output.WriteLine($"meter: {string.Join(", ", meter.Measurements.GroupBy(m => m.Instrument).Select(g => $"{g.Key}={g.Sum(m => m.Value)} ({g.Count()})"))}");
        Assert.Equal(Count, meter.Sum("tailor.sink.payloads"));
        Assert.Equal(traffic.Frames.Sum(f => (long)f.Frame.Length), meter.Sum("tailor.sink.bytes"));
        Assert.Equal(segments, meter.Sum("tailor.sink.segments.completed"));
        Assert.Equal(segments, meter.Sum("tailor.sink.rotations"));
        Assert.True(meter.Sum("tailor.sink.rotations", ("reason", "payloads")) >= Count / 300 - 8, "segments rotate at their payload count");
        Assert.Equal(0, meter.Sum("tailor.sink.segments.failed"));
        Assert.Equal(0, meter.Sum("tailor.sink.dead_letters"));
        Assert.Equal(0, meter.Sum("tailor.sink.rewinds"));
        Assert.True(meter.Sum("tailor.sink.commits", ("outcome", "ok")) >= 1);
        Assert.Equal(meter.Measurements.Count(m => m.Instrument == "tailor.sink.commits"), meter.Measurements.Count(m => m.Instrument == "tailor.sink.commit.duration"));
        Assert.Equal(segments, worker.Engine.Status.SegmentsCompleted);
    }
}
