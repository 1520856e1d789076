using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Spill;

/// <summary>
/// A sorted run file on local disk: series in key order, each with its runs (intake, order flag,
/// range, raw timestamps and values). Written when a reading thread passes its share of the memory
/// budget; read back by the merge.
/// </summary>
/// <remarks>
/// Layout, little-endian: per series a 24-byte header (org u32, metric u64, context u64, run count
/// u32), then per run a 32-byte header (intake i64, first i64, last i64, count i32, sorted u8, 3 zero
/// bytes) followed by count × i64 timestamps and count × f64 values. Local and transient: never
/// shipped, so no version or checksum.
/// </remarks>
internal static unsafe class SpillFile
{
    public const int SeriesHeaderLength = 24;
    public const int RunHeaderLength = 32;

    /// <summary>Sorts the reader's runs and writes them to <paramref name="path"/>; the reader's runs and points are then cleared.</summary>
    /// <returns>The bytes written.</returns>
    public static long Write(SeriesReader reader, string path)
    {
        var byRank = MemoryRunSource.SortRuns(reader);
        var buffer = reader.Buffer;
        var table = reader.Table;
        long written = 0;
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.None);
            Span<byte> header = stackalloc byte[Math.Max(SeriesHeaderLength, RunHeaderLength)];
            long i = 0;
            var runs = buffer.Runs;
            while (i < runs.Count)
            {
                var rank = runs[i].Series;
                var end = i + 1;
                while (end < runs.Count && runs[end].Series == rank)
                {
                    end++;
                }

                var key = table[byRank[rank]].Key;
                BinaryPrimitives.WriteUInt32LittleEndian(header, key.Org);
                BinaryPrimitives.WriteUInt64LittleEndian(header[4..], key.Metric);
                BinaryPrimitives.WriteUInt64LittleEndian(header[12..], key.Context);
                BinaryPrimitives.WriteInt32LittleEndian(header[20..], (int)(end - i));
                file.Write(header[..SeriesHeaderLength]);
                written += SeriesHeaderLength;
                for (; i < end; i++)
                {
                    ref var run = ref runs[i];
                    BinaryPrimitives.WriteInt64LittleEndian(header, run.Intake);
                    BinaryPrimitives.WriteInt64LittleEndian(header[8..], run.FirstTimestamp);
                    BinaryPrimitives.WriteInt64LittleEndian(header[16..], run.LastTimestamp);
                    BinaryPrimitives.WriteInt32LittleEndian(header[24..], run.Count);
                    header[28] = run.Sorted ? (byte)1 : (byte)0;
                    header[29] = header[30] = header[31] = 0;
                    file.Write(header[..RunHeaderLength]);
                    file.Write(new ReadOnlySpan<byte>(buffer.Timestamps.Pointer + run.Start, run.Count * 8));
                    file.Write(new ReadOnlySpan<byte>(buffer.Values.Pointer + run.Start, run.Count * 8));
                    written += RunHeaderLength + (16L * run.Count);
                }
            }

            file.Flush(flushToDisk: false);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            TryDelete(path);
            throw new CompactionException(
                $"The local disk is full while spilling {written:N0}+ bytes to {Path.GetDirectoryName(path)}: free space there, point the spill " +
                "directory elsewhere (CompactionOptions.WorkDirectory, --work-dir), or raise the memory budget. Nothing was published.", e);
        }

        buffer.Clear();
        return written;
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

/// <summary>Reads a spill file back one series at a time into reused native buffers.</summary>
internal sealed unsafe class SpillRunSource : RunSource
{
    private readonly FileStream _file;
    private readonly NativeBuffer<long> _timestamps = new(1 << 14);
    private readonly NativeBuffer<double> _values = new(1 << 14);
    private readonly NativeBuffer<RunView> _runs = new(64);
    private readonly byte[] _header = new byte[SpillFile.RunHeaderLength];
    private CompactKey _key;
    private bool _has;

    public SpillRunSource(string path)
    {
        Path = path;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.DeleteOnClose);
        MoveNext();
    }

    public string Path { get; }

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
        var read = _file.ReadAtLeast(_header.AsSpan(0, SpillFile.SeriesHeaderLength), SpillFile.SeriesHeaderLength, throwOnEndOfStream: false);
        if (read == 0)
        {
            _has = false;
            return;
        }

        if (read < SpillFile.SeriesHeaderLength)
        {
            throw new CompactionException($"The spill file {Path} ends early: the local disk lost data.");
        }

        _key = new CompactKey(BinaryPrimitives.ReadUInt32LittleEndian(_header), BinaryPrimitives.ReadUInt64LittleEndian(_header.AsSpan(4)),
            BinaryPrimitives.ReadUInt64LittleEndian(_header.AsSpan(12)));
        var runCount = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(20));
        _runs.Clear();
        _timestamps.Clear();
        _values.Clear();
        for (var r = 0; r < runCount; r++)
        {
            _file.ReadExactly(_header);
            var count = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(24));
            var ts = _timestamps.Reserve(count);
            _file.ReadExactly(MemoryMarshal.AsBytes(ts));
            var values = _values.Reserve(count);
            _file.ReadExactly(MemoryMarshal.AsBytes(values));
            _runs.Add(new RunView
            {
                Count = count,
                Intake = BinaryPrimitives.ReadInt64LittleEndian(_header),
                First = BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(8)),
                Last = BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(16)),
                Sorted = _header[28] != 0,
                Timestamps = (long*)_timestamps.Count, // offsets for now: the buffers may still grow
                Values = (double*)_values.Count,
            });
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

    public override void Dispose()
    {
        _file.Dispose();
        _timestamps.Dispose();
        _values.Dispose();
        _runs.Dispose();
        base.Dispose();
    }
}
