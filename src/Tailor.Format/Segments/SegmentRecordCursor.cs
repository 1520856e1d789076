using System.IO.MemoryMappedFiles;

namespace Tailor.Format.Segments;

/// <summary>
/// Reads the records of a file (or of a split of it) held in memory that may be larger than a span
/// can address: the file is walked through windows of at most <see cref="WindowBytes"/> bytes, and a
/// record that straddles a window's end starts the next window.
/// </summary>
/// <remarks>Records returned point into the source memory: valid as long as the source is.</remarks>
public abstract unsafe class SegmentRecordCursor
{
    private SegmentReaderState _state;
    private long _windowStart;
    private int _windowLength = -1;

    /// <summary>Creates a cursor over <paramref name="length"/> bytes.</summary>
    protected SegmentRecordCursor(long length, SegmentReaderState state, int windowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowBytes, SegmentFormat.RecordHeaderLength);
        Length = length;
        _state = state;
        WindowBytes = windowBytes;
    }

    /// <summary>The length of the underlying file.</summary>
    public long Length { get; }

    /// <summary>The largest window handed to the span reader (records longer than it get a window of their own length).</summary>
    public int WindowBytes { get; }

    /// <summary>The reader state: position, done, and counts of records and damage.</summary>
    public SegmentReaderState State => _state;

    /// <summary>Reads the next intact record.</summary>
    /// <returns>False when the file or split is finished.</returns>
    public bool TryReadRecord(out SegmentRecord record)
    {
        while (true)
        {
            var position = _state.Position;
            if (_windowLength < 0 || position < _windowStart || position > _windowStart + _windowLength)
            {
                MoveWindow(position);
            }

            var windowEnd = _windowStart + _windowLength;
            var window = _windowLength == 0 ? ReadOnlySpan<byte>.Empty : GetSpan(_windowStart, _windowLength)[(int)(position - _windowStart)..];
            var reader = new SegmentReader(window, isFinalBlock: windowEnd >= Length, _state);
            var found = reader.TryReadRecord(out record);
            _state = reader.CurrentState;
            if (found || _state.IsDone)
            {
                return found;
            }

            if (windowEnd >= Length && _state.Position == position)
            {
                return false; // no progress at the end of the data: nothing more can be read
            }

            // The reader needs bytes past this window: the next one starts where it stopped.
            MoveWindow(_state.Position);
        }
    }

    // The window is reused record after record and moves only when the reader needs bytes past it,
    // so each byte of the file is read once (plus a straddling record's head).
    private void MoveWindow(long position)
    {
        var remaining = Length - position;
        _windowStart = position;
        _windowLength = (int)Math.Max(0, Math.Min(remaining, Math.Max((long)WindowBytes, _state.BytesNeeded)));
    }

    /// <summary>Returns <paramref name="length"/> bytes of the file from <paramref name="offset"/>.</summary>
    protected abstract ReadOnlySpan<byte> GetSpan(long offset, int length);
}

/// <summary>A <see cref="SegmentRecordCursor"/> over a file held in a <see cref="ReadOnlyMemory{T}"/>.</summary>
public sealed class MemorySegmentCursor : SegmentRecordCursor
{
    private readonly ReadOnlyMemory<byte> _file;

    /// <summary>Creates a cursor over <paramref name="file"/> from <paramref name="state"/>.</summary>
    public MemorySegmentCursor(ReadOnlyMemory<byte> file, SegmentReaderState state, int windowBytes = int.MaxValue)
        : base(file.Length, state, windowBytes)
    {
        _file = file;
    }

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> GetSpan(long offset, int length) => _file.Span.Slice((int)offset, length);
}

/// <summary>
/// A segment file memory-mapped read-only, of any size (files over 2 GiB are read through windows).
/// </summary>
/// <remarks>Dispose unmaps the file; records returned by its cursors are invalid afterwards.</remarks>
public sealed unsafe class MappedSegmentFile : IDisposable
{
    /// <summary>The default window: 1 GiB.</summary>
    public const int DefaultWindowBytes = 1 << 30;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    /// <summary>Maps the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public MappedSegmentFile(string path)
    {
        Path = path;
        Length = new FileInfo(path).Length;
        if (Length > 0)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
            _pointer += _view.PointerOffset;
        }

        var tailLength = (int)Math.Min(Length, SegmentLayout.DefaultTailBytes);
        var head = Span(0, (int)Math.Min(Length, SegmentFormat.HeaderLength));
        Layout = SegmentLayout.Parse(head, Span(Length - tailLength, tailLength), Length, out var needed);
        if (needed > tailLength)
        {
            Layout = SegmentLayout.Parse(head, Span(Length - needed, needed), Length, out _);
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The file's length.</summary>
    public long Length { get; }

    /// <summary>Header, footer and record area of the file.</summary>
    public SegmentLayout Layout { get; }

    /// <summary>A cursor over the records that begin in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <exception cref="SegmentFormatException">Neither the header nor the footer gives the sync marker.</exception>
    public SegmentRecordCursor CreateCursor(long start = 0, long end = long.MaxValue, SegmentReaderOptions? options = null, int windowBytes = DefaultWindowBytes) =>
        new Cursor(this, Layout.CreateSplitState(start, end, options), windowBytes);

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

    private ReadOnlySpan<byte> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer == null && Length > 0, this);
        return length == 0 ? default : new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    private sealed class Cursor(MappedSegmentFile file, SegmentReaderState state, int windowBytes)
        : SegmentRecordCursor(file.Length, state, windowBytes)
    {
        protected override ReadOnlySpan<byte> GetSpan(long offset, int length) => file.Span(offset, length);
    }
}
