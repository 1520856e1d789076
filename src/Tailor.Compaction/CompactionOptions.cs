using Tailor.Format;
using Tailor.Format.Codecs;

namespace Tailor.Compaction;

/// <summary>Options of a compaction job. Every default is the one stated on the property.</summary>
public sealed class CompactionOptions
{
    /// <summary>
    /// The memory the job may use for decoded points, runs, series tables and merge buffers. Past it,
    /// sorted runs spill to <see cref="WorkDirectory"/> and are merged back. Default 1 GiB.
    /// </summary>
    public long MemoryBudgetBytes { get; set; } = 1L << 30;

    /// <summary>Threads that read splits and encode series. Default: the number of cores.</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// The largest byte-range split segments are cut into. Default 64 MiB. A job with little input
    /// cuts smaller splits (down to 4 MiB, never above this), about eight per thread, so the reading
    /// phase does not end with one thread reading a last large split while the others wait.
    /// </summary>
    public long SplitBytes { get; set; } = 64L << 20;

    /// <summary>Into a local store that flushes puts to disk, a part's bytes are flushed in the background every this many bytes written (tests make it small).</summary>
    internal long FlushAheadBytes { get; set; } = 8L << 20;

    /// <summary>An S-file part is closed once it reaches this size. Default 256 MiB.</summary>
    public long TargetPartBytes { get; set; } = 256L << 20;

    /// <summary>Where spill files and downloaded inputs go. Default: a "tailor-compaction" folder in the system temp folder.</summary>
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "tailor-compaction");

    /// <summary>The series codec of the S-files. Default <see cref="SeriesCodecs.Default"/>.</summary>
    public ISeriesCodec Codec { get; set; } = SeriesCodecs.Default;

    /// <summary>Segment hours before the window start that may hold its points (clock skew, early flushes). Default 1 hour.</summary>
    public TimeSpan EarlyAllowance { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Segment hours after the window end that may hold its points (late arrivals). Default 2 hours. A
    /// later plan with a larger allowance picks up later segments and recompacts the window.
    /// </summary>
    public TimeSpan LateAllowance { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Recompact even when the manifest already names exactly these inputs. Default false.</summary>
    public bool Force { get; set; }

    /// <summary>The largest payload accepted when decoding. Default 16 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = FormatLimits.DefaultMaxRecordBytes;

    /// <summary>
    /// Publish a generation that lacks inputs the window's current manifest lists and the store no
    /// longer holds (segments deleted since, for example by a lifecycle rule): their points leave the
    /// window, and the run report names the dropped inputs. Default false: such a job fails, names the
    /// missing inputs and publishes nothing.
    /// </summary>
    public bool AllowDroppedInputs { get; set; }

    /// <summary>
    /// Before a job is skipped because its manifest names the same inputs, read every part the manifest
    /// names and compare its SHA-256 with the manifest's (existence and size are always checked); a part
    /// that fails is rewritten by compacting the window again. Default false.
    /// </summary>
    public bool CheckParts { get; set; }

    /// <summary>
    /// The number of shared shards of the shard map the sink routes with, to count misrouted payloads (an
    /// org the map sends to another shard than the one its segment lies under, which readers will not
    /// look for there). Default null: only what a shard's name proves is counted (another org under a
    /// dedicated shard <c>org-&lt;id&gt;</c>, an org below K under <c>org-mod-K</c>).
    /// </summary>
    public int? SharedShards { get; set; }

    /// <summary>
    /// The orgs the sink's shard map dedicates a shard (<c>org-&lt;id&gt;</c>) to, to count their payloads
    /// as misrouted wherever else they lie (a shared shard included). Default empty: an org's own shard
    /// is only known from the shard's name.
    /// </summary>
    public IList<uint> DedicatedOrgs { get; set; } = [];

    /// <summary>Checks the options and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (MemoryBudgetBytes < 16L << 20)
        {
            throw new ArgumentException($"MemoryBudgetBytes must be at least 16 MiB (was {MemoryBudgetBytes}).", nameof(MemoryBudgetBytes));
        }

        if (Parallelism < 1)
        {
            throw new ArgumentException($"Parallelism must be at least 1 (was {Parallelism}).", nameof(Parallelism));
        }

        if (SplitBytes < 4096)
        {
            throw new ArgumentException($"SplitBytes must be at least 4 KiB (was {SplitBytes}).", nameof(SplitBytes));
        }

        if (TargetPartBytes < 4096)
        {
            throw new ArgumentException($"TargetPartBytes must be at least 4 KiB (was {TargetPartBytes}).", nameof(TargetPartBytes));
        }

        if (EarlyAllowance < TimeSpan.Zero || LateAllowance < TimeSpan.Zero)
        {
            throw new ArgumentException("EarlyAllowance and LateAllowance cannot be negative.", nameof(LateAllowance));
        }

        if (SharedShards is < 1 or > Storage.ShardMap.MaxSharedShards)
        {
            throw new ArgumentException($"SharedShards must be between 1 and {Storage.ShardMap.MaxSharedShards} (was {SharedShards}).", nameof(SharedShards));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(WorkDirectory);
        ArgumentNullException.ThrowIfNull(Codec);
    }
}
