using System.Buffers;

namespace Tailor.Storage;

/// <summary>
/// The bytes of one part, held in pooled chunks that start small and double up to a maximum, so an
/// upload that has received little data holds little memory.
/// </summary>
/// <remarks>Owns its chunks until <see cref="Dispose"/>, which returns them to the pool. Not thread-safe.</remarks>
internal sealed class PartBuffer : IDisposable
{
    private const int FirstChunkSize = 16 * 1024;

    private readonly ArrayPool<byte> _pool;
    private readonly int _maxChunkSize;
    private readonly List<byte[]> _chunks = [];
    private int _lastChunkUsed;
    private bool _disposed;

    public PartBuffer(ArrayPool<byte> pool, int maxChunkSize)
    {
        _pool = pool;
        _maxChunkSize = maxChunkSize;
    }

    /// <summary>Bytes held.</summary>
    public long Length { get; private set; }

    /// <summary>Copies as much of <paramref name="data"/> as fits under <paramref name="limit"/> total bytes; returns how many bytes were copied.</summary>
    public int Append(ReadOnlySpan<byte> data, long limit)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var copied = 0;
        while (copied < data.Length && Length < limit)
        {
            if (_chunks.Count == 0 || _lastChunkUsed == _chunks[^1].Length)
            {
                var size = _chunks.Count == 0 ? FirstChunkSize : Math.Min(_chunks[^1].Length * 2, _maxChunkSize);
                _chunks.Add(_pool.Rent(Math.Max(size, FirstChunkSize)));
                _lastChunkUsed = 0;
            }

            var chunk = _chunks[^1];
            var n = (int)Math.Min(Math.Min(chunk.Length - _lastChunkUsed, data.Length - copied), limit - Length);
            data.Slice(copied, n).CopyTo(chunk.AsSpan(_lastChunkUsed));
            _lastChunkUsed += n;
            copied += n;
            Length += n;
        }

        return copied;
    }

    /// <summary>A view of the bytes held; valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySequence<byte> AsSequence()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_chunks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (_chunks.Count == 1)
        {
            return new ReadOnlySequence<byte>(_chunks[0], 0, _lastChunkUsed);
        }

        var first = new ChunkSegment(_chunks[0], 0);
        var last = first;
        for (var i = 1; i < _chunks.Count; i++)
        {
            var length = i == _chunks.Count - 1 ? _lastChunkUsed : _chunks[i].Length;
            last = last.Append(new ReadOnlyMemory<byte>(_chunks[i], 0, length));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var chunk in _chunks)
        {
            _pool.Return(chunk);
        }

        _chunks.Clear();
        Length = 0;
    }

    private sealed class ChunkSegment : ReadOnlySequenceSegment<byte>
    {
        public ChunkSegment(byte[] chunk, long runningIndex)
        {
            Memory = chunk;
            RunningIndex = runningIndex;
        }

        private ChunkSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public ChunkSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new ChunkSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
