using System.Buffers;

namespace Tailor.Format.Series;

/// <summary>A growable byte buffer rented from a pool; returned by <see cref="Return"/>.</summary>
internal struct PooledBuffer
{
    public byte[] Array;
    public int Length;

    public PooledBuffer()
    {
        Array = [];
        Length = 0;
    }

    public readonly Span<byte> Written => Array.AsSpan(0, Length);

    /// <summary>Makes room for <paramref name="capacity"/> bytes in total, keeping what is written.</summary>
    public void EnsureCapacity(ArrayPool<byte> pool, int capacity)
    {
        if (Array.Length < capacity)
        {
            Grow(pool, capacity);
        }
    }

    public void Append(ArrayPool<byte> pool, ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(pool, Length + bytes.Length);
        bytes.CopyTo(Array.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Returns <paramref name="count"/> bytes after what is written, and counts them as written.</summary>
    public Span<byte> Extend(ArrayPool<byte> pool, int count)
    {
        EnsureCapacity(pool, Length + count);
        var span = Array.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void Return(ArrayPool<byte> pool)
    {
        if (Array.Length > 0)
        {
            pool.Return(Array);
        }

        Array = [];
        Length = 0;
    }

    private void Grow(ArrayPool<byte> pool, int capacity)
    {
        var next = pool.Rent(Math.Max(capacity, Math.Max(256, Array.Length * 2)));
        Array.AsSpan(0, Length).CopyTo(next);
        if (Array.Length > 0)
        {
            pool.Return(Array);
        }

        Array = next;
    }
}

/// <summary>
/// Bytes appended in fixed-size chunks rented from a pool, so a large and growing buffer (an S-file's
/// index) never needs one huge array nor a copy on growth. Returned by <see cref="Return"/>.
/// </summary>
internal sealed class PooledChunks(ArrayPool<byte> pool)
{
    private const int ChunkBytes = 64 * 1024;
    private readonly List<byte[]> _chunks = new(16);
    private int _lastLength = ChunkBytes;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_lastLength == ChunkBytes)
            {
                _chunks.Add(pool.Rent(ChunkBytes));
                _lastLength = 0;
            }

            var n = Math.Min(bytes.Length, ChunkBytes - _lastLength);
            bytes[..n].CopyTo(_chunks[^1].AsSpan(_lastLength));
            _lastLength += n;
            Length += n;
            bytes = bytes[n..];
        }
    }

    public void CopyTo(IBufferWriter<byte> output)
    {
        for (var i = 0; i < _chunks.Count; i++)
        {
            var n = i == _chunks.Count - 1 ? _lastLength : ChunkBytes;
            _chunks[i].AsSpan(0, n).CopyTo(output.GetSpan(n));
            output.Advance(n);
        }
    }

    public void Return()
    {
        foreach (var chunk in _chunks)
        {
            pool.Return(chunk);
        }

        _chunks.Clear();
        _lastLength = ChunkBytes;
        Length = 0;
    }
}
