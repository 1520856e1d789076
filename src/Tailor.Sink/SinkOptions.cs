using Tailor.Format;
using Tailor.Storage;

namespace Tailor.Sink;

/// <summary>Options of the sink engine. Every default is the one stated on the property.</summary>
public sealed class SinkOptions
{
    /// <summary>Routes org ids to shards. Default: 64 shared shards, no dedicated orgs.</summary>
    public ShardMap ShardMap { get; set; } = ShardMap.Default;

    /// <summary>A segment is completed once it has been open this long. Default 10 minutes.</summary>
    public TimeSpan MaxSegmentAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A segment is completed once it holds this many payloads. Default 100,000.</summary>
    public int MaxSegmentPayloads { get; set; } = 100_000;

    /// <summary>A segment is completed once it reaches this size (the size cap). Default 1 GiB.</summary>
    public long MaxSegmentBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The memory the sink may hold for segments not yet uploaded, over all shards. Past it the
    /// largest open segment is completed early; while uploads keep it above, partitions are paused.
    /// Default 256 MiB.
    /// </summary>
    public long BufferBudgetBytes { get; set; } = 256L << 20;

    /// <summary>Paused partitions resume once buffered bytes fall below this share of the budget. Default 0.75.</summary>
    public double ResumeBelowFraction { get; set; } = 0.75;

    /// <summary>The longest the poll loop waits for a message before it does its housekeeping. Default 100 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often durable offsets are committed. Default 1 second.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a revocation may take to complete, upload and commit the segments holding the revoked
    /// partitions' records; past it they are aborted and left to the new owner. Default 30 seconds
    /// (keep it below the consumer's max poll interval).
    /// </summary>
    public TimeSpan RevocationDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a graceful stop waits for the last uploads before it gives up (nothing is committed for them). Default 60 seconds.</summary>
    public TimeSpan StopDeadline { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest message value, and the largest decompressed payload, accepted; larger goes to dead letters. Default 16 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = FormatLimits.DefaultMaxRecordBytes;

    /// <summary>
    /// False (default): the sink checks the key, the zstd frame magic and the size the frame declares,
    /// and never decompresses on its hot path (it keeps up with a bare consumer); segments then carry no
    /// point counts or time ranges (the footer claims the widest range, so the planner reads every
    /// candidate segment), and a malformed payload inside a valid frame is counted by compaction.
    /// True: every payload is decompressed and walked on the poll thread, footers carry exact point
    /// counts and time ranges (the planner skips segments that miss a window) and malformed payloads go
    /// to dead letters — at the cost of decompression CPU per payload.
    /// </summary>
    public bool ValidatePayloads { get; set; }

    /// <summary>This worker's id in segment keys and headers. Default null: a new random id per engine.</summary>
    public ulong? WriterId { get; set; }

    /// <summary>Hex digits of the sub-prefix that spreads one shard-hour over several S3 prefixes. Default 2.</summary>
    public int KeySpreadDigits { get; set; } = ObjectKeys.DefaultSpreadDigits;

    /// <summary>The block target of segment indexes. Default 1 MiB.</summary>
    public int BlockTargetBytes { get; set; } = 1 << 20;

    /// <summary>The size of the pooled chunks segments are buffered in before they go to the upload. Default 256 KiB.</summary>
    public int ChunkBytes { get; set; } = 256 * 1024;

    /// <summary>Checks the options and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive (was {value}).", name);
            }
        }

        Positive(MaxSegmentAge, nameof(MaxSegmentAge));
        Positive(PollInterval, nameof(PollInterval));
        Positive(CommitInterval, nameof(CommitInterval));
        Positive(RevocationDeadline, nameof(RevocationDeadline));
        Positive(StopDeadline, nameof(StopDeadline));
        if (MaxSegmentPayloads < 1)
        {
            throw new ArgumentException($"MaxSegmentPayloads must be at least 1 (was {MaxSegmentPayloads}).", nameof(MaxSegmentPayloads));
        }

        if (MaxSegmentBytes < 1024)
        {
            throw new ArgumentException($"MaxSegmentBytes must be at least 1 KiB (was {MaxSegmentBytes}).", nameof(MaxSegmentBytes));
        }

        if (BufferBudgetBytes < 1 << 20)
        {
            throw new ArgumentException($"BufferBudgetBytes must be at least 1 MiB (was {BufferBudgetBytes}).", nameof(BufferBudgetBytes));
        }

        if (ResumeBelowFraction is <= 0 or > 1)
        {
            throw new ArgumentException($"ResumeBelowFraction must be in (0, 1] (was {ResumeBelowFraction}).", nameof(ResumeBelowFraction));
        }

        if (MaxPayloadBytes is < 64 or > FormatLimits.DefaultMaxRecordBytes * 4)
        {
            throw new ArgumentException($"MaxPayloadBytes must be 64 … 64 MiB (was {MaxPayloadBytes}).", nameof(MaxPayloadBytes));
        }

        if (ChunkBytes < 4096)
        {
            throw new ArgumentException($"ChunkBytes must be at least 4 KiB (was {ChunkBytes}).", nameof(ChunkBytes));
        }

        ArgumentNullException.ThrowIfNull(ShardMap);
    }
}
