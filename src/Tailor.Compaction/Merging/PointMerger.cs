using System.Runtime.CompilerServices;
using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Merging;

/// <summary>
/// Merges the runs of one series into its points in time order, each timestamp once: the value from
/// the run with the latest intake time wins; ties go to the larger value bits (DESIGN, Duplicates).
/// The common case — runs that follow each other in time — is a concatenation.
/// </summary>
internal sealed unsafe class PointMerger : IDisposable
{
    private readonly NativeBuffer<long> _ts = new(1 << 14);
    private readonly NativeBuffer<double> _values = new(1 << 14);
    private readonly NativeBuffer<long> _intakes = new(1 << 14);
    private readonly NativeBuffer<long> _mergeTs = new(1 << 12);
    private readonly NativeBuffer<double> _mergeValues = new(1 << 12);
    private readonly NativeBuffer<long> _mergeIntakes = new(1 << 12);
    private readonly NativeBuffer<long> _sortTs = new(1 << 12);
    private readonly NativeBuffer<double> _sortValues = new(1 << 12);

    /// <summary>Points dropped as duplicates over every merge.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Merges <paramref name="runs"/> (reordered in place) and returns the points.</summary>
    /// <remarks>The spans are valid until the next call.</remarks>
    public int Merge(NativeBuffer<RunView> runs, out ReadOnlySpan<long> timestamps, out ReadOnlySpan<double> values)
    {
        var count = (int)runs.Count;
        if (count == 1 && runs[0].Sorted)
        {
            ref var only = ref runs[0];
            timestamps = new ReadOnlySpan<long>(only.Timestamps, only.Count);
            values = new ReadOnlySpan<double>(only.Values, only.Count);
            return only.Count;
        }

        long unsorted = 0;
        for (var i = 0; i < count; i++)
        {
            if (!runs[i].Sorted)
            {
                unsorted += runs[i].Count;
            }
        }

        if (unsorted > 0)
        {
            SortUnsortedRuns(runs, unsorted);
        }

        long total = 0;
        for (var i = 0; i < count; i++)
        {
            total += runs[i].Count;
        }

        var span = new Span<RunView>(runs.Pointer, count);
        span.Sort(new ByFirst());

        _ts.Clear();
        _values.Clear();
        _intakes.Clear();
        _ts.Reserve((int)total);
        _values.Reserve((int)total);
        _intakes.Reserve((int)total);
        var ts = _ts.Pointer;
        var vs = _values.Pointer;
        var ins = _intakes.Pointer;
        long n = 0;
        foreach (ref var run in span)
        {
            if (n == 0 || run.First > ts[n - 1])
            {
                Buffer.MemoryCopy(run.Timestamps, ts + n, run.Count * 8L, run.Count * 8L);
                Buffer.MemoryCopy(run.Values, vs + n, run.Count * 8L, run.Count * 8L);
                new Span<long>(ins + n, run.Count).Fill(run.Intake);
                n += run.Count;
            }
            else
            {
                n = MergeTail(ts, vs, ins, n, in run);
            }
        }

        Duplicates += total - n;
        timestamps = new ReadOnlySpan<long>(ts, (int)n);
        values = new ReadOnlySpan<double>(vs, (int)n);
        return (int)n;
    }

    public void Dispose()
    {
        _ts.Dispose();
        _values.Dispose();
        _intakes.Dispose();
        _mergeTs.Dispose();
        _mergeValues.Dispose();
        _mergeIntakes.Dispose();
        _sortTs.Dispose();
        _sortValues.Dispose();
    }

    /// <summary>Whether the point (intake a, bits a) beats (intake b, bits b) for the same timestamp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Wins(long intakeA, double valueA, long intakeB, double valueB) =>
        intakeA != intakeB ? intakeA > intakeB : BitConverter.DoubleToUInt64Bits(valueA) > BitConverter.DoubleToUInt64Bits(valueB);

    /// <summary>Merges a sorted run into the tail of the output that overlaps it.</summary>
    private long MergeTail(long* ts, double* vs, long* ins, long n, in RunView run)
    {
        // First output index whose timestamp is at least the run's first.
        long lo = 0;
        var hi = n;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (ts[mid] < run.First)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        var tail = n - lo;
        var room = (int)(tail + run.Count);
        _mergeTs.Clear();
        _mergeValues.Clear();
        _mergeIntakes.Clear();
        _mergeTs.Reserve(room);
        _mergeValues.Reserve(room);
        _mergeIntakes.Reserve(room);
        var mt = _mergeTs.Pointer;
        var mv = _mergeValues.Pointer;
        var mi = _mergeIntakes.Pointer;
        long a = lo;
        var b = 0;
        long m = 0;
        while (a < n || b < run.Count)
        {
            if (b >= run.Count || (a < n && ts[a] < run.Timestamps[b]))
            {
                mt[m] = ts[a];
                mv[m] = vs[a];
                mi[m] = ins[a];
                a++;
            }
            else if (a >= n || run.Timestamps[b] < ts[a])
            {
                mt[m] = run.Timestamps[b];
                mv[m] = run.Values[b];
                mi[m] = run.Intake;
                b++;
            }
            else
            {
                // The same timestamp in both: keep the winner.
                var take = Wins(run.Intake, run.Values[b], ins[a], vs[a]);
                mt[m] = ts[a];
                mv[m] = take ? run.Values[b] : vs[a];
                mi[m] = take ? run.Intake : ins[a];
                a++;
                b++;
            }

            m++;
        }

        Buffer.MemoryCopy(mt, ts + lo, m * 8, m * 8);
        Buffer.MemoryCopy(mv, vs + lo, m * 8, m * 8);
        Buffer.MemoryCopy(mi, ins + lo, m * 8, m * 8);
        return lo + m;
    }

    /// <summary>Copies each unsorted run aside sorted by time, one point per timestamp (larger bits win: same intake).</summary>
    private void SortUnsortedRuns(NativeBuffer<RunView> runs, long points)
    {
        _sortTs.Clear();
        _sortValues.Clear();
        _sortTs.Reserve((int)points);
        _sortValues.Reserve((int)points);
        long used = 0;
        for (long r = 0; r < runs.Count; r++)
        {
            ref var run = ref runs[r];
            if (run.Sorted)
            {
                continue;
            }

            var ts = _sortTs.Pointer + used;
            var vs = _sortValues.Pointer + used;
            Buffer.MemoryCopy(run.Timestamps, ts, run.Count * 8L, run.Count * 8L);
            Buffer.MemoryCopy(run.Values, vs, run.Count * 8L, run.Count * 8L);
            var keys = new Span<long>(ts, run.Count);
            var items = new Span<double>(vs, run.Count);
            keys.Sort(items);
            var kept = 0;
            for (var i = 0; i < run.Count; i++)
            {
                if (kept > 0 && ts[kept - 1] == ts[i])
                {
                    if (BitConverter.DoubleToUInt64Bits(vs[i]) > BitConverter.DoubleToUInt64Bits(vs[kept - 1]))
                    {
                        vs[kept - 1] = vs[i];
                    }

                    continue;
                }

                ts[kept] = ts[i];
                vs[kept] = vs[i];
                kept++;
            }

            Duplicates += run.Count - kept;
            run.Timestamps = ts;
            run.Values = vs;
            run.Count = kept;
            run.First = ts[0];
            run.Last = ts[kept - 1];
            run.Sorted = true;
            used += kept;
        }
    }

    private readonly struct ByFirst : IComparer<RunView>
    {
        public int Compare(RunView x, RunView y)
        {
            if (x.First != y.First)
            {
                return x.First < y.First ? -1 : 1;
            }

            if (x.Intake != y.Intake)
            {
                return x.Intake > y.Intake ? -1 : 1;
            }

            return x.Count.CompareTo(y.Count);
        }
    }
}
