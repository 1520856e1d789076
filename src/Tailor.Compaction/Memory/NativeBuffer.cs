using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    public NativeBuffer(long capacity = 1024)
    {
        Capacity = Math.Max(16, capacity);
        _items = (T*)NativeMemory.Alloc((nuint)Capacity, (nuint)sizeof(T));
        MemoryTracker.Add(Capacity * sizeof(T));
    }

    public long Count { get; set; }

    public long Capacity { get; private set; }

    public long Bytes => Capacity * sizeof(T);

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

    /// <summary>Shrinks the memory back to <paramref name="capacity"/> items (after a spill).</summary>
    public void Trim(long capacity)
    {
        capacity = Math.Max(16, Math.Max(capacity, Count));
        if (capacity < Capacity)
        {
            Resize(capacity);
        }
    }

    public void Dispose()
    {
        if (_items != null)
        {
            NativeMemory.Free(_items);
            MemoryTracker.Add(-Capacity * sizeof(T));
            _items = null;
            Capacity = 0;
        }
    }

    private void Grow(long needed)
    {
        var capacity = Math.Max(needed, Capacity + (Capacity / 2));
        Resize(capacity);
    }

    private void Resize(long capacity)
    {
        _items = (T*)NativeMemory.Realloc(_items, (nuint)(capacity * sizeof(T)));
        MemoryTracker.Add((capacity - Capacity) * sizeof(T));
        Capacity = capacity;
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
