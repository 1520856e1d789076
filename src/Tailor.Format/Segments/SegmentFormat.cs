using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Tailor.Format.Segments;

/// <summary>Constants of the segment file format (docs/format.md, "Segment file").</summary>
public static class SegmentFormat
{
    /// <summary>The segment format version this library writes and reads.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>Header magic, ASCII "TSEG" read little-endian.</summary>
    public const uint HeaderMagic = 0x47455354;

    /// <summary>Footer magic, ASCII "TSFT" read little-endian.</summary>
    public const uint FooterMagic = 0x54465354;

    /// <summary>Trailer magic, ASCII "TSTR" read little-endian.</summary>
    public const uint TrailerMagic = 0x52545354;

    /// <summary>The fixed header length.</summary>
    public const int HeaderLength = 56;

    /// <summary>The length of the sync marker.</summary>
    public const int SyncMarkerLength = 16;

    /// <summary>The length of a record header: sync marker, checksum, frame length, ordinal.</summary>
    public const int RecordHeaderLength = 28;

    /// <summary>The length of the fixed part of the footer, before org ids and blocks.</summary>
    public const int FooterFixedLength = 120;

    /// <summary>The length of one block index entry in the footer.</summary>
    public const int BlockEntryLength = 40;

    /// <summary>The fixed trailer length at the very end of a complete file.</summary>
    public const int TrailerLength = 32;

    /// <summary>The file name extension of segment files.</summary>
    public const string FileExtension = ".tseg";

    /// <summary>CRC-32 (IEEE 802.3, as in zlib) of <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Checksum(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);
}

/// <summary>
/// The 16 random bytes a segment writer puts before every record of one file, so a reader can find
/// the next record after damage.
/// </summary>
/// <param name="Low">Bytes 0–7, little-endian.</param>
/// <param name="High">Bytes 8–15, little-endian.</param>
public readonly record struct SyncMarker(ulong Low, ulong High)
{
    /// <summary>A new random marker.</summary>
    public static SyncMarker NewRandom()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return Read(bytes);
    }

    /// <summary>Reads a marker from its 16 bytes.</summary>
    public static SyncMarker Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));

    /// <summary>Writes the marker's 16 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Low);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], High);
    }

    /// <summary>Whether <paramref name="bytes"/> starts with this marker.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Matches(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 16
        && BinaryPrimitives.ReadUInt64LittleEndian(bytes) == Low
        && BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]) == High;

    /// <summary>The marker as 32 lowercase hex digits, in file byte order.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        Write(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}

/// <summary>The fixed header at the start of every segment file.</summary>
/// <param name="Version">The format version.</param>
/// <param name="SyncMarker">The file's sync marker.</param>
/// <param name="WriterId">The writer that created the file (random per writer process).</param>
/// <param name="Sequence">The writer's sequence number of this file.</param>
/// <param name="OpenedAt">When the writer opened the file, Unix milliseconds.</param>
public sealed record SegmentHeader(ushort Version, SyncMarker SyncMarker, ulong WriterId, ulong Sequence, long OpenedAt)
{
    /// <summary>Writes the 56-byte header.</summary>
    public void Write(Span<byte> destination)
    {
        var h = destination[..SegmentFormat.HeaderLength];
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, SegmentFormat.HeaderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], SegmentFormat.HeaderLength);
        SyncMarker.Write(h[8..]);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], WriterId);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(h[40..], OpenedAt);
        BinaryPrimitives.WriteUInt32LittleEndian(h[52..], SegmentFormat.Checksum(h[..52]));
    }

    /// <summary>Parses and checks a header.</summary>
    /// <param name="bytes">At least the first 56 bytes of a file.</param>
    /// <param name="header">The header when valid.</param>
    /// <param name="problem">Why it is rejected, when it is.</param>
    /// <returns>True when the magic, version, length and checksum are right.</returns>
    public static bool TryRead(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SegmentHeader? header, out string? problem)
    {
        header = null;
        if (bytes.Length < SegmentFormat.HeaderLength)
        {
            problem = $"the file is {bytes.Length} bytes long, shorter than the {SegmentFormat.HeaderLength}-byte segment header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != SegmentFormat.HeaderMagic)
        {
            problem = "the file does not start with the segment magic \"TSEG\"";
            return false;
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        if (version != SegmentFormat.CurrentVersion)
        {
            problem = $"segment format version {version} is not supported (this library reads version {SegmentFormat.CurrentVersion})";
            return false;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) != SegmentFormat.HeaderLength
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[52..]) != SegmentFormat.Checksum(bytes[..52]))
        {
            problem = "the segment header checksum does not match";
            return false;
        }

        header = new SegmentHeader(version, SyncMarker.Read(bytes[8..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[40..]));
        problem = null;
        return true;
    }
}

/// <summary>
/// The fixed-size trailer that ends a complete segment file: where the footer is, and how many
/// records the file holds (so the loss is known even when the footer itself is damaged).
/// </summary>
/// <param name="FooterOffset">The file offset of the footer.</param>
/// <param name="FooterLength">The footer length in bytes.</param>
/// <param name="FooterChecksum">CRC-32 of the footer bytes.</param>
/// <param name="RecordCount">The number of records in the file.</param>
public readonly record struct SegmentTrailer(long FooterOffset, int FooterLength, uint FooterChecksum, long RecordCount)
{
    /// <summary>Writes the 32-byte trailer.</summary>
    public void Write(Span<byte> destination)
    {
        var t = destination[..SegmentFormat.TrailerLength];
        BinaryPrimitives.WriteInt64LittleEndian(t, FooterOffset);
        BinaryPrimitives.WriteInt32LittleEndian(t[8..], FooterLength);
        BinaryPrimitives.WriteUInt32LittleEndian(t[12..], FooterChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(t[16..], RecordCount);
        BinaryPrimitives.WriteUInt32LittleEndian(t[24..], SegmentFormat.Checksum(t[..24]));
        BinaryPrimitives.WriteUInt32LittleEndian(t[28..], SegmentFormat.TrailerMagic);
    }

    /// <summary>Reads the trailer from the last 32 bytes of a file of <paramref name="fileLength"/> bytes.</summary>
    /// <returns>False when the magic or checksum is wrong or the footer's position does not fit the file.</returns>
    public static bool TryRead(ReadOnlySpan<byte> last32, long fileLength, out SegmentTrailer trailer)
    {
        trailer = default;
        if (last32.Length < SegmentFormat.TrailerLength
            || BinaryPrimitives.ReadUInt32LittleEndian(last32[28..]) != SegmentFormat.TrailerMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(last32[24..]) != SegmentFormat.Checksum(last32[..24]))
        {
            return false;
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(last32);
        var length = BinaryPrimitives.ReadInt32LittleEndian(last32[8..]);
        var records = BinaryPrimitives.ReadInt64LittleEndian(last32[16..]);
        if (offset < SegmentFormat.HeaderLength || length < SegmentFormat.FooterFixedLength || length > FormatLimits.MaxFooterBytes
            || offset + length + SegmentFormat.TrailerLength != fileLength || records < 0)
        {
            return false;
        }

        trailer = new SegmentTrailer(offset, length, BinaryPrimitives.ReadUInt32LittleEndian(last32[12..]), records);
        return true;
    }
}
