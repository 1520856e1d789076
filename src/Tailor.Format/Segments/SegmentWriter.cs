using System.Buffers;
using System.Buffers.Binary;
using Tailor.Format.Payloads;
using Tailor.Format.Zstd;

namespace Tailor.Format.Segments;

/// <summary>Options of a <see cref="SegmentWriter"/>.</summary>
public sealed class SegmentWriterOptions
{
    /// <summary>The writer's id, written in the header and footer. Default 0; the sink uses a random id per process.</summary>
    public ulong WriterId { get; set; }

    /// <summary>The writer's sequence number of this file. Default 0.</summary>
    public ulong Sequence { get; set; }

    /// <summary>When the file was opened, Unix milliseconds. Default: the current time.</summary>
    public long? OpenedAt { get; set; }

    /// <summary>The sync marker to use. Default null: 16 random bytes.</summary>
    public SyncMarker? SyncMarker { get; set; }

    /// <summary>A block of the index closes once its records reach this many bytes. Default 1 MiB.</summary>
    public int BlockTargetBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest frame accepted; readers treat larger records as damage. Default 16 MiB.</summary>
    public int MaxRecordBytes { get; set; } = FormatLimits.DefaultMaxRecordBytes;
}

/// <summary>
/// Writes a segment file — header, records holding payload frames as they are, footer, trailer —
/// into an <see cref="IBufferWriter{T}"/>, keeping the stats and block index for the footer.
/// </summary>
/// <remarks>
/// The header is written by the constructor. Each <see cref="Append"/> writes one record; the
/// caller supplies the payload's summary (from <see cref="PayloadDecoder.TryValidate"/>) so stats
/// never depend on trusting a producer. <see cref="Complete"/> writes the footer and trailer; the
/// writer cannot be used after it. Not thread-safe.
/// </remarks>
public sealed class SegmentWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly int _blockTarget;
    private readonly int _maxRecordBytes;
    private readonly HashSet<uint> _orgs = [];
    private readonly List<SegmentBlock> _blocks = [];
    private SegmentStats _stats = SegmentStats.Empty;
    private SegmentBlock _block;
    private long _blockBytes;
    private bool _completed;

    /// <summary>Creates a writer and writes the file header to <paramref name="output"/>.</summary>
    public SegmentWriter(IBufferWriter<byte> output, SegmentWriterOptions? options = null)
    {
        options ??= new SegmentWriterOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BlockTargetBytes, 1);
        _output = output;
        _blockTarget = options.BlockTargetBytes;
        _maxRecordBytes = options.MaxRecordBytes;
        Header = new SegmentHeader(SegmentFormat.CurrentVersion, options.SyncMarker ?? SyncMarker.NewRandom(), options.WriterId,
            options.Sequence, options.OpenedAt ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var span = output.GetSpan(SegmentFormat.HeaderLength);
        Header.Write(span);
        output.Advance(SegmentFormat.HeaderLength);
        Length = SegmentFormat.HeaderLength;
        _block = EmptyBlock(Length, 0);
    }

    /// <summary>The file header.</summary>
    public SegmentHeader Header { get; }

    /// <summary>The number of bytes written so far.</summary>
    public long Length { get; private set; }

    /// <summary>The totals over the records written so far.</summary>
    public SegmentStats Stats => _stats;

    /// <summary>The number of records written so far.</summary>
    public long RecordCount => _stats.RecordCount;

    /// <summary>The number of distinct orgs written so far.</summary>
    public int OrgCount => _orgs.Count;

    /// <summary>Appends one record holding <paramref name="frame"/> as it is.</summary>
    /// <param name="frame">One payload's zstd frame.</param>
    /// <param name="summary">The payload's summary, from validating the frame.</param>
    /// <returns>The record's file offset.</returns>
    /// <exception cref="ArgumentException">The frame is empty, not a zstd frame, or over the record limit.</exception>
    public long Append(ReadOnlySpan<byte> frame, in PayloadSummary summary)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The segment is complete.");
        }

        if (frame.Length == 0 || frame.Length > _maxRecordBytes || !ZstdFrameDecompressor.StartsWithFrameMagic(frame))
        {
            throw new ArgumentException($"A record holds one zstd frame of 1 to {_maxRecordBytes} bytes; got {frame.Length} bytes.", nameof(frame));
        }

        if (_stats.RecordCount >= uint.MaxValue)
        {
            throw new InvalidOperationException("A segment holds at most 2^32 - 1 records.");
        }

        if (_blockBytes >= _blockTarget)
        {
            _blocks.Add(_block);
            _block = EmptyBlock(Length, (uint)_stats.RecordCount);
            _blockBytes = 0;
        }

        var offset = Length;
        var ordinal = (uint)_stats.RecordCount;
        var total = SegmentFormat.RecordHeaderLength + frame.Length;
        var span = _output.GetSpan(total);
        Header.SyncMarker.Write(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], ordinal);
        frame.CopyTo(span[SegmentFormat.RecordHeaderLength..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], SegmentFormat.Checksum(span[20..total]));
        _output.Advance(total);
        Length += total;
        _blockBytes += total;

        _stats.RecordCount++;
        _stats.PointCount += summary.PointCount;
        _stats.FrameBytes += frame.Length;
        _stats.PayloadBytes += summary.BodyLength;
        _stats.MinIntakeTime = Math.Min(_stats.MinIntakeTime, summary.IntakeTime);
        _stats.MaxIntakeTime = Math.Max(_stats.MaxIntakeTime, summary.IntakeTime);
        // A summary with an empty range (no points) leaves the range alone; one that does not know its
        // points (min = long.MinValue, max = long.MaxValue) widens it to everything, so no reader skips it.
        var hasRange = summary.MinTimestamp <= summary.MaxTimestamp;
        if (hasRange)
        {
            _stats.MinTimestamp = Math.Min(_stats.MinTimestamp, summary.MinTimestamp);
            _stats.MaxTimestamp = Math.Max(_stats.MaxTimestamp, summary.MaxTimestamp);
        }

        _orgs.Add(summary.OrgId);
        _block = _block with
        {
            RecordCount = _block.RecordCount + 1,
            PointCount = _block.PointCount + summary.PointCount,
            MinTimestamp = hasRange ? Math.Min(_block.MinTimestamp, summary.MinTimestamp) : _block.MinTimestamp,
            MaxTimestamp = hasRange ? Math.Max(_block.MaxTimestamp, summary.MaxTimestamp) : _block.MaxTimestamp,
        };
        return offset;
    }

    /// <summary>Writes the footer and trailer; the file is then complete.</summary>
    /// <returns>The footer written.</returns>
    public SegmentFooter Complete()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The segment is already complete.");
        }

        _completed = true;
        if (_block.RecordCount > 0)
        {
            _blocks.Add(_block);
        }

        var orgs = _orgs.ToArray();
        Array.Sort(orgs);
        var footer = new SegmentFooter(Header.SyncMarker, Header.WriterId, Header.Sequence, _stats, orgs, [.. _blocks]);
        var footerLength = footer.EncodedLength;
        var span = _output.GetSpan(footerLength + SegmentFormat.TrailerLength);
        footer.Write(span);
        new SegmentTrailer(Length, footerLength, SegmentFormat.Checksum(span[..footerLength]), _stats.RecordCount).Write(span[footerLength..]);
        _output.Advance(footerLength + SegmentFormat.TrailerLength);
        Length += footerLength + SegmentFormat.TrailerLength;
        return footer;
    }

    private static SegmentBlock EmptyBlock(long offset, uint firstOrdinal) =>
        new(offset, firstOrdinal, 0, 0, long.MaxValue, long.MinValue);
}
