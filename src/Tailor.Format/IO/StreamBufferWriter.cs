using System.Buffers;

namespace Tailor.Format.IO;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that collects writes in one pooled buffer and copies them to a
/// <see cref="Stream"/> when it fills, so writers such as <c>SegmentWriter</c> can produce files of
/// any size with bounded memory.
/// </summary>
/// <remarks>
/// Call <see cref="Flush"/> (or dispose) to write what is buffered. The buffer is rented from
/// <see cref="ArrayPool{T}.Shared"/> and returned by <see cref="Dispose"/>; the stream is not disposed.
/// </remarks>
public sealed class StreamBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly Stream _stream;
    private readonly ArrayPool<byte> _pool;
    private byte[] _buffer;
    private int _written;

    /// <summary>Creates a writer over <paramref name="stream"/>.</summary>
    /// <param name="stream">Where the bytes go.</param>
    /// <param name="bufferSize">The buffer size; larger requests grow it. Default 1 MiB.</param>
    /// <param name="pool">Where the buffer is rented from. Default <see cref="ArrayPool{T}.Shared"/>.</param>
    public StreamBufferWriter(Stream stream, int bufferSize = 1024 * 1024, ArrayPool<byte>? pool = null)
    {
        _stream = stream;
        _pool = pool ?? ArrayPool<byte>.Shared;
        _buffer = _pool.Rent(bufferSize);
    }

    /// <summary>Bytes written to the stream or buffered so far.</summary>
    public long BytesWritten { get; private set; }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
        BytesWritten += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Writes the buffered bytes to the stream.</summary>
    public void Flush()
    {
        if (_written > 0)
        {
            _stream.Write(_buffer, 0, _written);
            _written = 0;
        }
    }

    /// <summary>Writes the buffered bytes and returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            Flush();
            _pool.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        sizeHint = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }

        Flush();
        if (_buffer.Length < sizeHint)
        {
            _pool.Return(_buffer);
            _buffer = _pool.Rent(sizeHint);
        }
    }
}
