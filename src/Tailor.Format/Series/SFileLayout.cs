namespace Tailor.Format.Series;

/// <summary>
/// What the tail of an S-file says: the trailer and the footer with its stats and page directory, so
/// every index page and block can be found. Reading it takes one ranged read of the file's tail
/// (two when the footer is larger than the first read).
/// </summary>
public sealed class SFileLayout
{
    private SFileLayout(long fileLength, SFileTrailer trailer, SFileFooter footer)
    {
        FileLength = fileLength;
        Trailer = trailer;
        Footer = footer;
    }

    /// <summary>The number of tail bytes to read first: the trailer plus a typical footer (64 KiB).</summary>
    /// <remarks>The page directory costs 36 bytes per index page, so 64 KiB holds the footer of files up
    /// to 1,816 pages: with the default 64 KiB page target and about 90 bytes of metadata per series
    /// (some 430 entries per page), about 780,000 series.</remarks>
    public const int DefaultTailBytes = 64 * 1024;

    /// <summary>The file's length.</summary>
    public long FileLength { get; }

    /// <summary>The trailer.</summary>
    public SFileTrailer Trailer { get; }

    /// <summary>The footer.</summary>
    public SFileFooter Footer { get; }

    /// <summary>The file offset of the footer.</summary>
    public long FooterOffset => Trailer.FooterOffset;

    /// <summary>The number of tail bytes that hold the footer and trailer.</summary>
    public int TailLength => Trailer.FooterLength + SFileFormat.TrailerLength;

    /// <summary>Builds the layout from the last bytes of the file.</summary>
    /// <param name="tail">The file's last bytes (any number; <see cref="DefaultTailBytes"/> or the whole file is typical).</param>
    /// <param name="fileLength">The file's length.</param>
    /// <param name="tailBytesNeeded">
    /// The number of tail bytes the footer and trailer take. When it is larger than <paramref name="tail"/>,
    /// the method returns null: read that many bytes from the end of the file and call again.
    /// </param>
    /// <returns>The layout, or null when more tail bytes are needed.</returns>
    /// <exception cref="SFileFormatException">The trailer or footer is damaged, or the file is not an S-file.</exception>
    public static SFileLayout? Parse(ReadOnlySpan<byte> tail, long fileLength, out int tailBytesNeeded)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        if (tail.Length > fileLength)
        {
            throw new ArgumentException("The tail is longer than the file.", nameof(tail));
        }

        if (tail.Length < SFileFormat.TrailerLength)
        {
            tailBytesNeeded = (int)Math.Min(fileLength, SFileFormat.TrailerLength);
            if (fileLength >= SFileFormat.TrailerLength)
            {
                return null;
            }

            SFileFormatException.Throw($"Not an S-file: {fileLength} bytes are too few for a header, footer and trailer", 0);
        }

        var trailer = SFileTrailer.Read(tail[^SFileFormat.TrailerLength..], fileLength);
        tailBytesNeeded = trailer.FooterLength + SFileFormat.TrailerLength;
        if (tailBytesNeeded > tail.Length)
        {
            return null;
        }

        var footer = SFileFooter.Read(tail.Slice(tail.Length - tailBytesNeeded, trailer.FooterLength), trailer);
        return new SFileLayout(fileLength, trailer, footer);
    }

    /// <summary>Builds the layout of a file held whole in memory.</summary>
    /// <param name="file">Every byte of the file.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="SFileFormatException">The trailer or footer is damaged, or the file is not an S-file.</exception>
    public static SFileLayout Read(ReadOnlySpan<byte> file) =>
        Parse(file, file.Length, out _) ?? throw new InvalidOperationException("A whole file always holds its footer.");
}
