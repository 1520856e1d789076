using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tailor.Sink;

/// <summary>
/// The <c>Tailor.Sink</c> meter and activity source: payloads and bytes consumed, segments completed,
/// open segments, buffered bytes, upload failures and rewinds, commit latency, dead letters and
/// paused partitions. Read them with OpenTelemetry, Prometheus exporters or <c>dotnet-counters</c>.
/// </summary>
public static class SinkMetrics
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "Tailor.Sink";

    internal static readonly Meter Meter = new(Name, "1.0");
    internal static readonly ActivitySource ActivitySource = new(Name, "1.0");

    internal static readonly Counter<long> PayloadsConsumed = Meter.CreateCounter<long>("tailor.sink.payloads", "{payload}", "Payloads consumed and written to segments.");
    internal static readonly Counter<long> BytesConsumed = Meter.CreateCounter<long>("tailor.sink.bytes", "By", "Payload bytes (compressed, as received) written to segments.");
    internal static readonly Counter<long> SegmentsCompleted = Meter.CreateCounter<long>("tailor.sink.segments.completed", "{segment}", "Segments uploaded completely.");
    internal static readonly Counter<long> SegmentsFailed = Meter.CreateCounter<long>("tailor.sink.segments.failed", "{segment}", "Segments whose upload failed after retries or that were aborted.");
    internal static readonly Counter<long> Rotations = Meter.CreateCounter<long>("tailor.sink.rotations", "{segment}", "Segments completed, by reason (age, payloads, size, budget, revocation, stop).");
    internal static readonly Counter<long> Rewinds = Meter.CreateCounter<long>("tailor.sink.rewinds", "{rewind}", "Times the worker re-read partitions from their last commit after a failed upload.");
    internal static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("tailor.sink.dead_letters", "{message}", "Messages written to the dead-letter area, by topic.");
    internal static readonly Histogram<double> CommitLatency = Meter.CreateHistogram<double>("tailor.sink.commit.duration", "ms", "Time an offset commit took.");
    internal static readonly Counter<long> Commits = Meter.CreateCounter<long>("tailor.sink.commits", "{commit}", "Offset commits, by outcome.");

    private static readonly List<WeakReference<SinkEngine>> Engines = [];

    static SinkMetrics()
    {
        Meter.CreateObservableGauge("tailor.sink.segments.open", () => Sum(s => s.OpenSegments), "{segment}", "Segments being written or uploaded.");
        Meter.CreateObservableGauge("tailor.sink.buffered", () => Sum(s => s.BufferedBytes), "By", "Bytes held for segments not yet uploaded.");
        Meter.CreateObservableGauge("tailor.sink.partitions.paused", () => Sum(s => s.PausedPartitions), "{partition}", "Partitions paused until uploads catch up.");
        Meter.CreateObservableGauge("tailor.sink.consumer.lag", Lag, "{message}",
            "Messages of a partition this worker holds that it has not read yet (high watermark minus position), by topic and partition.");
    }

    internal static void Register(SinkEngine engine)
    {
        lock (Engines)
        {
            Engines.RemoveAll(w => !w.TryGetTarget(out _));
            Engines.Add(new WeakReference<SinkEngine>(engine));
        }
    }

    private static List<Measurement<long>> Lag()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var engine in LiveEngines())
        {
            foreach (var lag in engine.GetLag())
            {
                measurements.Add(new Measurement<long>(lag.Messages,
                    new KeyValuePair<string, object?>("topic", lag.Partition.Topic),
                    new KeyValuePair<string, object?>("partition", lag.Partition.Partition)));
            }
        }

        return measurements;
    }

    private static List<SinkEngine> LiveEngines()
    {
        var live = new List<SinkEngine>();
        lock (Engines)
        {
            foreach (var reference in Engines)
            {
                if (reference.TryGetTarget(out var engine))
                {
                    live.Add(engine);
                }
            }
        }

        return live;
    }

    private static long Sum(Func<SinkStatus, long> figure)
    {
        long total = 0;
        lock (Engines)
        {
            foreach (var reference in Engines)
            {
                if (reference.TryGetTarget(out var engine))
                {
                    total += figure(engine.Status);
                }
            }
        }

        return total;
    }
}
