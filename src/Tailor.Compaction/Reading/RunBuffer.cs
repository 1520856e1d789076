using System.Runtime.CompilerServices;
using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Reading;

/// <summary>One payload entry's points of one series: a run, usually already in time order.</summary>
internal struct Run
{
    public int Series;      // the thread's series id
    public int Count;
    public long Start;      // index into the point columns
    public long Intake;
    public long FirstTimestamp;
    public long LastTimestamp;
    public bool Sorted;     // strictly increasing timestamps
    public bool Regular;    // one point, or timestamps stepping by one positive interval (SpillFile.IsRegular)
}

/// <summary>
/// One reading thread's decoded points in columns (timestamps, values) plus the runs that index
/// them, all in native memory.
/// </summary>
internal sealed class RunBuffer : IDisposable
{
    public NativeBuffer<long> Timestamps { get; } = new(1 << 16);

    public NativeBuffer<double> Values { get; } = new(1 << 16);

    public NativeBuffer<Run> Runs { get; } = new(1 << 12);

    /// <summary>Bytes of native memory held.</summary>
    public long Bytes => Timestamps.Bytes + Values.Bytes + Runs.Bytes;

    /// <summary>Bytes in use (what a spill writes).</summary>
    public long UsedBytes => (Timestamps.Count * 16) + (Runs.Count * Unsafe.SizeOf<Run>());

    public void Clear()
    {
        Timestamps.Clear();
        Values.Clear();
        Runs.Clear();
    }

    public void Dispose()
    {
        Timestamps.Dispose();
        Values.Dispose();
        Runs.Dispose();
    }
}
