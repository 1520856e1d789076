using System.Buffers;

namespace Tailor.Storage;

/// <summary>How a streamed upload cuts and sends parts.</summary>
public sealed class MultipartOptions
{
    /// <summary>The smallest part size S3 accepts for every part but the last: 5 MiB.</summary>
    public const int MinimumS3PartSize = 5 * 1024 * 1024;

    /// <summary>The most parts one S3 upload may have: 10,000.</summary>
    public const int MaxParts = 10_000;

    /// <summary>
    /// Bytes per part. Default 5 MiB (the S3 minimum), which allows objects up to about 48.8 GiB
    /// (10,000 parts); raise it for larger objects. An object no larger than one part is written with a
    /// single put when completed.
    /// </summary>
    public int PartSize { get; set; } = MinimumS3PartSize;

    /// <summary>
    /// Parts sent at once by one upload. Default 4. Memory per upload stays near
    /// <c>(MaxParallelParts + 1) x PartSize</c>; 1 sends parts one at a time.
    /// </summary>
    public int MaxParallelParts { get; set; } = 4;

    /// <summary>
    /// The largest pooled buffer chunk a part is assembled from. Default 256 KiB. Chunks start at 16 KiB
    /// and double up to this size, so an upload that has received little data holds little memory.
    /// </summary>
    public int MaxChunkSize { get; set; } = 256 * 1024;

    /// <summary>
    /// How long an abort (after a failure, a cancellation or a dispose) may take. It is not cancelled by
    /// the caller's token, so that a cancelled upload still leaves no parts behind. Default 30 s.
    /// </summary>
    public TimeSpan AbortTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The pool part buffers are rented from. Default <see cref="ArrayPool{T}.Shared"/>.</summary>
    public ArrayPool<byte> BufferPool { get; set; } = ArrayPool<byte>.Shared;

    internal MultipartOptions Validated()
    {
        if (PartSize < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, "A part must be at least 1 KiB (S3 requires 5 MiB).");
        }

        if (MaxParallelParts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxParallelParts), MaxParallelParts, "At least one part must be allowed in flight.");
        }

        if (MaxChunkSize < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxChunkSize), MaxChunkSize, "Chunks must be at least 4 KiB.");
        }

        if (AbortTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AbortTimeout), AbortTimeout, "The abort timeout must be positive.");
        }

        ArgumentNullException.ThrowIfNull(BufferPool);
        return this;
    }
}
