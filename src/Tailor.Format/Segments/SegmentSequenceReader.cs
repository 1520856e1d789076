using System.Buffers;

namespace Tailor.Format.Segments;

/// <summary>
/// Reads segment records from a <see cref="ReadOnlySequence{T}"/> (for example bytes received in
/// several network buffers). A single-segment sequence is read in place; a record that straddles
/// segments is copied into a pooled scratch buffer.
/// </summary>
/// <remarks>
/// Records point into the sequence or into the scratch buffer: valid until the next call. Dispose
/// returns the scratch buffer to <see cref="ArrayPool{T}.Shared"/>.
/// </remarks>
public ref struct SegmentSequenceReader
{
    private ReadOnlySequence<byte> _rest;
    private long _restOffset;
    private SegmentReaderState _state;
    private byte[]? _scratch;

    /// <summary>Creates a reader over a whole file held in <paramref name="file"/>.</summary>
    public SegmentSequenceReader(ReadOnlySequence<byte> file, SegmentReaderOptions? options = null)
        : this(file, 0, SegmentReaderState.ForFile(options))
    {
    }

    /// <summary>Creates a reader continuing from <paramref name="state"/> over bytes that start at file offset <paramref name="sequenceOffset"/>.</summary>
    /// <param name="bytes">File bytes from <paramref name="sequenceOffset"/> to the end of the file (or of what is available).</param>
    /// <param name="sequenceOffset">The file offset of the first byte of <paramref name="bytes"/>; at most the state's position.</param>
    /// <param name="state">The reader state, e.g. from <see cref="SegmentLayout.CreateSplitState"/>.</param>
    public SegmentSequenceReader(ReadOnlySequence<byte> bytes, long sequenceOffset, SegmentReaderState state)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequenceOffset, state.Position);
        _rest = bytes;
        _restOffset = sequenceOffset;
        _state = state;
        _scratch = null;
    }

    /// <summary>The reader state: position, done, and counts of records and damage.</summary>
    public readonly SegmentReaderState State => _state;

    /// <summary>Reads the next intact record.</summary>
    /// <returns>False when the file or split is finished.</returns>
    public bool TryReadRecord(out SegmentRecord record)
    {
        while (true)
        {
            // Drop what is behind the reader so slicing stays proportional to what is ahead.
            var skip = _state.Position - _restOffset;
            if (skip > 0)
            {
                skip = Math.Min(skip, _rest.Length);
                _rest = _rest.Slice(skip);
                _restOffset += skip;
            }

            var remaining = _rest.Length;
            var first = _rest.FirstSpan;
            var needed = Math.Max(_state.BytesNeeded, SegmentFormat.RecordHeaderLength);
            ReadOnlySpan<byte> window;
            bool isFinal;
            if (first.Length >= needed || first.Length == remaining)
            {
                window = first;
                isFinal = first.Length == remaining;
            }
            else
            {
                var size = (int)Math.Min(remaining, Math.Max(needed, 64 * 1024));
                if (_scratch is null || _scratch.Length < size)
                {
                    if (_scratch is not null)
                    {
                        ArrayPool<byte>.Shared.Return(_scratch);
                    }

                    _scratch = ArrayPool<byte>.Shared.Rent(size);
                }

                _rest.Slice(0, size).CopyTo(_scratch);
                window = _scratch.AsSpan(0, size);
                isFinal = size == remaining;
            }

            var position = _state.Position;
            var reader = new SegmentReader(window, isFinal, _state);
            var found = reader.TryReadRecord(out record);
            _state = reader.CurrentState;
            if (found || _state.IsDone || (isFinal && _state.Position == position))
            {
                return found;
            }
        }
    }

    /// <summary>Returns the scratch buffer to the pool.</summary>
    public void Dispose()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }
}
