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
/// A reading thread's in-memory runs, sorted by series key (through ranks), then first timestamp,
/// then newest intake.
/// </summary>
internal sealed unsafe class MemoryRunSource : RunSource
{
    private readonly SeriesReader _reader;
    private readonly int[] _byRank;
    private long _index;
    private long _end;

    public MemoryRunSource(SeriesReader reader)
    {
        _reader = reader;
        _byRank = SortRuns(reader);
        Seek(0);
    }

    public override bool HasCurrent => _index < _reader.Buffer.Runs.Count;

    public override CompactKey CurrentKey => _reader.Table[_byRank[_reader.Buffer.Runs[_index].Series]].Key;

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

    /// <summary>
    /// Ranks the thread's series by key, rewrites each run's series id as its rank, and sorts the
    /// runs. Returns rank → series id.
    /// </summary>
    public static int[] SortRuns(SeriesReader reader)
    {
        var table = reader.Table;
        var byRank = new int[table.Count];
        for (var i = 0; i < byRank.Length; i++)
        {
            byRank[i] = i;
        }

        byRank.AsSpan().Sort(new KeyOrder(table));
        for (var rank = 0; rank < byRank.Length; rank++)
        {
            table[byRank[rank]].Rank = rank;
        }

        var runs = reader.Buffer.Runs;
        var span = new Span<Run>(runs.Pointer, checked((int)runs.Count));
        foreach (ref var run in span)
        {
            run.Series = table[run.Series].Rank;
        }

        span.Sort(new RunOrder());
        return byRank;
    }

    private void Seek(long index)
    {
        _index = index;
        var runs = _reader.Buffer.Runs;
        if (index >= runs.Count)
        {
            _end = index;
            return;
        }

        var rank = runs[index].Series;
        var end = index + 1;
        while (end < runs.Count && runs[end].Series == rank)
        {
            end++;
        }

        _end = end;
    }

    private readonly struct KeyOrder(SeriesTable table) : IComparer<int>
    {
        public int Compare(int x, int y) => table[x].Key.CompareTo(table[y].Key);
    }
}
