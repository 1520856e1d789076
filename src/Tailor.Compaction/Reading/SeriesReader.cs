using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;

namespace Tailor.Compaction.Reading;

/// <summary>Counts one reading thread keeps while decoding.</summary>
internal struct ReadCounts
{
    public long Records;
    public long Points;
    public long OutOfWindow;
    public long BadPayloads;
    public long MisroutedPayloads;
    public long MisroutedPoints;
    public long FrameBytes;
    public long DecompressTicks;
    public long DecodeTicks;

    /// <summary>Stopwatch ticks spent ordering runs by series key (at each spill and before the merge).</summary>
    public long SortTicks;
}

/// <summary>
/// One reading thread: decodes the payloads of the splits it owns straight into its columnar run
/// buffer, giving each series a dense id in its own table; no per-point or per-payload objects.
/// </summary>
internal sealed class SeriesReader : IDisposable
{
    private readonly PayloadDecoder _decoder;
    private readonly long _windowStart;
    private readonly long _windowEnd;
    private readonly RouteCheck _route;
    // Rented, like the decoder's buffer, so a job's readers reuse what the previous job's gave back.
    private PendingMetadata[] _pending = ArrayPool<PendingMetadata>.Shared.Rent(256);

    // Payload decoders outlive their readers: a decoder's buffer grows to the largest payload it has
    // seen, and handing a grown buffer back to the shared array pool on one thread and renting it on
    // another missed often enough to show up in a job's allocations.
    private static readonly Lock s_decoderGate = new();
    private static readonly Stack<PayloadDecoder> s_decoders = new();
    private const int MaxPooledDecoders = 16;
    private ReadCounts _counts;
    private bool _disposed;

    public SeriesReader(long windowStart, long windowEnd, int maxPayloadBytes, RouteCheck route = default)
    {
        _route = route;
        _windowStart = windowStart;
        _windowEnd = windowEnd;
        _decoder = RentDecoder(maxPayloadBytes);
    }

    public SeriesTable Table { get; } = new();

    public RunBuffer Buffer { get; } = new();

    /// <summary>Puts the runs in key order for spills and the merge (<see cref="Merging.MemoryRunSource.SortRuns"/>).</summary>
    public RunOrder Order { get; } = new();

    /// <summary>Scratch for sorting the runs in place once reading ends: the runs in their new order.</summary>
    public Memory.NativeBuffer<Run> SortScratch { get; } = new(256);

    public ref ReadCounts Counts => ref _counts;

    /// <summary>Bytes the runs and points in memory need, the order of the runs at a spill included.</summary>
    public long UsedBytes => Buffer.UsedBytes + (Buffer.Runs.Count * RunOrder.BytesPerRun);

    /// <summary>Native bytes this thread holds (points, runs, series table).</summary>
    public long Bytes => Buffer.Bytes + Table.Bytes + Order.Bytes + SortScratch.Bytes;

    /// <summary>Decodes every record the cursor returns; calls <paramref name="afterPayload"/> after each payload (the spill check).</summary>
    public void Read(SegmentRecordCursor cursor, Action<SeriesReader> afterPayload)
    {
        while (cursor.TryReadRecord(out var record))
        {
            _counts.Records++;
            _counts.FrameBytes += record.Frame.Length;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var status = _decoder.TryDecode(record.Frame, out var payload);
            var decoded = System.Diagnostics.Stopwatch.GetTimestamp();
            _counts.DecompressTicks += decoded - started;
            if (status != PayloadStatus.Ok || !Decode(ref payload))
            {
                _counts.BadPayloads++;
            }

            _counts.DecodeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - decoded;
            afterPayload(this);
        }
    }

    /// <summary>Makes room in the point columns for <paramref name="points"/> points before the first payload.</summary>
    public void ReservePoints(long points)
    {
        Buffer.Timestamps.EnsureCapacity(points);
        Buffer.Values.EnsureCapacity(points);
    }

    /// <summary>
    /// Gives back the sort buffers once the runs are in key order (after the last payload). The point
    /// columns keep their blocks: the spill rule keeps them within the thread's share of the budget,
    /// and moving their points into smaller blocks would cost a copy and free nothing (the larger block
    /// would stay in <see cref="Memory.NativePool"/> for the next job).
    /// </summary>
    public void TrimBuffers()
    {
        Order.Trim();
        SortScratch.Clear();
        SortScratch.Trim();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReturnDecoder(_decoder);
        if (_pending.Length > 0)
        {
            ArrayPool<PendingMetadata>.Shared.Return(_pending);
            _pending = [];
        }
        Table.Dispose();
        Buffer.Dispose();
        Order.Dispose();
        SortScratch.Dispose();
    }

    private static PayloadDecoder RentDecoder(int maxPayloadBytes)
    {
        lock (s_decoderGate)
        {
            while (s_decoders.TryPop(out var decoder))
            {
                if (decoder.MaxPayloadBytes == maxPayloadBytes)
                {
                    return decoder;
                }

                decoder.Dispose();
            }
        }

        return new PayloadDecoder(maxPayloadBytes);
    }

    private static void ReturnDecoder(PayloadDecoder decoder)
    {
        lock (s_decoderGate)
        {
            if (s_decoders.Count < MaxPooledDecoders)
            {
                s_decoders.Push(decoder);
                return;
            }
        }

        decoder.Dispose();
    }

    private bool Decode(ref PayloadReader payload)
    {
        var runsBefore = Buffer.Runs.Count;
        var pointsBefore = Buffer.Timestamps.Count;
        var org = payload.Header.OrgId;
        var intake = payload.Header.IntakeTime;
        var pending = 0;
        long points = 0;
        long outside = 0;
        var previous = -1;
        while (payload.TryReadSeries(out var series))
        {
            var n = series.PointCount;
            if (n == 0)
            {
                continue;
            }

            var id = Table.GetOrAddAfter(new CompactKey(org, series.MetricId, series.ContextKey), previous);
            previous = id;
            var start = Buffer.Timestamps.Count;
            var ts = Buffer.Timestamps.Reserve(n);
            var values = Buffer.Values.Reserve(n);
            if (!series.TryDecodeTimestamps(ts, out var regular))
            {
                return Rollback(runsBefore, pointsBefore);
            }

            series.DecodeValues(values);
            points += n;
            int kept;
            bool sorted;
            long first, last;
            if (regular && EvenlyInside(ts, out first, out last))
            {
                // Nearly every entry: evenly spaced and inside the window, nothing to filter or check.
                kept = n;
                sorted = true;
            }
            else
            {
                kept = Filter(ts, values, out sorted, out first, out last);
                regular = Spill.SpillFile.IsRegular(ts[..kept]);
            }

            outside += n - kept;
            if (kept == 0)
            {
                continue;
            }

            // Metadata counts only from entries that bring points of the window (the rule in docs/format.md).
            if (pending == _pending.Length)
            {
                var larger = ArrayPool<PendingMetadata>.Shared.Rent(pending * 2);
                _pending.AsSpan(0, pending).CopyTo(larger);
                ArrayPool<PendingMetadata>.Shared.Return(_pending);
                _pending = larger;
            }

            _pending[pending++] = new PendingMetadata(id, series.MetadataOffset, series.Metadata.Length);

            Buffer.Timestamps.Count += kept;
            Buffer.Values.Count += kept;
            Table[id].Points += kept;
            Buffer.Runs.Add(new Run { Series = id, Count = kept, Start = start, Intake = intake, FirstTimestamp = first, LastTimestamp = last, Sorted = sorted, Regular = regular });
        }

        if (payload.Status != PayloadStatus.Ok)
        {
            return Rollback(runsBefore, pointsBefore);
        }

        // Metadata counts only from payloads that decoded completely.
        var body = _decoder.LastBody;
        for (var i = 0; i < pending; i++)
        {
            var p = _pending[i];
            Table.OfferMetadata(p.Series, intake, body.Slice(p.Offset, p.Length));
        }

        _counts.Points += points;
        _counts.OutOfWindow += outside;
        if (_route.IsMisrouted(org))
        {
            _counts.MisroutedPayloads++;
            _counts.MisroutedPoints += points - outside;
        }

        return true;
    }

    private bool Rollback(long runs, long points)
    {
        Buffer.Runs.Count = runs;
        Buffer.Timestamps.Count = points;
        Buffer.Values.Count = points;
        return false;
    }

    /// <summary>
    /// For timestamps that step evenly upwards (<see cref="PayloadSeries.TryDecodeTimestamps(Span{long}, out bool)"/>):
    /// whether all lie inside the window, which the ends decide when no step wrapped past
    /// <see cref="long.MaxValue"/> (then the last is above the first: the steps sum to under 2^63, so a
    /// wrap would have put the last below). What <see cref="Filter"/> would report, without the walk.
    /// </summary>
    private bool EvenlyInside(ReadOnlySpan<long> ts, out long first, out long last)
    {
        first = ts[0];
        last = ts[^1];
        if (ts.Length > 1)
        {
            var high = Math.BigMul((ulong)(ts.Length - 1), (ulong)(ts[1] - ts[0]), out var span);
            if (high != 0 || span > long.MaxValue || last <= first)
            {
                return false;
            }
        }

        return first >= _windowStart && last < _windowEnd;
    }

    /// <summary>Keeps the points inside the window in place; reports order and range of what is kept.</summary>
    private int Filter(Span<long> ts, Span<double> values, out bool sorted, out long first, out long last)
    {
        var lo = _windowStart;
        var hi = _windowEnd;
        var n = ts.Length;
        sorted = true;
        first = ts[0];
        last = ts[0];
        var inside = true;
        for (var i = 0; i < n; i++)
        {
            var t = ts[i];
            inside &= t >= lo && t < hi;
            if (i > 0 && t <= ts[i - 1])
            {
                sorted = false;
            }
        }

        if (inside)
        {
            first = ts[0];
            last = ts[n - 1];
            if (!sorted)
            {
                first = long.MaxValue;
                last = long.MinValue;
                foreach (var t in ts)
                {
                    first = Math.Min(first, t);
                    last = Math.Max(last, t);
                }
            }

            return n;
        }

        var kept = 0;
        first = long.MaxValue;
        last = long.MinValue;
        for (var i = 0; i < n; i++)
        {
            var t = ts[i];
            if (t >= lo && t < hi)
            {
                ts[kept] = t;
                values[kept] = values[i];
                kept++;
                first = Math.Min(first, t);
                last = Math.Max(last, t);
            }
        }

        return kept;
    }

    private readonly record struct PendingMetadata(int Series, int Offset, int Length);
}
