using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Tailor.Format.Zstd;

namespace Tailor.Format.Segments;

/// <summary>One intact record of a segment file.</summary>
/// <remarks>The frame points into the buffer the reader was given: valid as long as that buffer is.</remarks>
public readonly ref struct SegmentRecord
{
    internal SegmentRecord(long offset, uint ordinal, ReadOnlySpan<byte> frame)
    {
        Offset = offset;
        Ordinal = ordinal;
        Frame = frame;
    }

    /// <summary>The file offset where the record (its sync marker) begins.</summary>
    public long Offset { get; }

    /// <summary>The record's ordinal in its file (0, 1, 2, …).</summary>
    public uint Ordinal { get; }

    /// <summary>The payload's zstd frame, exactly as it was received.</summary>
    public ReadOnlySpan<byte> Frame { get; }

    /// <summary>The record's total length in the file (header and frame).</summary>
    public int Length => SegmentFormat.RecordHeaderLength + Frame.Length;
}

/// <summary>
/// Reads the records of a segment file from one contiguous buffer, without allocating: the
/// single-span core every other segment reader (sequence, stream, pipe, memory-mapped) drives.
/// </summary>
/// <remarks>
/// <para>Modelled on <c>Utf8JsonReader</c>: the buffer given to the constructor starts at
/// <see cref="SegmentReaderState.Position"/>; when <see cref="TryReadRecord"/> returns false and
/// <see cref="SegmentReaderState.IsDone"/> is false, the reader needs more bytes: take
/// <see cref="CurrentState"/> and construct a new reader over bytes starting at its
/// <see cref="SegmentReaderState.Position"/> (at least <see cref="SegmentReaderState.BytesNeeded"/> of them, or
/// up to the end of the file with <c>isFinalBlock</c> true).</para>
/// <para>Damage (bad length, checksum mismatch, a record that is not a zstd frame, truncation,
/// garbage) is counted and skipped in lenient mode: the reader searches for the next sync marker and
/// continues with the next intact record. In strict mode it throws
/// <see cref="SegmentFormatException"/> naming the offset. No length field ever causes an
/// allocation: a record over <see cref="SegmentReaderOptions.MaxRecordBytes"/> is damage.</para>
/// </remarks>
public ref struct SegmentReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _dataOffset;
    private readonly bool _isFinal;
    private SegmentReaderState _state;

    /// <summary>Creates a reader over <paramref name="data"/>, which starts at <paramref name="state"/>'s position.</summary>
    /// <param name="data">The bytes from <see cref="SegmentReaderState.Position"/> on.</param>
    /// <param name="isFinalBlock">Whether <paramref name="data"/> reaches the end of the file.</param>
    /// <param name="state">Where to continue; see <see cref="SegmentReaderState.ForFile"/> and <see cref="SegmentReaderState.ForSplit"/>.</param>
    public SegmentReader(ReadOnlySpan<byte> data, bool isFinalBlock, SegmentReaderState state)
    {
        if (state.Options is null)
        {
            throw new ArgumentException("Create the state with SegmentReaderState.ForFile or ForSplit.", nameof(state));
        }

        _data = data;
        _dataOffset = state.Position;
        _isFinal = isFinalBlock;
        _state = state;
    }

    /// <summary>Creates a reader over a whole file held in one span, from <paramref name="state"/>'s position.</summary>
    /// <param name="file">Every byte of the file (at most 2 GiB; larger files go through <see cref="MappedSegmentFile"/>).</param>
    /// <param name="state">Where to start, e.g. <see cref="SegmentLayout.CreateFileState"/> or <see cref="SegmentLayout.CreateSplitState"/>.</param>
    public static SegmentReader OverFile(ReadOnlySpan<byte> file, SegmentReaderState state) =>
        new(file[(int)Math.Min(state.Position, file.Length)..], isFinalBlock: true, state);

    /// <summary>The state to continue from with the next buffer.</summary>
    public readonly SegmentReaderState CurrentState => _state;

    /// <summary>The file's sync marker (known once the header is read, or given for a split).</summary>
    public readonly SyncMarker SyncMarker => _state.Marker;

    /// <summary>The bytes of this buffer the reader is done with.</summary>
    public readonly long BytesConsumed => _state.Position - _dataOffset;

    /// <summary>Reads the next intact record of the file or split.</summary>
    /// <param name="record">The record, valid while the buffer is.</param>
    /// <returns>
    /// True with a record; false when the range is finished (<see cref="SegmentReaderState.IsDone"/>)
    /// or when more bytes are needed.
    /// </returns>
    /// <exception cref="SegmentFormatException">The header is unreadable, or strict mode met damage.</exception>
    public bool TryReadRecord(out SegmentRecord record)
    {
        record = default;
        while (true)
        {
            switch (_state.Phase)
            {
                case ReaderPhase.Header:
                    if (!TryReadHeader())
                    {
                        return false;
                    }

                    break;

                case ReaderPhase.Seek:
                    switch (FindIntactRecord(silent: true))
                    {
                        case Scan.Found:
                            _state.Phase = _state.Position >= _state.SplitEnd ? ReaderPhase.Done : ReaderPhase.Records;
                            break;
                        case Scan.NeedMore:
                            return false;
                        default:
                            _state.Phase = ReaderPhase.Done;
                            break;
                    }

                    break;

                case ReaderPhase.Records:
                    {
                        var position = _state.Position;
                        if (position >= _state.DataEnd)
                        {
                            _state.Phase = ReaderPhase.Done;
                            return false;
                        }

                        var check = CheckRecord(position, out var frameLength, out var ordinal, out var problem);
                        if (check == Check.NeedMore)
                        {
                            return false;
                        }

                        if (check == Check.Invalid)
                        {
                            if (Available(position) == 0 && _isFinal)
                            {
                                _state.Phase = ReaderPhase.Done; // a clean end of the records
                                return false;
                            }

                            if (!_state.FooterKnown && StartsWithFooter(position))
                            {
                                // Without a trusted trailer, the footer magic at a record boundary ends the records.
                                _state.Phase = ReaderPhase.Done;
                                return false;
                            }

                            BeginDamage(position, problem!);
                            break;
                        }

                        if (position >= _state.SplitEnd)
                        {
                            _state.Phase = ReaderPhase.Done; // an intact record of the next split follows ours
                            return false;
                        }

                        var start = (int)(position - _dataOffset) + SegmentFormat.RecordHeaderLength;
                        record = new SegmentRecord(position, ordinal, _data.Slice(start, frameLength));
                        _state.Position = position + SegmentFormat.RecordHeaderLength + frameLength;
                        _state.BytesNeeded = SegmentFormat.RecordHeaderLength;
                        _state.ReadStats.RecordsRead++;
                        if (ordinal > _state.ReadStats.MaxOrdinal)
                        {
                            _state.ReadStats.MaxOrdinal = ordinal;
                        }

                        return true;
                    }

                case ReaderPhase.Resync:
                    switch (FindIntactRecord(silent: false))
                    {
                        case Scan.Found:
                            CloseDamage(_state.Position, tail: false);
                            _state.Phase = ReaderPhase.Records;
                            break;
                        case Scan.NeedMore:
                            return false;
                        default:
                            CloseDamage(_state.Position, tail: true);
                            _state.Phase = ReaderPhase.Done;
                            break;
                    }

                    break;

                default:
                    return false;
            }
        }
    }

    private enum Check : byte
    {
        Valid,
        NeedMore,
        Invalid,
    }

    private enum Scan : byte
    {
        Found,
        NeedMore,
        NotFound,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly long Available(long position) => _dataOffset + _data.Length - position;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ReadOnlySpan<byte> From(long position) => _data[(int)(position - _dataOffset)..];

    private bool TryReadHeader()
    {
        if (Available(0) < SegmentFormat.HeaderLength)
        {
            if (_isFinal)
            {
                throw new SegmentFormatException(
                    $"Not a readable segment: the file is {Available(0)} bytes long, shorter than the {SegmentFormat.HeaderLength}-byte header.", 0);
            }

            _state.BytesNeeded = SegmentFormat.HeaderLength;
            return false;
        }

        if (!SegmentHeader.TryRead(_data, out var header, out var problem))
        {
            throw new SegmentFormatException($"Not a readable segment: {problem}.", 0);
        }

        _state.Marker = header.SyncMarker;
        _state.Position = SegmentFormat.HeaderLength;
        _state.Phase = ReaderPhase.Records;
        _state.BytesNeeded = SegmentFormat.RecordHeaderLength;
        return true;
    }

    private Check CheckRecord(long position, out int frameLength, out uint ordinal, out string? problem)
    {
        frameLength = 0;
        ordinal = 0;
        problem = null;
        var available = Available(position);
        if (available < SegmentFormat.RecordHeaderLength)
        {
            if (!_isFinal && position + SegmentFormat.RecordHeaderLength <= _state.DataEnd)
            {
                _state.BytesNeeded = SegmentFormat.RecordHeaderLength;
                return Check.NeedMore;
            }

            problem = "the file ends inside a record header";
            return Check.Invalid;
        }

        var bytes = From(position);
        if (!_state.Marker.Matches(bytes))
        {
            problem = "no sync marker where a record should begin";
            return Check.Invalid;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
        if (length <= 0 || length > _state.Options.MaxRecordBytes)
        {
            problem = $"a record length of {length} bytes is outside 1..{_state.Options.MaxRecordBytes}";
            return Check.Invalid;
        }

        var total = SegmentFormat.RecordHeaderLength + length;
        if (position + total > _state.DataEnd)
        {
            problem = "a record runs past the end of the record area";
            return Check.Invalid;
        }

        if (available < total)
        {
            if (!_isFinal)
            {
                _state.BytesNeeded = total;
                return Check.NeedMore;
            }

            problem = "the file ends inside a record";
            return Check.Invalid;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]) != SegmentFormat.Checksum(bytes[20..total]))
        {
            problem = "a record checksum does not match";
            return Check.Invalid;
        }

        // The magic must lie inside the frame: a frame shorter than it is not one, whatever bytes follow the record.
        if (!ZstdFrameDecompressor.StartsWithFrameMagic(bytes[SegmentFormat.RecordHeaderLength..total]))
        {
            problem = "a record does not hold a zstd frame";
            return Check.Invalid;
        }

        frameLength = length;
        ordinal = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]);
        return Check.Valid;
    }

    private Scan FindIntactRecord(bool silent)
    {
        Span<byte> marker = stackalloc byte[SegmentFormat.SyncMarkerLength];
        _state.Marker.Write(marker);
        while (true)
        {
            var position = _state.Position;
            var bufferEnd = _dataOffset + _data.Length;
            var searchEnd = Math.Min(bufferEnd, _state.DataEnd);
            if (position >= searchEnd)
            {
                if (_isFinal || searchEnd >= _state.DataEnd)
                {
                    _state.Position = Math.Max(position, searchEnd);
                    return Scan.NotFound;
                }

                _state.BytesNeeded = SegmentFormat.SyncMarkerLength;
                return Scan.NeedMore;
            }

            var window = _data.Slice((int)(position - _dataOffset), (int)(searchEnd - position));
            var index = window.IndexOf(marker);
            if (index < 0)
            {
                if (_isFinal || searchEnd >= _state.DataEnd)
                {
                    _state.Position = searchEnd;
                    return Scan.NotFound;
                }

                // Keep the last 15 bytes: a marker may straddle this buffer's end.
                _state.Position = Math.Max(position, searchEnd - (SegmentFormat.SyncMarkerLength - 1));
                _state.BytesNeeded = SegmentFormat.SyncMarkerLength;
                return Scan.NeedMore;
            }

            var candidate = position + index;
            if (silent && candidate >= _state.SplitEnd)
            {
                _state.Position = candidate;
                return Scan.Found; // not ours: the caller finishes
            }

            switch (CheckRecord(candidate, out _, out _, out _))
            {
                case Check.Valid:
                    _state.Position = candidate;
                    return Scan.Found;
                case Check.NeedMore:
                    _state.Position = candidate;
                    return Scan.NeedMore;
                default:
                    _state.Position = candidate + 1;
                    break;
            }
        }
    }

    private readonly bool StartsWithFooter(long position) =>
        Available(position) >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(From(position)) == SegmentFormat.FooterMagic;

    private void BeginDamage(long position, string problem)
    {
        if (_state.Options.Strict)
        {
            ThrowDamage(position, problem);
        }

        _state.DamageStart = position;
        _state.Position = position + 1;
        _state.Phase = ReaderPhase.Resync;
    }

    private void CloseDamage(long end, bool tail)
    {
        _state.ReadStats.DamagedRegions++;
        _state.ReadStats.DamagedBytes += Math.Max(0, end - _state.DamageStart);
        _state.ReadStats.DamagedTail |= tail;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDamage(long position, string problem) =>
        throw new SegmentFormatException($"Damaged segment at offset {position}: {problem}.", position);
}
