using System.Buffers;

namespace Tailor.Compaction.Memory;

/// <summary>
/// The byte buffers of compaction jobs (read windows, spill and part I/O, S-file index pages) come
/// from one pool that keeps enough arrays of each size for every thread of a job, so after the first
/// job a worker allocates no managed memory for them.
/// </summary>
internal static class CompactionBuffers
{
    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(maxArrayLength: 64 << 20, maxArraysPerBucket: 256);
}
