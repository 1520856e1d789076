using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Spill;

/// <summary>A spill file and its sparse index (a series key and file offset every ~256 KiB), in native memory.</summary>
internal sealed class SpillInfo(string path, long bytes, NativeBuffer<CompactKey> indexKeys, NativeBuffer<long> indexOffsets) : IDisposable
{
    private readonly Lock _lock = new();
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

    public string Path { get; } = path;

    public long Bytes { get; } = bytes;

    /// <summary>One read handle for every merge range (positioned reads share it safely).</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle Handle
    {
        get
        {
            lock (_lock)
            {
                return _handle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
            }
        }
    }

    /// <summary>The offset of the last indexed series whose key is at most <paramref name="key"/>.</summary>
    public long OffsetFor(in CompactKey key)
    {
        long lo = 0;
        var hi = indexKeys.Count - 1;
        var best = 0L;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (indexKeys[mid].CompareTo(key) <= 0)
            {
                best = indexOffsets[mid];
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return best;
    }

    public void Dispose()
    {
        _handle?.Dispose();
        indexKeys.Dispose();
        indexOffsets.Dispose();
    }
}

/// <summary>
/// A sorted run file on local disk: series in key order, each with its runs (intake, order flag,
/// range, raw timestamps and values). Written when a reading thread passes its share of the memory
/// budget; read back by the merge.
/// </summary>
/// <remarks>
/// Layout, little-endian: per series a 24-byte header (org u32, metric u64, context u64, run count
/// u32), then per run a 32-byte header (intake i64, first i64, last i64, count i32, sorted u8, regular u8, 2 zero
/// bytes) followed by count × i64 timestamps (left out when regular: see <see cref="IsRegular"/>) and count × f64 values. Local and transient: never
/// shipped, so no version or checksum.
/// </remarks>
internal static unsafe class SpillFile
{
    public const int SeriesHeaderLength = 24;
    public const int RunHeaderLength = 32;
    private const long IndexEvery = 16 << 10;

    /// <summary>Sorts the reader's runs and writes them to <paramref name="path"/>; the reader's runs and points are then cleared.</summary>
    public static SpillInfo Write(SeriesReader reader, string path)
    {
        var sortStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        var order = MemoryRunSource.SortedOrder(reader);
        reader.Counts.SortTicks += System.Diagnostics.Stopwatch.GetTimestamp() - sortStarted;
        var buffer = reader.Buffer;
        var table = reader.Table;
        var keys = new NativeBuffer<CompactKey>(64);
        var offsets = new NativeBuffer<long>(64);
        long written = 0;
        try
        {
            using var file = new PooledFileWriter(path);
            var i = 0;
            var runs = buffer.Runs;
            var lastIndexed = -IndexEvery; // the first series is always indexed
            while (i < order.Length)
            {
                var series = runs[order[i]].Series;
                var end = i + 1;
                while (end < order.Length && runs[order[end]].Series == series)
                {
                    end++;
                }

                var key = table[series].Key;
                if (file.Position - lastIndexed >= IndexEvery)
                {
                    keys.Add(key);
                    offsets.Add(file.Position);
                    lastIndexed = file.Position;
                }

                var seriesHeader = file.GetSpan(SeriesHeaderLength);
                BinaryPrimitives.WriteUInt32LittleEndian(seriesHeader, key.Org);
                BinaryPrimitives.WriteUInt64LittleEndian(seriesHeader[4..], key.Metric);
                BinaryPrimitives.WriteUInt64LittleEndian(seriesHeader[12..], key.Context);
                BinaryPrimitives.WriteInt32LittleEndian(seriesHeader[20..], (int)(end - i));
                file.Advance(SeriesHeaderLength);
                for (; i < end; i++)
                {
                    Prefetch(buffer, table, runs, order, i);
                    ref var run = ref runs[order[i]];
                    var timestamps = new ReadOnlySpan<long>(buffer.Timestamps.Pointer + run.Start, run.Count);
                    var regular = run.Regular;
                    var header = file.GetSpan(RunHeaderLength);
                    BinaryPrimitives.WriteInt64LittleEndian(header, run.Intake);
                    BinaryPrimitives.WriteInt64LittleEndian(header[8..], run.FirstTimestamp);
                    BinaryPrimitives.WriteInt64LittleEndian(header[16..], run.LastTimestamp);
                    BinaryPrimitives.WriteInt32LittleEndian(header[24..], run.Count);
                    header[28] = run.Sorted ? (byte)1 : (byte)0;
                    header[29] = regular ? (byte)1 : (byte)0;
                    header[30] = header[31] = 0;
                    file.Advance(RunHeaderLength);
                    if (!regular)
                    {
                        file.Write(MemoryMarshal.AsBytes(timestamps));
                    }

                    file.Write(new ReadOnlySpan<byte>(buffer.Values.Pointer + run.Start, run.Count * 8));
                }
            }

            written = file.Position;
        }
        catch (Exception e)
        {
            keys.Dispose();
            offsets.Dispose();
            if (e is not IOException io || !IsDiskFull(io))
            {
                throw;
            }

            TryDelete(path);
            throw new CompactionException(
                $"The local disk is full while spilling sorted runs to {System.IO.Path.GetDirectoryName(path)}: free space there, point the work " +
                "directory elsewhere (CompactionOptions.WorkDirectory, --work-dir), or raise the memory budget. Nothing was published.", e);
        }

        buffer.Clear();
        return new SpillInfo(path, written, keys, offsets);
    }

    /// <summary>
    /// Runs are written in key order, which is no order in memory: each run's entry and points would be
    /// a cache miss when reached. Asks for the entry 16 runs ahead, and the points (up to four cache
    /// lines of each column) and series 8 runs ahead.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(RunBuffer buffer, SeriesTable table, NativeBuffer<Run> runs, ReadOnlySpan<int> order, int i)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            return;
        }

        if (i + 16 < order.Length)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(runs.Pointer + order[i + 16]);
        }

        if (i + 8 < order.Length)
        {
            ref var ahead = ref runs[order[i + 8]];
            var timestamps = (byte*)(buffer.Timestamps.Pointer + ahead.Start);
            var values = (byte*)(buffer.Values.Pointer + ahead.Start);
            var lines = Math.Min(4, ((ahead.Count * 8) + 63) / 64);
            for (var line = 0; line < lines; line++)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(timestamps + (line * 64));
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(values + (line * 64));
            }

            table.Prefetch(ahead.Series);
        }
    }

    /// <summary>
    /// Whether the timestamps step by one positive interval: first, last and count then give them
    /// all, so a spill leaves them out (most runs are a scrape interval's points of one series).
    /// </summary>
    public static bool IsRegular(ReadOnlySpan<long> timestamps)
    {
        if (timestamps.Length < 2)
        {
            return timestamps.Length == 1;
        }

        var step = timestamps[1] - timestamps[0];
        if (step <= 0)
        {
            return false;
        }

        for (var i = 2; i < timestamps.Length; i++)
        {
            if (timestamps[i] - timestamps[i - 1] != step)
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsDiskFull(IOException e) =>
        e.HResult == 28 || (e.HResult & 0xFFFF) == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.HResult == unchecked((int)0x80070070);

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// Reads the series of a spill file in [lo, hi) one at a time into reused native buffers. A merge
/// opens one per spill file and key range, so they are pooled with their buffers: a job's merge then
/// allocates nothing for them once a process has run one.
/// </summary>
internal sealed unsafe class SpillRunSource : RunSource
{
    private static readonly Stack<SpillRunSource> Free = new();
    private readonly PooledFileReader _file = new(64 << 10);
    private readonly NativeBuffer<long> _timestamps = new(1 << 10);
    private readonly NativeBuffer<double> _values = new(1 << 10);
    private readonly NativeBuffer<RunView> _runs = new(64);
    private CompactKey? _hi;
    private string _path = string.Empty;
    private CompactKey _key;
    private bool _has;

    private SpillRunSource()
    {
    }

    /// <summary>A source over <paramref name="spill"/> positioned at its first series at or past <paramref name="lo"/>.</summary>
    public static SpillRunSource Open(SpillInfo spill, CompactKey? lo = null, CompactKey? hi = null)
    {
        SpillRunSource? source;
        lock (Free)
        {
            Free.TryPop(out source);
        }

        source ??= new SpillRunSource();
        try
        {
            source.Start(spill, lo, hi);
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private void Start(SpillInfo spill, CompactKey? lo, CompactKey? hi)
    {
        _path = spill.Path;
        _hi = hi;
        _has = false;
        _runs.Clear();
        _timestamps.Clear();
        _values.Clear();
        _file.Reset(spill.Handle, lo is { } start ? spill.OffsetFor(start) : 0);
        if (lo is { } l)
        {
            // From the indexed series before lo, step over whole series up to lo without reading their points.
            Span<byte> header = stackalloc byte[SpillFile.RunHeaderLength];
            while (TryPeekSeries(out var key, out var runCount))
            {
                if (key.CompareTo(l) >= 0)
                {
                    Load(key, runCount);
                    return;
                }

                _file.Advance(SpillFile.SeriesHeaderLength);
                for (var r = 0; r < runCount; r++)
                {
                    if (!_file.TryReadExactly(header))
                    {
                        throw Damaged();
                    }

                    var count = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
                    if (count < 0 || !_file.TrySkip(count * (header[29] != 0 ? 8L : 16L)))
                    {
                        throw Damaged();
                    }
                }
            }

            _has = false;
            return;
        }

        MoveNext();
    }

    public override bool HasCurrent => _has;

    public override CompactKey CurrentKey => _key;

    public override void AddRuns(NativeBuffer<RunView> into)
    {
        for (long i = 0; i < _runs.Count; i++)
        {
            into.Add(_runs[i]);
        }
    }

    public override void MoveNext()
    {
        if (!TryPeekSeries(out var key, out var runCount))
        {
            _has = false;
            return;
        }

        Load(key, runCount);
    }

    /// <summary>Reads the next series header without consuming it; false at the file's clean end.</summary>
    private bool TryPeekSeries(out CompactKey key, out int runCount)
    {
        var header = _file.Ensure(SpillFile.SeriesHeaderLength);
        if (header == null)
        {
            key = default;
            runCount = 0;
            return _file.Buffered == 0 ? false : throw Damaged();
        }

        var span = new ReadOnlySpan<byte>(header, SpillFile.SeriesHeaderLength);
        key = KeyOf(span);
        runCount = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        return runCount >= 0 ? true : throw Damaged();
    }

    private static CompactKey KeyOf(ReadOnlySpan<byte> header) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(header), BinaryPrimitives.ReadUInt64LittleEndian(header[4..]), BinaryPrimitives.ReadUInt64LittleEndian(header[12..]));

    private CompactionException Damaged() => new($"The spill file {_path} ends early: the local disk lost data.");

    /// <summary>
    /// Loads the runs of the series whose header <see cref="TryPeekSeries"/> just read, unless it lies at or
    /// past hi. A series that fits the read buffer is used in place: its runs point into the buffer, which
    /// holds still until the next series is loaded (the merge takes a series' runs before moving on), so
    /// only the timestamps of regular runs are written out. A larger one is copied.
    /// </summary>
    private void Load(CompactKey key, int runCount)
    {
        _key = key;
        if (_hi is { } hi && _key.CompareTo(hi) >= 0)
        {
            _has = false;
            return;
        }

        _runs.Clear();
        _timestamps.Clear();
        _values.Clear();

        // First pass: the series' length and its regular runs' points, reading run headers into the buffer as needed.
        long length = SpillFile.SeriesHeaderLength;
        long regularPoints = 0;
        var r = 0;
        for (; r < runCount && length + SpillFile.RunHeaderLength <= _file.Capacity; r++)
        {
            var at = _file.Ensure((int)length + SpillFile.RunHeaderLength);
            if (at == null)
            {
                throw Damaged();
            }

            var header = new ReadOnlySpan<byte>(at + length, SpillFile.RunHeaderLength);
            var count = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
            if (count < 0)
            {
                throw Damaged();
            }

            var regular = header[29] != 0;
            regularPoints += regular ? count : 0;
            length += SpillFile.RunHeaderLength + (count * (regular ? 8L : 16L));
        }

        if (r < runCount || length > _file.Capacity)
        {
            _file.Advance(SpillFile.SeriesHeaderLength);
            LoadCopying(runCount);
            return;
        }

        // Second pass: the runs, in place.
        var start = _file.Ensure((int)length);
        if (start == null)
        {
            throw Damaged();
        }

        var position = start + SpillFile.SeriesHeaderLength;
        _timestamps.Reserve((int)regularPoints);
        var rebuilt = _timestamps.Pointer;
        for (r = 0; r < runCount; r++)
        {
            var header = new ReadOnlySpan<byte>(position, SpillFile.RunHeaderLength);
            var count = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
            var first = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
            var last = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
            position += SpillFile.RunHeaderLength;
            long* timestamps;
            if (header[29] != 0)
            {
                timestamps = rebuilt;
                Regular(new Span<long>(rebuilt, count), first, last);
                rebuilt += count;
            }
            else
            {
                timestamps = (long*)position;
                position += count * 8L;
            }

            _runs.Add(ViewOf(header, timestamps, (double*)position));
            position += count * 8L;
        }

        _timestamps.Count = regularPoints;
        _file.Advance((int)length);
        _has = true;
    }

    /// <summary>A run as its spill header describes it, over the given points.</summary>
    private static RunView ViewOf(ReadOnlySpan<byte> header, long* timestamps, double* values) => new()
    {
        Count = BinaryPrimitives.ReadInt32LittleEndian(header[24..]),
        Intake = BinaryPrimitives.ReadInt64LittleEndian(header),
        First = BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
        Last = BinaryPrimitives.ReadInt64LittleEndian(header[16..]),
        Sorted = header[28] != 0,
        Timestamps = timestamps,
        Values = values,
    };

    /// <summary>Timestamps from first stepping evenly to last (<see cref="SpillFile.IsRegular"/>).</summary>
    private static void Regular(Span<long> timestamps, long first, long last)
    {
        var step = timestamps.Length > 1 ? (last - first) / (timestamps.Length - 1) : 0;
        for (var i = 0; i < timestamps.Length; i++)
        {
            timestamps[i] = first + (i * step);
        }
    }

    /// <summary>Reads the runs of a series larger than the read buffer (its header consumed) into the source's own buffers.</summary>
    private void LoadCopying(int runCount)
    {
        Span<byte> header = stackalloc byte[SpillFile.RunHeaderLength];
        for (var r = 0; r < runCount; r++)
        {
            if (!_file.TryReadExactly(header))
            {
                throw Damaged();
            }

            var count = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
            var first = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
            var last = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
            if (count < 0)
            {
                throw Damaged();
            }

            var ts = _timestamps.Reserve(count);
            if (header[29] != 0)
            {
                Regular(ts, first, last);
            }
            else if (!_file.TryReadExactly(MemoryMarshal.AsBytes(ts)))
            {
                throw Damaged();
            }

            var values = _values.Reserve(count);
            if (!_file.TryReadExactly(MemoryMarshal.AsBytes(values)))
            {
                throw Damaged();
            }

            // Offsets for now: the buffers may still grow.
            _runs.Add(ViewOf(header, (long*)_timestamps.Count, (double*)_values.Count));
            _timestamps.Count += count;
            _values.Count += count;
        }

        // Turn the offsets into pointers now that the buffers are final for this series.
        for (long i = 0; i < _runs.Count; i++)
        {
            ref var run = ref _runs[i];
            run.Timestamps = _timestamps.Pointer + (long)run.Timestamps;
            run.Values = _values.Pointer + (long)run.Values;
        }

        _has = true;
    }

    /// <summary>
    /// Goes back to the pool: the first 256 with their buffers (about 20 MiB), up to 2,048 more without
    /// them (about 1 KiB of native memory each; the read buffer is allocated again when reused), so that
    /// a merge over hundreds of spill files (a small budget) allocates no managed objects for its sources
    /// job after job. Past that, frees everything.
    /// </summary>
    public override void Dispose()
    {
        _file.Release();
        lock (Free)
        {
            if (Free.Count < 256)
            {
                Free.Push(this);
                return;
            }

            if (Free.Count < 256 + 2048)
            {
                _file.ReleaseMemory();
                _runs.Clear();
                _runs.Trim();
                _timestamps.Clear();
                _timestamps.Trim();
                _values.Clear();
                _values.Trim();
                Free.Push(this);
                return;
            }
        }

        _file.Dispose();
        _timestamps.Dispose();
        _values.Dispose();
        _runs.Dispose();
        base.Dispose();
    }
}
