using System.Runtime.CompilerServices;
using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Reading;

/// <summary>The identity of one series: org, metric, context. Ordered the way S-files are sorted.</summary>
internal readonly record struct CompactKey(uint Org, ulong Metric, ulong Context) : IComparable<CompactKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareTo(CompactKey other)
    {
        if (Org != other.Org)
        {
            return Org < other.Org ? -1 : 1;
        }

        if (Metric != other.Metric)
        {
            return Metric < other.Metric ? -1 : 1;
        }

        return Context == other.Context ? 0 : Context < other.Context ? -1 : 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Hash()
    {
        var h = (Context * 0x9E3779B97F4A7C15UL) ^ (Metric * 0xC2B2AE3D27D4EB4FUL) ^ ((ulong)Org * 0x165667B19E3779F9UL);
        return h ^ (h >> 29);
    }
}

/// <summary>What one thread knows of one series: its key and the metadata that wins so far.</summary>
internal struct SeriesInfo
{
    public CompactKey Key;
    public long MetadataIntake;
    public long MetadataOffset;
    public int MetadataLength;

    /// <summary>The id of the series that followed this one in the last payload that had both; -1 for none yet.</summary>
    public int Next;
    public long Points;
    public ulong MetadataHash;
}

/// <summary>
/// Gives each series key met by one reading thread a dense id through one open-addressing table, and
/// keeps the series' winning metadata (latest intake time, ties to the ordinally larger bytes).
/// </summary>
/// <remarks>Native memory only; one per reading thread, so no locks.</remarks>
internal sealed unsafe class SeriesTable : IDisposable
{
    private NativeBuffer<int> _slots; // id + 1, 0 = empty
    private readonly NativeBuffer<SeriesInfo> _series = new(1024);
    private readonly NativeBuffer<byte> _metadata = new(64 * 1024);
    private int _mask;

    public SeriesTable()
    {
        _slots = new NativeBuffer<int>(1 << 12);
        new Span<int>(_slots.Pointer, 1 << 12).Clear();
        _mask = (1 << 12) - 1;
    }

    public int Count => (int)_series.Count;

    /// <summary>Asks the processor to bring series <paramref name="id"/>'s entry into the cache (where it can).</summary>
    public void Prefetch(int id)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(_series.Pointer + id);
        }
    }

    public long Bytes => _slots.Bytes + _series.Bytes + _metadata.Bytes;

    public ref SeriesInfo this[int id] => ref _series[id];

    public ReadOnlySpan<byte> Metadata(int id)
    {
        ref var info = ref _series[id];
        return new ReadOnlySpan<byte>(_metadata.Pointer + info.MetadataOffset, info.MetadataLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAdd(in CompactKey key)
    {
        var slot = (int)key.Hash() & _mask;
        var slots = _slots.Pointer;
        while (true)
        {
            var entry = slots[slot];
            if (entry == 0)
            {
                return Add(key, slot);
            }

            if (_series[entry - 1].Key == key)
            {
                return entry - 1;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>
    /// <see cref="GetOrAdd"/> for the entry that follows series <paramref name="previous"/> in a payload
    /// (-1 for a payload's first). Agents send an org's series in the same order batch after batch, so
    /// the series that followed last time is tried first, and the one after it is asked into the cache
    /// while this entry's points are decoded: the hash slot and the entry, two cache misses each time in
    /// a table of tens of thousands of series, are then mostly skipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAddAfter(in CompactKey key, int previous)
    {
        int id;
        if (previous >= 0)
        {
            var predicted = _series[previous].Next;
            if (predicted >= 0 && _series[predicted].Key == key)
            {
                id = predicted;
            }
            else
            {
                id = GetOrAdd(key);
                _series[previous].Next = id;
            }
        }
        else
        {
            id = GetOrAdd(key);
        }

        var next = _series[id].Next;
        if (next >= 0)
        {
            Prefetch(next);
        }

        return id;
    }

    /// <summary>Looks a key up without adding it.</summary>
    public int Find(in CompactKey key)
    {
        var slot = (int)key.Hash() & _mask;
        var slots = _slots.Pointer;
        while (true)
        {
            var entry = slots[slot];
            if (entry == 0)
            {
                return -1;
            }

            if (_series[entry - 1].Key == key)
            {
                return entry - 1;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>Offers the metadata of one entry with its intake time; keeps it when it wins.</summary>
    /// <remarks>
    /// The same tags arrive with nearly every entry; a 64-bit hash kept beside the key recognises them
    /// without touching the metadata arena (a cache miss per entry otherwise). Bytes are compared only
    /// when the hashes differ, where the rule needs their order.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OfferMetadata(int id, long intake, ReadOnlySpan<byte> metadata)
    {
        ref var info = ref _series[id];
        if (info.MetadataLength >= 0 && intake < info.MetadataIntake)
        {
            return;
        }

        var hash = System.IO.Hashing.XxHash3.HashToUInt64(metadata);
        if (info.MetadataLength == metadata.Length && info.MetadataHash == hash)
        {
            info.MetadataIntake = intake; // the common case: the same tags again
            return;
        }

        if (info.MetadataLength >= 0 && intake == info.MetadataIntake
            && metadata.SequenceCompareTo(new ReadOnlySpan<byte>(_metadata.Pointer + info.MetadataOffset, info.MetadataLength)) < 0)
        {
            return;
        }

        var span = _metadata.Reserve(metadata.Length);
        metadata.CopyTo(span);
        ref var again = ref _series[id];
        again.MetadataOffset = _metadata.Count;
        again.MetadataLength = metadata.Length;
        again.MetadataIntake = intake;
        again.MetadataHash = hash;
        _metadata.Count += metadata.Length;
    }

    public void Dispose()
    {
        _slots.Dispose();
        _series.Dispose();
        _metadata.Dispose();
    }

    private int Add(in CompactKey key, int slot)
    {
        var id = (int)_series.Count;
        _series.Add(new SeriesInfo { Key = key, MetadataLength = -1, MetadataIntake = long.MinValue, Next = -1 });
        _slots.Pointer[slot] = id + 1;
        if (_series.Count * 2 > _mask)
        {
            Rehash();
        }

        return id;
    }

    private void Rehash()
    {
        var size = (_mask + 1) * 2;
        _slots.Dispose();
        _slots = new NativeBuffer<int>(size);
        var slots = _slots.Pointer;
        new Span<int>(slots, size).Clear();
        _mask = size - 1;
        for (var id = 0; id < _series.Count; id++)
        {
            var slot = (int)_series[id].Key.Hash() & _mask;
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & _mask;
            }

            slots[slot] = id + 1;
        }
    }
}
