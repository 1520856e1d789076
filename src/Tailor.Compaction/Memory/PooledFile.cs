using Microsoft.Win32.SafeHandles;

namespace Tailor.Compaction.Memory;

/// <summary>
/// Sequential positioned reads of a file handle it does not own, through one buffer in native memory:
/// a merge reads each spill file from several key ranges at once, so nothing of it may land on the GC
/// heap, and the reader is reused for the next file (<see cref="Reset"/>).
/// </summary>
internal sealed unsafe class PooledFileReader : IDisposable
{
    private readonly int _capacity;
    private SafeFileHandle? _handle;
    private byte* _memory;
    private long _filePosition;
    private int _start;
    private int _end;

    public PooledFileReader(int bufferBytes = 1 << 20)
    {
        _capacity = bufferBytes;
        _memory = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)bufferBytes);
    }

    private SafeFileHandle Handle => _handle ?? throw new ObjectDisposedException(nameof(PooledFileReader), "The reader is not positioned on a file.");

    /// <summary>Starts reading <paramref name="handle"/> at <paramref name="offset"/>.</summary>
    public void Reset(SafeFileHandle handle, long offset)
    {
        if (_memory == null)
        {
            _memory = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)_capacity);
        }

        _handle = handle;
        _filePosition = offset;
        _start = _end = 0;
    }

    /// <summary>Lets go of the file (the owner closes it).</summary>
    public void Release() => _handle = null;

    /// <summary>Frees the buffer until the next <see cref="Reset"/> (a reader kept idle in a pool).</summary>
    public void ReleaseMemory()
    {
        _handle = null;
        _start = _end = 0;
        if (_memory != null)
        {
            System.Runtime.InteropServices.NativeMemory.Free(_memory);
            _memory = null;
        }
    }

    private Span<byte> Window => new(_memory, _capacity);

    /// <summary>Fills <paramref name="destination"/> completely.</summary>
    /// <returns>False when the file ended before the first byte (a clean end); throws when it ends inside.</returns>
    public bool TryReadExactly(Span<byte> destination)
    {
        var copied = 0;
        while (copied < destination.Length)
        {
            if (_start == _end)
            {
                if (destination.Length - copied >= _capacity)
                {
                    // Large reads go straight to the destination.
                    var direct = RandomAccess.Read(Handle, destination[copied..], _filePosition);
                    if (direct == 0)
                    {
                        return copied == 0 ? false : throw new EndOfStreamException();
                    }

                    _filePosition += direct;
                    copied += direct;
                    continue;
                }

                var n = RandomAccess.Read(Handle, Window, _filePosition);
                if (n == 0)
                {
                    return copied == 0 ? false : throw new EndOfStreamException();
                }

                _filePosition += n;
                _start = 0;
                _end = n;
            }

            var take = Math.Min(_end - _start, destination.Length - copied);
            Window.Slice(_start, take).CopyTo(destination[copied..]);
            _start += take;
            copied += take;
        }

        return true;
    }

    /// <summary>The buffer's size: the most <see cref="Ensure"/> can hold.</summary>
    public int Capacity => _capacity;

    /// <summary>Bytes read from the file and not yet consumed.</summary>
    public int Buffered => _end - _start;

    /// <summary>
    /// Makes the next <paramref name="length"/> bytes (at most <see cref="Capacity"/>) lie in the buffer
    /// without consuming them, and returns where they start; null when the file ends first. Moves the
    /// unconsumed bytes to the buffer's start when it must read more, so a pointer returned earlier is
    /// only good until the next call. The buffer's start keeps the file offset's alignment to 8 when
    /// reads start at multiples of 8.
    /// </summary>
    public byte* Ensure(int length)
    {
        if (length > _end - _start)
        {
            if ((uint)length > (uint)_capacity)
            {
                throw new ArgumentOutOfRangeException(nameof(length), length, $"At most the buffer's {_capacity} bytes.");
            }

            if (length > _capacity - _start)
            {
                var kept = _end - _start;
                Buffer.MemoryCopy(_memory + _start, _memory, _capacity, kept);
                _start = 0;
                _end = kept;
            }

            while (_end - _start < length)
            {
                var n = RandomAccess.Read(Handle, new Span<byte>(_memory + _end, _capacity - _end), _filePosition);
                if (n == 0)
                {
                    return null;
                }

                _filePosition += n;
                _end += n;
            }
        }

        return _memory + _start;
    }

    /// <summary>Consumes <paramref name="count"/> bytes that <see cref="Ensure"/> made available.</summary>
    public void Advance(int count)
    {
        if ((uint)count > (uint)(_end - _start))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "More than the buffered bytes.");
        }

        _start += count;
    }

    /// <summary>Steps over <paramref name="count"/> bytes without copying them.</summary>
    /// <returns>False when the file ends first.</returns>
    public bool TrySkip(long count)
    {
        var buffered = _end - _start;
        if (count <= buffered)
        {
            _start += (int)count;
            return true;
        }

        _filePosition += count - buffered;
        _start = _end = 0;
        return _filePosition <= RandomAccess.GetLength(Handle);
    }

    public void Dispose() => ReleaseMemory();
}

/// <summary>Sequential writes to a new local file through one pooled buffer.</summary>
internal sealed class PooledFileWriter : IDisposable
{
    private readonly SafeFileHandle _file;
    private byte[] _buffer;
    private int _used;

    public PooledFileWriter(string path, int bufferBytes = 1 << 20)
    {
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        _buffer = CompactionBuffers.Pool.Rent(bufferBytes);
    }

    /// <summary>Bytes written (buffered included).</summary>
    public long Position { get; private set; }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length > _buffer.Length - _used)
        {
            Flush();
            if (data.Length >= _buffer.Length)
            {
                RandomAccess.Write(_file, data, Position);
                Position += data.Length;
                return;
            }
        }

        data.CopyTo(_buffer.AsSpan(_used));
        _used += data.Length;
        Position += data.Length;
    }

    /// <summary>
    /// Room for <paramref name="length"/> bytes (at most the buffer's size) written in place, then
    /// counted by <see cref="Advance"/>: a small header costs no copy.
    /// </summary>
    public Span<byte> GetSpan(int length)
    {
        if (length > _buffer.Length - _used)
        {
            Flush();
        }

        return _buffer.AsSpan(_used, length);
    }

    /// <summary>Counts <paramref name="length"/> bytes written into the span from <see cref="GetSpan"/>.</summary>
    public void Advance(int length)
    {
        _used += length;
        Position += length;
    }

    public void Flush()
    {
        if (_used > 0)
        {
            RandomAccess.Write(_file, _buffer.AsSpan(0, _used), Position - _used);
            _used = 0;
        }
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _file.Dispose();
            if (_buffer.Length > 0)
            {
                CompactionBuffers.Pool.Return(_buffer);
                _buffer = [];
            }
        }
    }
}
