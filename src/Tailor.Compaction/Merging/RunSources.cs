using Tailor.Compaction.Memory;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Merging;

/// <summary>A run as the merge sees it: pointers to its points wherever they live (memory or a spill read buffer).</summary>
internal unsafe struct RunView
{
    public long* Timestamps;
    public double* Values;
    public int Count;
    public long Intake;
    public long First;
    public long Last;
    public bool Sorted;
}

/// <summary>A stream of series in key order, each with its runs: a reading thread's memory or a spill file.</summary>
internal abstract class RunSource : IDisposable
{
    /// <summary>Whether a series is current.</summary>
    public abstract bool HasCurrent { get; }

    /// <summary>The current series' key.</summary>
    public abstract CompactKey CurrentKey { get; }

    /// <summary>Adds the current series' runs; they stay valid until <see cref="MoveNext"/>.</summary>
    public abstract void AddRuns(NativeBuffer<RunView> into);

    /// <summary>Moves to the next series.</summary>
    public abstract void MoveNext();

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// A reading thread's in-memory runs, sorted by series key, then first timestamp, then newest intake.
/// </summary>
internal sealed unsafe class MemoryRunSource : RunSource
{
    private readonly SeriesReader _reader;
    private long _index;
    private long _end;

    private readonly long _limit;

    /// <summary>A view of the reader's runs whose keys lie in [<paramref name="lo"/>, <paramref name="hi"/>); the runs must be sorted (<see cref="SortRuns"/>).</summary>
    public MemoryRunSource(SeriesReader reader, CompactKey? lo = null, CompactKey? hi = null)
    {
        _reader = reader;
        _limit = hi is { } h ? LowerBound(reader, h) : reader.Buffer.Runs.Count;
        Seek(lo is { } l ? LowerBound(reader, l) : 0);
    }

    /// <summary>The index of the first run whose series key is at least <paramref name="key"/>.</summary>
    private static long LowerBound(SeriesReader reader, in CompactKey key)
    {
        var runs = reader.Buffer.Runs;
        long lo = 0;
        var hi = runs.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (reader.Table[runs[mid].Series].Key.CompareTo(key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    public override bool HasCurrent => _index < _limit;

    public override CompactKey CurrentKey => _reader.Table[_reader.Buffer.Runs[_index].Series].Key;

    public override void AddRuns(NativeBuffer<RunView> into)
    {
        var buffer = _reader.Buffer;
        for (var i = _index; i < _end; i++)
        {
            ref var run = ref buffer.Runs[i];
            into.Add(new RunView
            {
                Timestamps = buffer.Timestamps.Pointer + run.Start,
                Values = buffer.Values.Pointer + run.Start,
                Count = run.Count,
                Intake = run.Intake,
                First = run.FirstTimestamp,
                Last = run.LastTimestamp,
                Sorted = run.Sorted,
            });
        }
    }

    public override void MoveNext() => Seek(_end);

    /// <summary>Sorts the thread's runs in place by series key, first timestamp, newest intake, then read order.</summary>
    public static void SortRuns(SeriesReader reader)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            Permute(reader, SortedOrder(reader));
        }
        finally
        {
            reader.Counts.SortTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        }
    }

    private static void Permute(SeriesReader reader, ReadOnlySpan<int> order)
    {
        if (order.Length < 2)
        {
            return;
        }

        var runs = reader.Buffer.Runs;
        var sorted = reader.SortScratch;
        sorted.Clear();
        var target = sorted.Reserve(order.Length);
        for (var i = 0; i < order.Length; i++)
        {
            target[i] = runs[order[i]];
        }

        target.CopyTo(new Span<Run>(runs.Pointer, order.Length));
        sorted.Clear();
    }

    /// <summary>The thread's runs in sorted order, as run indices (valid until the next call); the runs themselves stay where they are.</summary>
    public static ReadOnlySpan<int> SortedOrder(SeriesReader reader) => reader.Order.Sort(reader.Table, reader.Buffer.Runs);

    private void Seek(long index)
    {
        _index = index;
        var runs = _reader.Buffer.Runs;
        if (index >= _limit)
        {
            _end = index;
            return;
        }

        var series = runs[index].Series;
        var end = index + 1;
        while (end < _limit && runs[end].Series == series)
        {
            end++;
        }

        _end = end;
    }
}
