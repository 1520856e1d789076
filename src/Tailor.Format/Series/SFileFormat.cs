using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Tailor.Format.Series;

/// <summary>Constants of the S-file format (docs/format.md, "S-file").</summary>
public static class SFileFormat
{
    /// <summary>The S-file format version this library writes and reads.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>Header magic, ASCII "TSFH" read little-endian.</summary>
    public const uint HeaderMagic = 0x48465354;

    /// <summary>Index page magic, ASCII "TSFI" read little-endian.</summary>
    public const uint IndexPageMagic = 0x49465354;

    /// <summary>Footer magic, ASCII "TSFF" read little-endian.</summary>
    public const uint FooterMagic = 0x46465354;

    /// <summary>Trailer magic, ASCII "TSFE" read little-endian.</summary>
    public const uint TrailerMagic = 0x45465354;

    /// <summary>The header length without the shard name: 36 bytes (32 fixed, then the name, then a 4-byte checksum).</summary>
    public const int HeaderFixedLength = 36;

    /// <summary>The longest shard name, in UTF-8 bytes: 255.</summary>
    public const int MaxShardNameBytes = 255;

    /// <summary>The checksum that ends each series block: 4 bytes.</summary>
    public const int BlockChecksumLength = 4;

    /// <summary>The length of an index page's header, before its stored body.</summary>
    public const int IndexPageHeaderLength = 20;

    /// <summary>An index page's bytes besides its stored body: the header and the trailing checksum.</summary>
    public const int IndexPageOverhead = IndexPageHeaderLength + 4;

    /// <summary>The length of one index entry in a page body: 60 bytes.</summary>
    public const int IndexEntryLength = 60;

    /// <summary>The largest index page body (decompressed) a reader accepts: 16 MiB.</summary>
    public const int MaxIndexPageBodyBytes = 16 * 1024 * 1024;

    /// <summary>The largest page target a writer accepts: 8 MiB (so every page body stays under <see cref="MaxIndexPageBodyBytes"/>).</summary>
    public const int MaxIndexPageTargetBytes = 8 * 1024 * 1024;

    /// <summary>The length of the fixed part of the footer, before the page directory: 128 bytes.</summary>
    public const int FooterFixedLength = 128;

    /// <summary>The length of one page directory entry in the footer: 36 bytes.</summary>
    public const int PageDirectoryEntryLength = 36;

    /// <summary>The largest footer a reader accepts: 64 MiB.</summary>
    public const int MaxFooterBytes = 64 * 1024 * 1024;

    /// <summary>The fixed trailer length at the very end of every S-file: 32 bytes.</summary>
    public const int TrailerLength = 32;

    /// <summary>Index page encoding: the body is stored as it is.</summary>
    public const byte PagePlain = 0;

    /// <summary>Index page encoding: the body is stored as one zstd frame.</summary>
    public const byte PageZstd = 1;

    /// <summary>The file name extension of S-files.</summary>
    public const string FileExtension = ".tsf";

    /// <summary>CRC-32 (IEEE 802.3, as in zlib) of <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Checksum(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);

    /// <summary>The checksum of a series block: CRC-32 of the key's 20 bytes followed by the codec's block.</summary>
    /// <param name="key">The series key (binds the block to the index entry that points at it).</param>
    /// <param name="codecBlock">The codec's bytes, without the checksum.</param>
    /// <param name="crc">A reusable CRC instance (reset on return).</param>
    /// <returns>The checksum.</returns>
    internal static uint BlockChecksum(in SeriesKey key, ReadOnlySpan<byte> codecBlock, Crc32 crc)
    {
        ArgumentNullException.ThrowIfNull(crc);
        Span<byte> keyBytes = stackalloc byte[SeriesKey.EncodedLength];
        key.Write(keyBytes);
        crc.Reset();
        crc.Append(keyBytes);
        crc.Append(codecBlock);
        var value = crc.GetCurrentHashAsUInt32();
        crc.Reset();
        return value;
    }
}

/// <summary>
/// An S-file is damaged or is not an S-file: a checksum does not match, a length or offset points
/// outside its area, the file is truncated, or the bytes are not what the format says.
/// </summary>
/// <remarks>S-files are outputs Tailor wrote and verified, so every reader is strict: the first damage found
/// is reported with its file offset, and nothing after it is trusted.</remarks>
public sealed class SFileFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong (the offset is appended).</param>
    /// <param name="offset">The file offset of the damaged structure.</param>
    public SFileFormatException(string message, long offset)
        : base($"{message} (at file offset {offset})")
    {
        Offset = offset;
    }

    /// <summary>Creates the exception without an offset.</summary>
    public SFileFormatException()
    {
        Offset = -1;
    }

    /// <summary>Creates the exception without an offset.</summary>
    /// <param name="message">What is wrong.</param>
    public SFileFormatException(string message)
        : base(message)
    {
        Offset = -1;
    }

    /// <summary>Creates the exception without an offset.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public SFileFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>The file offset of the damaged structure, or -1 when unknown.</summary>
    public long Offset { get; }

    [DoesNotReturn]
    internal static void Throw(string message, long offset) => throw new SFileFormatException(message, offset);
}

/// <summary>The header at the start of every S-file.</summary>
/// <param name="Version">The format version.</param>
/// <param name="CodecId">The id of the series codec every block of the file is encoded with.</param>
/// <param name="Shard">The shard the file belongs to (e.g. <c>org-mod-7</c>), or empty.</param>
/// <param name="WindowStart">The start of the compaction window, Unix epoch seconds.</param>
/// <param name="WindowSeconds">The window's length in seconds; 0 when not given.</param>
public sealed record SFileHeader(ushort Version, byte CodecId, string Shard, long WindowStart, long WindowSeconds)
{
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The header's length in bytes: 36 plus the shard name's UTF-8 length. The first block starts here.</summary>
    public int Length => SFileFormat.HeaderFixedLength + StrictUtf8.GetByteCount(Shard);

    /// <summary>Checks that <paramref name="shard"/> fits a header and returns its UTF-8 byte count.</summary>
    internal static int ValidateShard(string shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(shard);
        }
        catch (System.Text.EncoderFallbackException e)
        {
            throw new ArgumentException("The shard name is not valid UTF-16 text.", nameof(shard), e);
        }

        if (bytes > SFileFormat.MaxShardNameBytes)
        {
            throw new ArgumentException($"The shard name is {bytes} UTF-8 bytes long; at most {SFileFormat.MaxShardNameBytes} are allowed.", nameof(shard));
        }

        return bytes;
    }

    /// <summary>Writes the header into <paramref name="destination"/> (at least <see cref="Length"/> bytes).</summary>
    /// <param name="destination">Where the header goes.</param>
    /// <returns>The number of bytes written.</returns>
    public int Write(Span<byte> destination)
    {
        var nameLength = ValidateShard(Shard);
        var length = SFileFormat.HeaderFixedLength + nameLength;
        var h = destination[..length];
        h[..32].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, SFileFormat.HeaderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)length);
        h[8] = CodecId;
        h[9] = (byte)nameLength;
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], WindowStart);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], WindowSeconds);
        StrictUtf8.GetBytes(Shard, h.Slice(32, nameLength));
        BinaryPrimitives.WriteUInt32LittleEndian(h[(32 + nameLength)..], SFileFormat.Checksum(h[..(32 + nameLength)]));
        return length;
    }

    /// <summary>Parses and checks the header at the start of <paramref name="file"/>.</summary>
    /// <param name="file">The file's first bytes: at least the header (291 bytes always suffice).</param>
    /// <returns>The header.</returns>
    /// <exception cref="SFileFormatException">The bytes are not an S-file header of a supported version, or are damaged.</exception>
    public static SFileHeader Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(file) != SFileFormat.HeaderMagic)
        {
            SFileFormatException.Throw("Not an S-file: the file does not start with the magic \"TSFH\"", 0);
        }

        if (file.Length < SFileFormat.HeaderFixedLength)
        {
            SFileFormatException.Throw($"The S-file is truncated: {file.Length} bytes cannot hold a header", 0);
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(file[4..]);
        if (version != SFileFormat.CurrentVersion)
        {
            SFileFormatException.Throw($"S-file format version {version} is not supported (this library reads version {SFileFormat.CurrentVersion})", 4);
        }

        int nameLength = file[9];
        var length = SFileFormat.HeaderFixedLength + nameLength;
        if (BinaryPrimitives.ReadUInt16LittleEndian(file[6..]) != length)
        {
            SFileFormatException.Throw("The S-file header's length does not match its shard name length", 6);
        }

        if (file.Length < length)
        {
            SFileFormatException.Throw($"The S-file is truncated: {file.Length} bytes cannot hold the {length}-byte header", 0);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(file[(32 + nameLength)..]) != SFileFormat.Checksum(file[..(32 + nameLength)]))
        {
            SFileFormatException.Throw("The S-file header checksum does not match", 0);
        }

        if (file[8] == 0 || file[10..16].IndexOfAnyExcept((byte)0) >= 0)
        {
            SFileFormatException.Throw("The S-file header has codec id 0 or nonzero reserved bytes", 8);
        }

        var windowSeconds = BinaryPrimitives.ReadInt64LittleEndian(file[24..]);
        if (windowSeconds < 0)
        {
            SFileFormatException.Throw("The S-file header has a negative window length", 24);
        }

        string shard;
        try
        {
            shard = StrictUtf8.GetString(file.Slice(32, nameLength));
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new SFileFormatException("The S-file header's shard name is not valid UTF-8", 32);
        }

        return new SFileHeader(version, file[8], shard, BinaryPrimitives.ReadInt64LittleEndian(file[16..]), windowSeconds);
    }
}

/// <summary>The fixed 32-byte trailer that ends every S-file: where the footer is and how long it is.</summary>
/// <param name="FooterOffset">The file offset of the footer.</param>
/// <param name="FooterLength">The footer length in bytes.</param>
/// <param name="FooterChecksum">CRC-32 of the footer bytes.</param>
/// <param name="SeriesCount">The number of series in the file (the same as the footer's).</param>
public readonly record struct SFileTrailer(long FooterOffset, int FooterLength, uint FooterChecksum, long SeriesCount)
{
    /// <summary>Writes the 32-byte trailer.</summary>
    /// <param name="destination">At least <see cref="SFileFormat.TrailerLength"/> bytes.</param>
    public void Write(Span<byte> destination)
    {
        var t = destination[..SFileFormat.TrailerLength];
        BinaryPrimitives.WriteInt64LittleEndian(t, FooterOffset);
        BinaryPrimitives.WriteInt32LittleEndian(t[8..], FooterLength);
        BinaryPrimitives.WriteUInt32LittleEndian(t[12..], FooterChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(t[16..], SeriesCount);
        BinaryPrimitives.WriteUInt32LittleEndian(t[24..], SFileFormat.Checksum(t[..24]));
        BinaryPrimitives.WriteUInt32LittleEndian(t[28..], SFileFormat.TrailerMagic);
    }

    /// <summary>Reads and checks the trailer of a file of <paramref name="fileLength"/> bytes.</summary>
    /// <param name="last32">The file's last 32 bytes.</param>
    /// <param name="fileLength">The file's length.</param>
    /// <returns>The trailer.</returns>
    /// <exception cref="SFileFormatException">The magic or checksum is wrong, or the footer does not fit the file.</exception>
    public static SFileTrailer Read(ReadOnlySpan<byte> last32, long fileLength)
    {
        var at = fileLength - SFileFormat.TrailerLength;
        if (fileLength < SFileFormat.HeaderFixedLength + SFileFormat.FooterFixedLength + SFileFormat.TrailerLength || last32.Length < SFileFormat.TrailerLength)
        {
            SFileFormatException.Throw($"Not an S-file: {fileLength} bytes are too few for a header, footer and trailer", 0);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(last32[28..]) != SFileFormat.TrailerMagic)
        {
            SFileFormatException.Throw("The S-file has no trailer: the last 4 bytes are not \"TSFE\" (truncated, or not an S-file)", at + 28);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(last32[24..]) != SFileFormat.Checksum(last32[..24]))
        {
            SFileFormatException.Throw("The S-file trailer checksum does not match", at);
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(last32);
        var length = BinaryPrimitives.ReadInt32LittleEndian(last32[8..]);
        var series = BinaryPrimitives.ReadInt64LittleEndian(last32[16..]);
        if (length < SFileFormat.FooterFixedLength || length > SFileFormat.MaxFooterBytes || offset < SFileFormat.HeaderFixedLength
            || offset + length != at || series < 0)
        {
            SFileFormatException.Throw($"The S-file trailer's footer position ({offset}, {length} bytes) does not fit a file of {fileLength} bytes", at);
        }

        return new SFileTrailer(offset, length, BinaryPrimitives.ReadUInt32LittleEndian(last32[12..]), series);
    }
}
