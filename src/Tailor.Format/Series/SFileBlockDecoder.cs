using System.IO.Hashing;
using Tailor.Format.Codecs;

namespace Tailor.Format.Series;

/// <summary>
/// Checks and decodes one series block read on its own (by a caller that found its entry through a
/// cached <see cref="SFileIndexPageContents"/>, say): the checksum first, then the codec, then the points
/// against the entry.
/// </summary>
public static class SFileBlockDecoder
{
    [ThreadStatic]
    private static Crc32? t_crc;

    /// <summary>Checks a block's checksum, decodes its points and checks them against the entry.</summary>
    /// <param name="codec">The file's codec.</param>
    /// <param name="entry">The series' index entry.</param>
    /// <param name="block">Exactly the block's bytes (<see cref="SFileIndexEntry.BlockLength"/> of them).</param>
    /// <param name="timestamps">Receives the timestamps; room for <see cref="SFileIndexEntry.PointCount"/>.</param>
    /// <param name="values">Receives the values; same room.</param>
    /// <returns>The number of points written: the entry's point count.</returns>
    /// <exception cref="ArgumentException">A destination is too short.</exception>
    /// <exception cref="SFileFormatException">The block is truncated, fails its checksum or does not decode to its entry's points.</exception>
    public static int Decode(ISeriesCodec codec, in SFileIndexEntry entry, ReadOnlySpan<byte> block, Span<long> timestamps, Span<double> values)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (block.Length != entry.BlockLength)
        {
            SFileFormatException.Throw($"The block of series {entry.Key} is truncated: {block.Length} of {entry.BlockLength} bytes", entry.BlockOffset);
        }

        var codecLength = block.Length - SFileFormat.BlockChecksumLength;
        if (codecLength <= 0 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block[codecLength..]) != SFileFormat.BlockChecksum(entry.Key, block[..codecLength], t_crc ??= new Crc32()))
        {
            SFileFormatException.Throw($"The block of series {entry.Key} fails its checksum", entry.BlockOffset);
        }

        SFileIndexPageDecoder.DecodeBlock(codec, entry, block, timestamps, values);
        return entry.PointCount;
    }
}
