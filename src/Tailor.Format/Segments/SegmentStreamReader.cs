using System.Buffers;
using System.IO.Pipelines;

namespace Tailor.Format.Segments;

/// <summary>
/// Reads segment records from a <see cref="Stream"/> (a file, an object-store response body, any
/// network stream) through one pooled buffer that grows to the largest record.
/// </summary>
/// <remarks>
/// After <see cref="ReadNextAsync"/> returns true, <see cref="CurrentFrame"/> and the other
/// <c>Current</c> members describe the record until the next call. For a seekable stream the
/// trailer and footer are read first, so the record area's end is known and the footer's stats
/// are available in <see cref="Layout"/>. Dispose returns the buffer (and disposes the stream unless
/// <c>leaveOpen</c>).
/// </remarks>
public sealed class SegmentStreamReader : IAsyncDisposable, IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer;
    private long _bufferOffset; // file offset of _buffer[0]
    private int _filled;
    private bool _eof;
    private SegmentReaderState _state;
    private bool _started;
    private int _frameStart;
    private int _frameLength;

    /// <summary>Creates a reader over the whole file in <paramref name="stream"/>, positioned at its start.</summary>
    public SegmentStreamReader(Stream stream, SegmentReaderOptions? options = null, bool leaveOpen = false)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        _state = SegmentReaderState.ForFile(options);
    }

    /// <summary>
    /// Creates a reader over the records beginning in a split of a file whose layout is known;
    /// <paramref name="stream"/> must deliver the file's bytes from <paramref name="streamOffset"/> on.
    /// </summary>
    public SegmentStreamReader(Stream stream, long streamOffset, SegmentReaderState state, bool leaveOpen = false)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(streamOffset, state.Position);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        _bufferOffset = streamOffset;
        _state = state;
        _started = true;
    }

    /// <summary>The file's layout, when the stream is seekable and the whole file is read.</summary>
    public SegmentLayout? Layout { get; private set; }

    /// <summary>The reader state: position, done, and counts of records and damage.</summary>
    public SegmentReaderState State => _state;

    /// <summary>The current record's frame; valid until the next call.</summary>
    public ReadOnlyMemory<byte> CurrentFrame => _buffer.AsMemory(_frameStart, _frameLength);

    /// <summary>The current record's file offset.</summary>
    public long CurrentOffset { get; private set; }

    /// <summary>The current record's ordinal.</summary>
    public uint CurrentOrdinal { get; private set; }

    /// <summary>Reads the next intact record.</summary>
    /// <returns>False when the file or split is finished.</returns>
    public async ValueTask<bool> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        if (!_started)
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var step = Step();
            if (step != StepResult.NeedMore)
            {
                return step == StepResult.Record;
            }

            if (_eof)
            {
                return false;
            }

            await FillAsync(Math.Max(_state.BytesNeeded, SegmentFormat.RecordHeaderLength), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the buffer and disposes the stream unless it is left open.</summary>
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>Returns the buffer and disposes the stream unless it is left open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        if (!_leaveOpen)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private enum StepResult
    {
        Record,
        Done,
        NeedMore,
    }

    private StepResult Step()
    {
        var start = (int)(_state.Position - _bufferOffset);
        if (start > _filled)
        {
            return StepResult.NeedMore; // the reader skipped past what is buffered
        }

        var position = _state.Position;
        var reader = new SegmentReader(_buffer.AsSpan(start, _filled - start), _eof, _state);
        var found = reader.TryReadRecord(out var record);
        _state = reader.CurrentState;
        if (found)
        {
            CurrentOffset = record.Offset;
            CurrentOrdinal = record.Ordinal;
            _frameStart = (int)(record.Offset - _bufferOffset) + SegmentFormat.RecordHeaderLength;
            _frameLength = record.Frame.Length;
            return StepResult.Record;
        }

        return _state.IsDone || (_eof && _state.Position == position) ? StepResult.Done : StepResult.NeedMore;
    }

    private async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        if (!_stream.CanSeek)
        {
            return;
        }

        var origin = _stream.Position;
        var length = _stream.Length - origin;
        var head = new byte[(int)Math.Min(length, SegmentFormat.HeaderLength)];
        await _stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        var tailLength = (int)Math.Min(length, SegmentLayout.DefaultTailBytes);
        var tail = new byte[tailLength];
        _stream.Position = origin + length - tailLength;
        await _stream.ReadExactlyAsync(tail, cancellationToken).ConfigureAwait(false);
        var layout = SegmentLayout.Parse(head, tail, length, out var needed);
        if (needed > tailLength)
        {
            tail = new byte[needed];
            _stream.Position = origin + length - needed;
            await _stream.ReadExactlyAsync(tail, cancellationToken).ConfigureAwait(false);
            layout = SegmentLayout.Parse(head, tail, length, out _);
        }

        Layout = layout;
        _stream.Position = origin;
        if (layout.IsReadable)
        {
            _state = layout.CreateFileState(_state.Options);
            _bufferOffset = 0;
        }
    }

    private async ValueTask FillAsync(int needed, CancellationToken cancellationToken)
    {
        // Keep the bytes from the reader's position on; drop what is behind it.
        var keepFrom = (int)Math.Clamp(_state.Position - _bufferOffset, 0, _filled);
        var skipBeyond = _state.Position - (_bufferOffset + _filled);
        if (keepFrom > 0)
        {
            Buffer.BlockCopy(_buffer, keepFrom, _buffer, 0, _filled - keepFrom);
            _filled -= keepFrom;
            _bufferOffset += keepFrom;
        }

        while (skipBeyond > 0 && !_eof)
        {
            // The reader's position lies past the buffered bytes (a split starting later): discard up to it.
            var n = await _stream.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(_buffer.Length, skipBeyond)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                _eof = true;
                break;
            }

            skipBeyond -= n;
            _bufferOffset += n;
            _filled = 0;
        }

        if (needed > _buffer.Length - 0)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(needed);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _filled);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var target = Math.Max(needed, Math.Min(_buffer.Length, _filled + (64 * 1024)));
        while (_filled < target && !_eof)
        {
            var n = await _stream.ReadAsync(_buffer.AsMemory(_filled, _buffer.Length - _filled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                _eof = true;
                break;
            }

            _filled += n;
        }
    }
}

/// <summary>
/// Reads segment records from a <see cref="PipeReader"/> (System.IO.Pipelines), for network streams:
/// records held in one buffer segment are returned in place; records that straddle segments are
/// copied into a pooled scratch buffer.
/// </summary>
/// <remarks>
/// The frame of the current record is valid until the next <see cref="ReadNextAsync"/>; the pipe is
/// advanced past a record only then. The record area's end is found in-band (the footer follows the
/// last record), so the footer's stats are checked but not parsed.
/// </remarks>
public sealed class SegmentPipeReader : IAsyncDisposable
{
    private readonly PipeReader _pipe;
    private SegmentReaderState _state;
    private ReadOnlySequence<byte> _buffer;
    private long _bufferOffset;
    private bool _holding;
    private bool _completed;
    private byte[]? _scratch;

    /// <summary>Creates a reader over a whole file delivered by <paramref name="pipe"/>.</summary>
    public SegmentPipeReader(PipeReader pipe, SegmentReaderOptions? options = null)
    {
        _pipe = pipe;
        _state = SegmentReaderState.ForFile(options);
    }

    /// <summary>The reader state: position, done, and counts of records and damage.</summary>
    public SegmentReaderState State => _state;

    /// <summary>The current record's frame; valid until the next call.</summary>
    public ReadOnlyMemory<byte> CurrentFrame { get; private set; }

    /// <summary>The current record's file offset.</summary>
    public long CurrentOffset { get; private set; }

    /// <summary>The current record's ordinal.</summary>
    public uint CurrentOrdinal { get; private set; }

    /// <summary>Reads the next intact record.</summary>
    /// <returns>False when the file is finished.</returns>
    public async ValueTask<bool> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_holding)
            {
                // Release what the reader is done with; tell the pipe everything was looked at when more is needed.
                var consumed = _buffer.GetPosition(Math.Clamp(_state.Position - _bufferOffset, 0, _buffer.Length));
                _bufferOffset += _buffer.Slice(0, consumed).Length;
                _pipe.AdvanceTo(consumed, _buffer.End);
                _holding = false;
            }

            if (_state.IsDone)
            {
                return false;
            }

            var result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            _buffer = result.Buffer;
            _holding = true;
            _completed = result.IsCompleted;
            var skip = _state.Position - _bufferOffset;
            if (skip > _buffer.Length && !_completed)
            {
                continue; // the reader is past what has arrived; AdvanceTo above drops it
            }

            var step = Step();
            if (step == 1)
            {
                return true;
            }

            if (step == 0 || _completed)
            {
                return false;
            }
        }
    }

    /// <summary>Completes the pipe and returns the scratch buffer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }

        await _pipe.CompleteAsync().ConfigureAwait(false);
    }

    // 1 = record, 0 = done, -1 = need more.
    private int Step()
    {
        while (true)
        {
            var from = Math.Min(_state.Position - _bufferOffset, _buffer.Length);
            var rest = _buffer.Slice(from);
            var needed = Math.Max(_state.BytesNeeded, SegmentFormat.RecordHeaderLength);
            var first = rest.First;
            ReadOnlyMemory<byte> window;
            bool isFinal;
            if (first.Length >= needed || first.Length == rest.Length)
            {
                window = first;
                isFinal = _completed && first.Length == rest.Length;
            }
            else if (rest.Length >= needed || _completed)
            {
                var size = (int)Math.Min(rest.Length, Math.Max(needed, 64 * 1024));
                if (_scratch is null || _scratch.Length < size)
                {
                    if (_scratch is not null)
                    {
                        ArrayPool<byte>.Shared.Return(_scratch);
                    }

                    _scratch = ArrayPool<byte>.Shared.Rent(size);
                }

                rest.Slice(0, size).CopyTo(_scratch);
                window = _scratch.AsMemory(0, size);
                isFinal = _completed && size == rest.Length;
            }
            else
            {
                return -1;
            }

            var position = _state.Position;
            var reader = new SegmentReader(window.Span, isFinal, _state);
            var found = reader.TryReadRecord(out var record);
            _state = reader.CurrentState;
            if (found)
            {
                CurrentOffset = record.Offset;
                CurrentOrdinal = record.Ordinal;
                var start = (int)(record.Offset - position) + SegmentFormat.RecordHeaderLength;
                CurrentFrame = window.Slice(start, record.Frame.Length);
                return 1;
            }

            if (_state.IsDone || (isFinal && _state.Position == position))
            {
                return 0;
            }

            if (_state.Position == position && !isFinal && window.Length >= rest.Length)
            {
                return -1;
            }
        }
    }
}
