using Confluent.Kafka;

namespace Tailor.Compaction;

/// <summary>How a job the worker received ended.</summary>
public enum CompactionJobOutcome
{
    /// <summary>The job ran and wrote its S-files and manifest.</summary>
    Written,

    /// <summary>The manifest already named the same inputs (a re-delivery, or the same plan published twice): nothing to do.</summary>
    Skipped,

    /// <summary>The manifest names a larger input set that holds every input of the job (a later plan already ran): nothing to do.</summary>
    Superseded,

    /// <summary>The job failed <see cref="CompactionWorkerOptions.MaxAttempts"/> times for a reason of its own (an input segment gone,
    /// unreadable data); it was given up and its offset committed. Failures of the store or the local disk never give a job up.</summary>
    Failed,

    /// <summary>A stop or a revocation cancelled the job; it was not committed, so the group runs it again.</summary>
    Cancelled,

    /// <summary>The message was not a valid job; it was logged and committed.</summary>
    Invalid,
}

/// <summary>What happened in a <see cref="CompactionWorker"/>.</summary>
public enum CompactionWorkerEventKind
{
    /// <summary>Partitions were added to the worker's assignment (<see cref="CompactionWorkerEventArgs.Partitions"/>).</summary>
    Assigned,

    /// <summary>Partitions were taken away in order (a rebalance or a stop).</summary>
    Revoked,

    /// <summary>Partitions were lost (the session expired); nothing of them is committed any more.</summary>
    Lost,

    /// <summary>A job started (<see cref="CompactionWorkerEventArgs.Job"/>, <see cref="CompactionWorkerEventArgs.Position"/>).</summary>
    JobStarted,

    /// <summary>An attempt of a job failed and the job will be tried again (<see cref="CompactionWorkerEventArgs.Attempts"/>, <see cref="CompactionWorkerEventArgs.Error"/>).</summary>
    JobRetrying,

    /// <summary>A job ended (<see cref="CompactionWorkerEventArgs.Outcome"/>, and <see cref="CompactionWorkerEventArgs.Report"/> when it ran).</summary>
    JobFinished,

    /// <summary>Offsets were committed (<see cref="CompactionWorkerEventArgs.Offsets"/>: the next offset to read per partition).</summary>
    Committed,
}

/// <summary>One event of a <see cref="CompactionWorker"/>; which properties are set depends on <see cref="Kind"/>.</summary>
public sealed class CompactionWorkerEventArgs : EventArgs
{
    /// <summary>What happened.</summary>
    public required CompactionWorkerEventKind Kind { get; init; }

    /// <summary>The partitions of an assignment change.</summary>
    public IReadOnlyList<TopicPartition> Partitions { get; init; } = [];

    /// <summary>The committed offsets (next offset to read) of a <see cref="CompactionWorkerEventKind.Committed"/> event.</summary>
    public IReadOnlyList<TopicPartitionOffset> Offsets { get; init; } = [];

    /// <summary>The job of a job event (<see langword="null"/> for an invalid message).</summary>
    public CompactionJob? Job { get; init; }

    /// <summary>Where the job's message is.</summary>
    public TopicPartitionOffset? Position { get; init; }

    /// <summary>How the job ended.</summary>
    public CompactionJobOutcome? Outcome { get; init; }

    /// <summary>The run report, when the job ran (written or skipped by the runner).</summary>
    public CompactionReport? Report { get; init; }

    /// <summary>Attempts made (of a finished job), or the number of the attempt that failed (of a retry).</summary>
    public int Attempts { get; init; }

    /// <summary>Why a job failed, why an attempt failed, or why a message was invalid.</summary>
    public string? Error { get; init; }
}

/// <summary>A snapshot of a worker's counters.</summary>
public sealed record CompactionWorkerStatus
{
    /// <summary>Job messages received.</summary>
    public long Received { get; init; }

    /// <summary>Jobs that wrote a manifest.</summary>
    public long Written { get; init; }

    /// <summary>Jobs whose manifest already named their inputs.</summary>
    public long Skipped { get; init; }

    /// <summary>Jobs a larger, already compacted input set made unnecessary.</summary>
    public long Superseded { get; init; }

    /// <summary>Jobs given up after every attempt failed.</summary>
    public long Failed { get; init; }

    /// <summary>Jobs cancelled by a stop or a revocation (run again by the group).</summary>
    public long Cancelled { get; init; }

    /// <summary>Messages that were not valid jobs.</summary>
    public long Invalid { get; init; }

    /// <summary>Successful commits.</summary>
    public long Commits { get; init; }

    /// <summary>Commits the broker refused (retried while the partition is owned).</summary>
    public long CommitFailures { get; init; }

    /// <summary>Points written by the jobs this worker ran.</summary>
    public long PointsOut { get; init; }

    /// <summary>S-file bytes written by the jobs this worker ran.</summary>
    public long BytesOut { get; init; }

    /// <summary>Partitions assigned now.</summary>
    public int AssignedPartitions { get; init; }

    /// <summary>
    /// Whether the worker is a member of its group: true from the first assignment the group handed it
    /// (even an empty one, as for a worker on standby) until it loses its partitions or leaves.
    /// </summary>
    public bool Joined { get; init; }

    /// <summary>The job running now (<c>shard window</c>), if any.</summary>
    public string? RunningJob { get; init; }
}
