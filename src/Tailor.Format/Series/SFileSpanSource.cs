using System.IO.MemoryMappedFiles;

namespace Tailor.Format.Series;

/// <summary>
/// A file of any size whose byte ranges can be had as spans (each at most 2 GiB): what
/// <see cref="SFileScanner"/> reads files over 2 GiB through.
/// </summary>
public abstract class SFileSpanSource
{
    /// <summary>The file's length.</summary>
    public abstract long Length { get; }

    /// <summary>Returns the bytes at [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>).</summary>
    /// <param name="offset">The first byte; 0 .. <see cref="Length"/>.</param>
    /// <param name="length">How many bytes; the range lies inside the file.</param>
    /// <returns>A span valid as long as the source is.</returns>
    public abstract ReadOnlySpan<byte> GetSpan(long offset, int length);
}

/// <summary>
/// An S-file memory-mapped read-only, of any size: the whole file is one view, and each page or block is
/// handed out as a span of its own, so files over 2 GiB need no copying.
/// </summary>
/// <remarks>Dispose unmaps the file; spans handed out are invalid afterwards.</remarks>
public sealed unsafe class MappedSFile : SFileSpanSource, IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _length;
    private byte* _pointer;

    /// <summary>Maps the file at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public MappedSFile(string path)
    {
        Path = path;
        _length = new FileInfo(path).Length;
        if (_length > 0)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
            _pointer += _view.PointerOffset;
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public override long Length => _length;

    /// <inheritdoc />
    public override ReadOnlySpan<byte> GetSpan(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer == null && _length > 0, this);
        if ((ulong)offset > (ulong)_length || (uint)length > (ulong)(_length - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) lies outside the {_length}-byte file.");
        }

        return length == 0 ? default : new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_view is not null && _pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }

        _view?.Dispose();
        _map?.Dispose();
    }
}

/// <summary>An <see cref="SFileSpanSource"/> over a file held in a <see cref="ReadOnlyMemory{T}"/>.</summary>
/// <param name="file">The file's bytes (kept, not copied).</param>
public sealed class MemorySFileSource(ReadOnlyMemory<byte> file) : SFileSpanSource
{
    /// <inheritdoc />
    public override long Length => file.Length;

    /// <inheritdoc />
    public override ReadOnlySpan<byte> GetSpan(long offset, int length) => file.Span.Slice(checked((int)offset), length);
}
