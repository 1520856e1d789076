using System.Buffers;
using Tailor.Format.Codecs;

namespace Tailor.Format.Series;

/// <summary>Options of an <see cref="SFileWriter"/> (and of <see cref="InMemorySFileBuilder"/>).</summary>
public sealed class SFileWriterOptions
{
    /// <summary>The default index page target: 64 KiB of page body.</summary>
    public const int DefaultIndexPageTargetBytes = 64 * 1024;

    /// <summary>The codec of every block; its id goes into the header and footer. Default <see cref="SeriesCodecs.Default"/>.</summary>
    public ISeriesCodec Codec { get; set; } = SeriesCodecs.Default;

    /// <summary>The shard the file belongs to, e.g. <c>org-mod-7</c> (at most 255 UTF-8 bytes). Default empty.</summary>
    public string Shard { get; set; } = string.Empty;

    /// <summary>The start of the compaction window, Unix epoch seconds. Default 0.</summary>
    public long WindowStart { get; set; }

    /// <summary>The window's length in seconds (not negative); 0 means not given. Default 0.</summary>
    public long WindowSeconds { get; set; }

    /// <summary>
    /// An index page closes before the entry that would make its body (60 bytes per entry plus the
    /// entries' metadata) exceed this many bytes; a page always holds at least one entry.
    /// 1 .. <see cref="SFileFormat.MaxIndexPageTargetBytes"/>. Default <see cref="DefaultIndexPageTargetBytes"/> (64 KiB).
    /// </summary>
    /// <remarks>Larger pages mean a smaller footer (36 bytes per page) but more bytes read per lookup.</remarks>
    public int IndexPageTargetBytes { get; set; } = DefaultIndexPageTargetBytes;

    /// <summary>Whether index pages are zstd-compressed where that saves at least 1/8 of the page body. Default true.</summary>
    public bool CompressIndexPages { get; set; } = true;

    /// <summary>The zstd level for index pages. Default 3.</summary>
    public int IndexCompressionLevel { get; set; } = 3;

    /// <summary>The pool the writer rents its buffers from (returned by <see cref="SFileWriter.Complete"/> or
    /// <see cref="SFileWriter.Dispose"/>). Default <see cref="ArrayPool{T}.Shared"/>.</summary>
    public ArrayPool<byte> BufferPool { get; set; } = ArrayPool<byte>.Shared;
}
