namespace Tailor.Storage;

/// <summary>
/// A streamed write of one object: bytes are appended with <see cref="WriteAsync"/> and the object
/// appears, whole, only when <see cref="CompleteAsync"/> succeeds.
/// </summary>
/// <remarks>
/// <para>
/// The upload owns the buffers holding data not yet sent (pooled, rented on first use, returned when
/// sent) and at most <c>(MaxParallelParts + 1) x PartSize</c> bytes are held at once; a full part is
/// sent in the background while the caller keeps writing, and <see cref="WriteAsync"/> waits (back
/// pressure) when the parallel limit is reached.
/// </para>
/// <para>
/// One caller at a time: <see cref="WriteAsync"/>, <see cref="CompleteAsync"/> and
/// <see cref="AbortAsync"/> must not overlap. <see cref="BytesWritten"/> and
/// <see cref="BufferedBytes"/> may be read from any thread at any time.
/// </para>
/// <para>
/// Failure never leaves a partial object or orphan parts behind (as far as the store allows aborts):
/// when a part fails after its retries, when a write or completion is cancelled, or when the upload is
/// disposed without completing, it is aborted. After a failure every further call throws.
/// </para>
/// </remarks>
public interface IMultipartUpload : IAsyncDisposable
{
    /// <summary>The key the object will have.</summary>
    string Key { get; }

    /// <summary>How many bytes <see cref="WriteAsync"/> has accepted so far.</summary>
    long BytesWritten { get; }

    /// <summary>
    /// How many accepted bytes the upload holds in memory right now: the part being filled plus the parts
    /// being sent. Pooled capacity exceeds it by at most one buffer chunk per part. Zero for a store that
    /// writes through (a local folder).
    /// </summary>
    long BufferedBytes { get; }

    /// <summary>Appends bytes to the object.</summary>
    /// <param name="data">The bytes; copied before the returned task completes, so the caller may reuse the buffer then.</param>
    /// <param name="cancellationToken">Cancels the write; a cancelled write aborts the upload.</param>
    /// <returns>A task that completes when the bytes are accepted (possibly after waiting for parts in flight).</returns>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Sends what is left, waits for every part and makes the object visible.</summary>
    /// <param name="cancellationToken">Cancels the completion; a cancelled completion aborts the upload.</param>
    /// <returns>The object's metadata. An object smaller than one part may have been written with a single put.</returns>
    Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>Discards the upload and everything sent so far. Does nothing after a successful completion or an earlier abort.</summary>
    /// <param name="cancellationToken">
    /// Cancels waiting; the abort request itself is bounded by the store's abort timeout instead, so a
    /// cancelled caller still leaves no orphan parts.
    /// </param>
    /// <returns>A task that completes when the store has discarded the parts.</returns>
    /// <exception cref="ObjectStoreException">The store refused or failed the abort: parts may remain until the bucket's lifecycle rules remove them.</exception>
    Task AbortAsync(CancellationToken cancellationToken = default);
}
