using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Tailor.Format.Segments;

/// <summary>One entry of a segment's block index: a run of consecutive records.</summary>
/// <param name="Offset">File offset of the block's first record (its sync marker).</param>
/// <param name="FirstOrdinal">Ordinal of the block's first record.</param>
/// <param name="RecordCount">Number of records in the block.</param>
/// <param name="PointCount">Number of points in the block's payloads.</param>
/// <param name="MinTimestamp">Smallest point timestamp in the block (seconds), <see cref="long.MaxValue"/> when it has no points.</param>
/// <param name="MaxTimestamp">Largest point timestamp in the block (seconds), <see cref="long.MinValue"/> when it has no points.</param>
public readonly record struct SegmentBlock(long Offset, uint FirstOrdinal, int RecordCount, long PointCount, long MinTimestamp, long MaxTimestamp);

/// <summary>Totals over a segment's records, kept by the writer and stored in the footer.</summary>
public struct SegmentStats
{
    /// <summary>Number of records (payloads).</summary>
    public long RecordCount;

    /// <summary>Number of points over all payloads.</summary>
    public long PointCount;

    /// <summary>Smallest point timestamp (seconds); <see cref="long.MaxValue"/> when there are no points.</summary>
    public long MinTimestamp;

    /// <summary>Largest point timestamp (seconds); <see cref="long.MinValue"/> when there are no points.</summary>
    public long MaxTimestamp;

    /// <summary>Smallest payload intake time (ns); <see cref="long.MaxValue"/> when there are no records.</summary>
    public long MinIntakeTime;

    /// <summary>Largest payload intake time (ns); <see cref="long.MinValue"/> when there are no records.</summary>
    public long MaxIntakeTime;

    /// <summary>Sum of the records' frame lengths (compressed payload bytes).</summary>
    public long FrameBytes;

    /// <summary>Sum of the payloads' decompressed body lengths.</summary>
    public long PayloadBytes;

    /// <summary>Stats of an empty file.</summary>
    public static SegmentStats Empty => new()
    {
        MinTimestamp = long.MaxValue,
        MaxTimestamp = long.MinValue,
        MinIntakeTime = long.MaxValue,
        MaxIntakeTime = long.MinValue,
    };
}

/// <summary>
/// The footer of a segment file: identity, stats, org ids and the block index.
/// </summary>
public sealed class SegmentFooter
{
    /// <summary>Creates a footer.</summary>
    public SegmentFooter(SyncMarker syncMarker, ulong writerId, ulong sequence, SegmentStats stats, uint[] orgIds, SegmentBlock[] blocks)
    {
        SyncMarker = syncMarker;
        WriterId = writerId;
        Sequence = sequence;
        Stats = stats;
        OrgIds = orgIds;
        Blocks = blocks;
    }

    /// <summary>The file's sync marker (a copy of the header's, so a file with a damaged header can still be read).</summary>
    public SyncMarker SyncMarker { get; }

    /// <summary>The writer id.</summary>
    public ulong WriterId { get; }

    /// <summary>The writer's sequence number of the file.</summary>
    public ulong Sequence { get; }

    /// <summary>The totals over all records.</summary>
    public SegmentStats Stats { get; }

    /// <summary>The distinct org ids of the payloads, ascending.</summary>
    public IReadOnlyList<uint> OrgIds { get; }

    /// <summary>The block index, in file order.</summary>
    public IReadOnlyList<SegmentBlock> Blocks { get; }

    /// <summary>The encoded length of this footer.</summary>
    public int EncodedLength => SegmentFormat.FooterFixedLength + (4 * OrgIds.Count) + (SegmentFormat.BlockEntryLength * Blocks.Count);

    /// <summary>Writes the footer into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes).</summary>
    public void Write(Span<byte> destination)
    {
        var length = EncodedLength;
        var f = destination[..length];
        f[..SegmentFormat.FooterFixedLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(f, SegmentFormat.FooterMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(f[4..], SegmentFormat.CurrentVersion);
        BinaryPrimitives.WriteInt32LittleEndian(f[8..], length);
        BinaryPrimitives.WriteInt32LittleEndian(f[12..], OrgIds.Count);
        BinaryPrimitives.WriteInt32LittleEndian(f[16..], Blocks.Count);
        SyncMarker.Write(f[24..]);
        BinaryPrimitives.WriteUInt64LittleEndian(f[40..], WriterId);
        BinaryPrimitives.WriteUInt64LittleEndian(f[48..], Sequence);
        var s = Stats;
        BinaryPrimitives.WriteInt64LittleEndian(f[56..], s.RecordCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[64..], s.PointCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[72..], s.MinTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(f[80..], s.MaxTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(f[88..], s.MinIntakeTime);
        BinaryPrimitives.WriteInt64LittleEndian(f[96..], s.MaxIntakeTime);
        BinaryPrimitives.WriteInt64LittleEndian(f[104..], s.FrameBytes);
        BinaryPrimitives.WriteInt64LittleEndian(f[112..], s.PayloadBytes);
        var p = SegmentFormat.FooterFixedLength;
        for (var i = 0; i < OrgIds.Count; i++, p += 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f[p..], OrgIds[i]);
        }

        for (var i = 0; i < Blocks.Count; i++, p += SegmentFormat.BlockEntryLength)
        {
            var b = Blocks[i];
            BinaryPrimitives.WriteInt64LittleEndian(f[p..], b.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(f[(p + 8)..], b.FirstOrdinal);
            BinaryPrimitives.WriteInt32LittleEndian(f[(p + 12)..], b.RecordCount);
            BinaryPrimitives.WriteInt64LittleEndian(f[(p + 16)..], b.PointCount);
            BinaryPrimitives.WriteInt64LittleEndian(f[(p + 24)..], b.MinTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(f[(p + 32)..], b.MaxTimestamp);
        }
    }

    /// <summary>Parses a footer and checks it against its trailer's checksum and the file's layout.</summary>
    /// <param name="bytes">The footer bytes (exactly the trailer's footer length).</param>
    /// <param name="expectedChecksum">The trailer's footer checksum, or null to skip the check.</param>
    /// <param name="footerOffset">The footer's file offset: block offsets must lie before it.</param>
    /// <param name="footer">The footer when valid.</param>
    /// <param name="problem">Why it is rejected, when it is.</param>
    public static bool TryRead(ReadOnlySpan<byte> bytes, uint? expectedChecksum, long footerOffset,
        [NotNullWhen(true)] out SegmentFooter? footer, out string? problem)
    {
        footer = null;
        if (bytes.Length < SegmentFormat.FooterFixedLength || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != SegmentFormat.FooterMagic)
        {
            problem = "the footer does not start with the footer magic \"TSFT\"";
            return false;
        }

        if (expectedChecksum is { } crc && SegmentFormat.Checksum(bytes) != crc)
        {
            problem = "the footer checksum does not match";
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var orgCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var blockCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) != SegmentFormat.CurrentVersion || length != bytes.Length
            || orgCount < 0 || blockCount < 0
            || (long)SegmentFormat.FooterFixedLength + (4L * orgCount) + ((long)SegmentFormat.BlockEntryLength * blockCount) != length)
        {
            problem = "the footer's version, length or counts are inconsistent";
            return false;
        }

        var stats = new SegmentStats
        {
            RecordCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[56..]),
            PointCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[64..]),
            MinTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[72..]),
            MaxTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[80..]),
            MinIntakeTime = BinaryPrimitives.ReadInt64LittleEndian(bytes[88..]),
            MaxIntakeTime = BinaryPrimitives.ReadInt64LittleEndian(bytes[96..]),
            FrameBytes = BinaryPrimitives.ReadInt64LittleEndian(bytes[104..]),
            PayloadBytes = BinaryPrimitives.ReadInt64LittleEndian(bytes[112..]),
        };
        var orgs = new uint[orgCount];
        var p = SegmentFormat.FooterFixedLength;
        for (var i = 0; i < orgCount; i++, p += 4)
        {
            orgs[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[p..]);
        }

        var blocks = new SegmentBlock[blockCount];
        long recordSum = 0;
        for (var i = 0; i < blockCount; i++, p += SegmentFormat.BlockEntryLength)
        {
            blocks[i] = new SegmentBlock(
                BinaryPrimitives.ReadInt64LittleEndian(bytes[p..]),
                BinaryPrimitives.ReadUInt32LittleEndian(bytes[(p + 8)..]),
                BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 12)..]),
                BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 16)..]),
                BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 24)..]),
                BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 32)..]));
            if (blocks[i].Offset < SegmentFormat.HeaderLength || blocks[i].Offset >= footerOffset || blocks[i].RecordCount < 0
                || (i > 0 && blocks[i].Offset <= blocks[i - 1].Offset))
            {
                problem = $"block {i} of the footer's index lies outside the record area";
                return false;
            }

            recordSum += blocks[i].RecordCount;
        }

        if (recordSum != stats.RecordCount || stats.RecordCount < 0)
        {
            problem = "the footer's block index does not add up to its record count";
            return false;
        }

        footer = new SegmentFooter(SyncMarker.Read(bytes[24..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[48..]), stats, orgs, blocks);
        problem = null;
        return true;
    }
}
