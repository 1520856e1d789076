namespace Tailor.Sink;

/// <summary>How far a worker's reading trails the end of one partition it holds.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="HighWatermark">The offset the next message produced to the partition gets (as last seen by the consumer).</param>
/// <param name="Position">The offset of the next message this worker reads.</param>
public readonly record struct PartitionLag(SourcePartition Partition, long HighWatermark, long Position)
{
    /// <summary>Messages in the partition that this worker has not read yet (never negative).</summary>
    public long Messages => Math.Max(0, HighWatermark - Position);
}
