using Microsoft.Win32.SafeHandles;

namespace Tailor.Format.Segments;

/// <summary>
/// Reads a segment file of any size from local disk through positioned reads into one reused
/// window buffer: memory stays at the window size (plus the largest record), and no file pages stay
/// mapped into the process, unlike <see cref="MappedSegmentFile"/>.
/// </summary>
/// <remarks>Records returned point into the window buffer: valid until the next call. Dispose closes the file.</remarks>
public sealed class FileSegmentCursor : SegmentRecordCursor, IDisposable
{
    /// <summary>The default window: 4 MiB.</summary>
    public const int DefaultWindowBytes = 4 << 20;

    private readonly SafeFileHandle _file;
    private readonly System.Buffers.ArrayPool<byte> _pool;
    private byte[] _buffer;
    private long _bufferOffset = -1;
    private int _bufferLength;

    private FileSegmentCursor(SafeFileHandle file, long length, SegmentReaderState state, int windowBytes, System.Buffers.ArrayPool<byte> pool)
        : base(length, state, windowBytes)
    {
        _file = file;
        _pool = pool;
        _buffer = pool.Rent(Math.Max(1, Math.Min(windowBytes, (int)Math.Min(length, int.MaxValue))));
    }

    /// <summary>Reads the file's layout (two positioned reads: head and tail).</summary>
    public static SegmentLayout ReadLayout(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadLayout(file, RandomAccess.GetLength(file));
    }

    /// <summary>Opens a cursor over the records that begin in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <param name="path">The segment file.</param>
    /// <param name="layout">Its layout, from <see cref="ReadLayout(string)"/>.</param>
    /// <param name="start">The split's first byte.</param>
    /// <param name="end">The split's end (exclusive).</param>
    /// <param name="options">Reader options; default lenient.</param>
    /// <param name="windowBytes">The read window. Default 4 MiB.</param>
    /// <param name="pool">Where the window buffer is rented from. Default <see cref="System.Buffers.ArrayPool{T}.Shared"/>.</param>
    public static FileSegmentCursor Open(string path, SegmentLayout layout, long start = 0, long end = long.MaxValue,
        SegmentReaderOptions? options = null, int windowBytes = DefaultWindowBytes, System.Buffers.ArrayPool<byte>? pool = null)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        try
        {
            return new FileSegmentCursor(file, RandomAccess.GetLength(file), layout.CreateSplitState(start, end, options), windowBytes,
                pool ?? System.Buffers.ArrayPool<byte>.Shared);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Closes the file and returns the window buffer to the pool.</summary>
    public void Dispose()
    {
        _file.Dispose();
        if (_buffer.Length > 0)
        {
            _pool.Return(_buffer);
            _buffer = [];
        }
    }

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> GetSpan(long offset, int length)
    {
        if (offset >= _bufferOffset && offset + length <= _bufferOffset + _bufferLength && _bufferOffset >= 0)
        {
            return _buffer.AsSpan((int)(offset - _bufferOffset), length);
        }

        if (_buffer.Length < length)
        {
            _pool.Return(_buffer);
            _buffer = _pool.Rent(length);
        }

        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(_file, _buffer.AsSpan(read, length - read), offset + read);
            if (n == 0)
            {
                throw new IOException($"The segment file shrank while it was read (expected {length} bytes at offset {offset}).");
            }

            read += n;
        }

        _bufferOffset = offset;
        _bufferLength = length;
        return _buffer.AsSpan(0, length);
    }

    private static SegmentLayout ReadLayout(SafeFileHandle file, long length)
    {
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var headLength = (int)Math.Min(length, SegmentFormat.HeaderLength);
        Span<byte> head = stackalloc byte[SegmentFormat.HeaderLength];
        RandomAccess.Read(file, head[..headLength], 0);
        var tailLength = (int)Math.Min(length, SegmentLayout.DefaultTailBytes);
        var tail = pool.Rent(tailLength);
        try
        {
            RandomAccess.Read(file, tail.AsSpan(0, tailLength), length - tailLength);
            var layout = SegmentLayout.Parse(head[..headLength], tail.AsSpan(0, tailLength), length, out var needed);
            if (needed > tailLength)
            {
                pool.Return(tail);
                tail = pool.Rent(needed);
                RandomAccess.Read(file, tail.AsSpan(0, needed), length - needed);
                layout = SegmentLayout.Parse(head[..headLength], tail.AsSpan(0, needed), length, out _);
            }

            return layout;
        }
        finally
        {
            pool.Return(tail);
        }
    }
}
