using System.Text.Json.Serialization;
using Tailor.Compaction.Writing;

namespace Tailor.Compaction;

/// <summary>The run report of one compaction job (also written as JSON by <c>tailor compact --json</c>).</summary>
public sealed record CompactionReport
{
    /// <summary>The shard.</summary>
    [JsonPropertyName("shard")] public string Shard { get; init; } = "";

    /// <summary>The window.</summary>
    [JsonPropertyName("window")] public string Window { get; init; } = "";

    /// <summary>The input set's generation.</summary>
    [JsonPropertyName("generation")] public string Generation { get; init; } = "";

    /// <summary>True when a manifest with the same inputs existed and the job did nothing.</summary>
    [JsonPropertyName("skipped")] public bool Skipped { get; init; }

    /// <summary>Input segments.</summary>
    [JsonPropertyName("segments")] public int Segments { get; init; }

    /// <summary>Byte-range splits read.</summary>
    [JsonPropertyName("splits")] public int Splits { get; init; }

    /// <summary>Segments that could not be read at all (neither header nor footer intact).</summary>
    [JsonPropertyName("unreadable_segments")] public int UnreadableSegments { get; init; }

    /// <summary>
    /// Readable segments without an intact trailer (cut short, for example exactly at a record boundary):
    /// every record found by scanning was read, but records after the cut are lost without a count.
    /// </summary>
    [JsonPropertyName("incomplete_segments")] public int IncompleteSegments { get; init; }

    /// <summary>Input segments whose key is not one the sink writes (another <c>&lt;p&gt;</c> folder of their shard-hour): read, and reported.</summary>
    [JsonPropertyName("misplaced_segments")] public int MisplacedSegments { get; init; }

    /// <summary>
    /// Payloads whose org routes to another shard than the one their segment lies under (see
    /// <see cref="CompactionOptions.SharedShards"/>): compacted where they lie, where a reader that routes
    /// the org will not look.
    /// </summary>
    [JsonPropertyName("misrouted_payloads")] public long MisroutedPayloads { get; init; }

    /// <summary>Points of the window in misrouted payloads.</summary>
    [JsonPropertyName("misrouted_points")] public long MisroutedPoints { get; init; }

    /// <summary>Inputs the previous manifest listed that were gone from the store and left out (only with <see cref="CompactionOptions.AllowDroppedInputs"/>).</summary>
    [JsonPropertyName("dropped_inputs")] public IReadOnlyList<string> DroppedInputs { get; init; } = [];

    /// <summary>Inputs the previous manifest listed outside the hours this plan lists, still in the store and read as well.</summary>
    [JsonPropertyName("kept_inputs")] public int KeptInputs { get; init; }

    /// <summary>Parts of a manifest with the same inputs that were missing or damaged ("key: problem") and were rewritten.</summary>
    [JsonPropertyName("repaired_parts")] public IReadOnlyList<string> RepairedParts { get; init; } = [];

    /// <summary>Points decoded (in and out of the window).</summary>
    [JsonPropertyName("points_in")] public long PointsIn { get; init; }

    /// <summary>Points written.</summary>
    [JsonPropertyName("points_out")] public long PointsOut { get; init; }

    /// <summary>Points dropped by the duplicate rule.</summary>
    [JsonPropertyName("duplicates_dropped")] public long DuplicatesDropped { get; init; }

    /// <summary>Points of other windows, skipped.</summary>
    [JsonPropertyName("out_of_window")] public long OutOfWindow { get; init; }

    /// <summary>Records lost to damage plus undecodable payloads.</summary>
    [JsonPropertyName("damaged_records")] public long DamagedRecords { get; init; }

    /// <summary>Damaged regions found in the segments.</summary>
    [JsonPropertyName("damaged_regions")] public long DamagedRegions { get; init; }

    /// <summary>Bytes skipped in damaged regions.</summary>
    [JsonPropertyName("damaged_bytes")] public long DamagedBytes { get; init; }

    /// <summary>Series written.</summary>
    [JsonPropertyName("series")] public long Series { get; init; }

    /// <summary>Segment bytes read.</summary>
    [JsonPropertyName("bytes_in")] public long BytesIn { get; init; }

    /// <summary>S-file bytes written.</summary>
    [JsonPropertyName("bytes_out")] public long BytesOut { get; init; }

    /// <summary>S-file bytes per point written.</summary>
    [JsonPropertyName("bytes_per_point_out")] public double BytesPerPointOut => PointsOut == 0 ? 0 : (double)BytesOut / PointsOut;

    /// <summary>Spill files written.</summary>
    [JsonPropertyName("spills")] public int Spills { get; init; }

    /// <summary>Bytes spilled to local disk.</summary>
    [JsonPropertyName("spill_bytes")] public long SpillBytes { get; init; }

    /// <summary>
    /// Seconds per stage: list (listing the segments and reading their tails to plan the job; present
    /// when the runner planned it, not for a job planned elsewhere, such as one of <c>tailor plan</c>'s or
    /// of <c>tailor compact --all</c>, whose planning covers every shard at once), fetch, read (wall),
    /// decompress, decode and sort (thread time summed over the reading threads; sort orders runs by
    /// series key at each spill and before the merge), spill (thread time writing spill files), encode
    /// (merge and encode, wall), upload, manifest, total (from fetch to manifest).
    /// </summary>
    [JsonPropertyName("stage_seconds")] public IReadOnlyDictionary<string, double> StageSeconds { get; init; } = new Dictionary<string, double>();

    /// <summary>The process's peak working set sampled during the job.</summary>
    [JsonPropertyName("peak_working_set_bytes")] public long PeakWorkingSetBytes { get; init; }

    /// <summary>The most native memory the job's buffers held at once.</summary>
    [JsonPropertyName("peak_buffer_bytes")] public long PeakBufferBytes { get; init; }

    /// <summary>The memory budget.</summary>
    [JsonPropertyName("memory_budget_bytes")] public long MemoryBudgetBytes { get; init; }

    /// <summary>GC pause time during the job.</summary>
    [JsonPropertyName("gc_pause_seconds")] public double GcPauseSeconds { get; init; }

    /// <summary>GC pause time over wall time.</summary>
    [JsonPropertyName("gc_pause_fraction")] public double GcPauseFraction { get; init; }

    /// <summary>Managed bytes allocated by the process during the job.</summary>
    [JsonPropertyName("allocated_bytes")] public long AllocatedBytes { get; init; }

    /// <summary>Managed bytes allocated per point read.</summary>
    [JsonPropertyName("allocated_bytes_per_point")] public double AllocatedBytesPerPoint => PointsIn == 0 ? 0 : (double)AllocatedBytes / PointsIn;

    /// <summary>
    /// Object store calls by operation from the manifest check to the manifest and the clean-up of older
    /// parts, planning included when the runner planned the job. A local store's segments are read as
    /// files in place, not through store calls. Counted from the <c>Tailor.Storage</c> meter's requests
    /// (attempts, retries included) made in the job's own asynchronous flow, so jobs running side by side
    /// in one process do not count each other's calls.
    /// </summary>
    [JsonPropertyName("store_calls")] public IReadOnlyDictionary<string, long> StoreCalls { get; init; } = new Dictionary<string, long>();

    /// <summary>The S-file parts written.</summary>
    [JsonPropertyName("parts")] public IReadOnlyList<PartInfo> Parts { get; init; } = [];

    /// <summary>The manifest key.</summary>
    [JsonPropertyName("manifest")] public string Manifest { get; init; } = "";
}
