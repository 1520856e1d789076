using System.Runtime.CompilerServices;

namespace Tailor.Compaction.Memory;

/// <summary>
/// A growable array of unmanaged values in native memory: the columnar point buffers live outside the
/// GC heap, so millions of points cost no GC work and no managed allocation.
/// </summary>
/// <remarks>Not thread-safe. Dispose frees the memory; spans handed out are invalid after growth or dispose.</remarks>
internal sealed unsafe class NativeBuffer<T> : IDisposable
    where T : unmanaged
{
    private T* _items;
    private long _blockBytes;

    public NativeBuffer(long capacity = 1024)
    {
        _items = (T*)NativePool.Shared.Rent(Math.Max(16, capacity) * sizeof(T), out var bytes);
        _blockBytes = bytes;
        Capacity = bytes / sizeof(T);
        MemoryTracker.Add(_blockBytes);
    }

    public long Count { get; set; }

    public long Capacity { get; private set; }

    public long Bytes => _blockBytes;

    public ref T this[long index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _items[index];
    }

    public T* Pointer => _items;

    /// <summary>Makes room for <paramref name="additional"/> more items and returns the span to write them into.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Reserve(int additional)
    {
        if (Count + additional > Capacity)
        {
            Grow(Count + additional);
        }

        return new Span<T>(_items + Count, additional);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(in T item)
    {
        if (Count == Capacity)
        {
            Grow(Count + 1);
        }

        _items[Count++] = item;
    }

    public Span<T> AsSpan(long start, int length) => new(_items + start, length);

    /// <summary>Makes room for <paramref name="capacity"/> items at once (a block not yet written costs no memory, and a buffer that grows step by step asks for each size it passes through).</summary>
    public void EnsureCapacity(long capacity)
    {
        if (capacity > Capacity)
        {
            Resize(capacity);
        }
    }

    public void Clear() => Count = 0;

    /// <summary>Gives back the memory past <see cref="Count"/> (once a buffer is done growing).</summary>
    public void Trim()
    {
        var capacity = Math.Max(16, Count);
        if (capacity < Capacity)
        {
            Resize(capacity);
        }
    }

    public void Dispose()
    {
        if (_items != null)
        {
            MemoryTracker.Add(-_blockBytes);
            NativePool.Shared.Return(_items, _blockBytes);
            _items = null;
            _blockBytes = 0;
            Capacity = 0;
        }
    }

    private void Grow(long needed)
    {
        // Half again, in the pool's block sizes: past the first steps a pooled buffer doubles, so a
        // growing buffer passes through few sizes and the next job finds each of them in the pool
        // (growing a step at a time, a third or a half, needed ten times the fresh memory).
        var capacity = Math.Max(needed, Capacity + (Capacity / 2));
        Resize(capacity);
    }

    private void Resize(long capacity)
    {
        var bytes = NativePool.BlockBytes(capacity * sizeof(T));
        if (bytes == _blockBytes)
        {
            return;
        }

        // The items move to a block of the new size (pooled blocks cannot grow in place); the old
        // block goes back to the pool for the next buffer that needs its size.
        var items = (T*)NativePool.Shared.Rent(capacity * sizeof(T), out bytes);
        MemoryTracker.Add(bytes);
        var keep = Math.Min(Count, bytes / sizeof(T));
        Buffer.MemoryCopy(_items, items, bytes, keep * sizeof(T));
        MemoryTracker.Add(-_blockBytes);
        NativePool.Shared.Return(_items, _blockBytes);
        _items = items;
        _blockBytes = bytes;
        Capacity = bytes / sizeof(T);
    }
}

/// <summary>Native memory held by compaction buffers, for the memory budget and the run report.</summary>
internal static class MemoryTracker
{
    private static long _current;
    private static long _peak;

    public static long Current => Interlocked.Read(ref _current);

    public static long Peak => Interlocked.Read(ref _peak);

    public static void Add(long bytes)
    {
        var now = Interlocked.Add(ref _current, bytes);
        long peak;
        while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }
    }

    public static void ResetPeak() => Interlocked.Exchange(ref _peak, Interlocked.Read(ref _current));
}
