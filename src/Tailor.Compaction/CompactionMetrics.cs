using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tailor.Compaction;

/// <summary>
/// The <c>Tailor.Compaction</c> meter and activity source: jobs, points in and out, duplicates,
/// out-of-window points, damaged records, bytes in and out, spills, the time of every stage, each
/// job's peak working set and GC pause time, and the object store calls jobs make.
/// </summary>
public static class CompactionMetrics
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "Tailor.Compaction";

    internal static readonly Meter Meter = new(Name, "1.0");
    internal static readonly ActivitySource ActivitySource = new(Name, "1.0");

    internal static readonly Counter<long> Jobs = Meter.CreateCounter<long>("tailor.compaction.jobs", "{job}", "Jobs run, by outcome (written, skipped, failed).");
    internal static readonly Counter<long> PointsIn = Meter.CreateCounter<long>("tailor.compaction.points.in", "{point}", "Points decoded from segments.");
    internal static readonly Counter<long> PointsOut = Meter.CreateCounter<long>("tailor.compaction.points.out", "{point}", "Points written to S-files.");
    internal static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("tailor.compaction.duplicates", "{point}", "Points dropped by the duplicate rule.");
    internal static readonly Counter<long> OutOfWindow = Meter.CreateCounter<long>("tailor.compaction.out_of_window", "{point}", "Points of other windows, skipped.");
    internal static readonly Counter<long> DamagedRecords = Meter.CreateCounter<long>("tailor.compaction.damaged_records", "{record}", "Segment records lost to damage or undecodable.");
    internal static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("tailor.compaction.bytes.in", "By", "Segment bytes read.");
    internal static readonly Counter<long> BytesOut = Meter.CreateCounter<long>("tailor.compaction.bytes.out", "By", "S-file bytes written.");
    internal static readonly Counter<long> Spills = Meter.CreateCounter<long>("tailor.compaction.spills", "{file}", "Sorted runs spilled to local disk.");
    internal static readonly Counter<long> WorkerJobs = Meter.CreateCounter<long>("tailor.compaction.worker.jobs", "{job}", "Job messages handled by compaction workers, by outcome (written, skipped, superseded, failed, cancelled, invalid).");
    internal static readonly Counter<long> WorkerCommitFailures = Meter.CreateCounter<long>("tailor.compaction.worker.commit_failures", "{commit}", "Commits of job offsets the broker refused; retried while the partition is owned.");
    internal static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>("tailor.compaction.stage.duration", "s", "Time per stage (list, fetch, read, decompress, decode, sort, spill, encode, upload, manifest, total).");
    internal static readonly Histogram<long> PeakWorkingSet = Meter.CreateHistogram<long>("tailor.compaction.peak_working_set", "By", "The process's peak working set during each job.");
    internal static readonly Histogram<double> GcPause = Meter.CreateHistogram<double>("tailor.compaction.gc_pause", "s", "GC pause time during each job.");
    internal static readonly Counter<long> StoreCalls = Meter.CreateCounter<long>("tailor.compaction.store_calls", "{call}", "Object store calls made by compaction jobs (planning, reading, parts, manifest), by operation.");
}
