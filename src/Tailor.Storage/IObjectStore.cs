namespace Tailor.Storage;

/// <summary>
/// A flat namespace of immutable objects addressed by key: a local folder or an S3 bucket (with an
/// optional prefix). Both engines read and write only through this interface.
/// </summary>
/// <remarks>
/// <para>
/// Keys are relative to the store's root, use <c>/</c> between segments and are validated by every
/// call: an empty key, an empty segment (<c>a//b</c>, a leading or trailing <c>/</c>), a <c>.</c> or
/// <c>..</c> segment, a backslash or a control character is refused with
/// <see cref="ObjectStoreErrorKind.InvalidKey"/>, so no key can name anything outside the store.
/// </para>
/// <para>
/// Every failure is an <see cref="ObjectStoreException"/>; cancellation through a token is an
/// <see cref="OperationCanceledException"/>. Implementations are safe for concurrent use by any
/// number of callers. The store owns its connections and buffers and releases them in
/// <see cref="IAsyncDisposable.DisposeAsync"/>; a caller must have finished or disposed every stream
/// and upload it opened before disposing the store.
/// </para>
/// </remarks>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>The store's URI for logs and errors, e.g. <c>s3://bucket/prefix?endpoint=http://127.0.0.1:9000</c>; never contains credentials.</summary>
    string Name { get; }

    /// <summary>Guarantees this store gives beyond the common contract.</summary>
    StoreCapabilities Capabilities { get; }

    /// <summary>Lists every object whose key starts with <paramref name="prefix"/>, in ordinal order of the keys' UTF-8 bytes.</summary>
    /// <param name="prefix">A key prefix; empty lists the whole store. It need not end at a <c>/</c>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>
    /// A lazy sequence: pages are requested as the caller advances, so any number of keys can be listed
    /// in bounded memory. Objects written or deleted during the listing may or may not appear.
    /// </returns>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Reads an object's size, ETag and modification time.</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The object's metadata, or <see langword="null"/> when no object has this key.</returns>
    Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Opens a stream over the bytes of an object from <paramref name="offset"/>, streamed as the caller reads.</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="offset">The first byte to read. At or past the end of the object the stream is empty.</param>
    /// <param name="length">How many bytes at most to read; <see langword="null"/> reads to the end. Zero gives an empty stream.</param>
    /// <param name="cancellationToken">Cancels opening the stream (reads take their own tokens).</param>
    /// <returns>
    /// A read-only, forward-only stream that never holds the whole range in memory. The caller owns it and
    /// must dispose it; it stays usable after this call's token is cancelled. A stream from a remote store
    /// resumes from where it stopped when the connection breaks, within the store's retry budget, and
    /// fails with <see cref="ObjectStoreErrorKind.Conflict"/> if the object was replaced meanwhile.
    /// </returns>
    /// <exception cref="ObjectStoreException"><see cref="ObjectStoreErrorKind.NotFound"/> when no object has this key.</exception>
    Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default);

    /// <summary>Reads bytes of an object from <paramref name="offset"/> into a caller's buffer.</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="offset">The first byte to read.</param>
    /// <param name="destination">Where the bytes go; its length is how many are requested.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// How many bytes were read: <c>destination.Length</c>, or fewer only when the object ends first
    /// (zero at or past its end).
    /// </returns>
    /// <exception cref="ObjectStoreException"><see cref="ObjectStoreErrorKind.NotFound"/> when no object has this key.</exception>
    Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Writes a whole object in one request, replacing any object with this key.</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="content">The object's bytes; read during the call only, never retained.</param>
    /// <param name="cancellationToken">Cancels the call; a cancelled put leaves the previous object (or none).</param>
    /// <returns>The written object's metadata.</returns>
    /// <remarks>Atomic: readers see the previous object or the complete new one, never a part.</remarks>
    Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Writes a whole object only if no object has this key (S3 <c>If-None-Match: *</c>).</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="content">The object's bytes; read during the call only, never retained.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see langword="true"/> when this call wrote the object; <see langword="false"/> when an object with
    /// this key already existed, which is then left as it was.
    /// </returns>
    /// <remarks>
    /// Every store leaves an object that existed before the call untouched. Only a store with
    /// <see cref="StoreCapabilities.ConditionalCreate"/> also settles a race between creators of one
    /// missing key (exactly one wins); on others, racing creators may all get <see langword="true"/> and
    /// the last complete write wins, so callers racing there must write identical content. When a retry
    /// finds an object byte-identical to <paramref name="content"/> after an attempt whose answer was
    /// lost, the call reports <see langword="true"/>: that attempt most likely wrote it.
    /// </remarks>
    Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Starts a streamed write of an object of any size (an S3 multipart upload).</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// An upload that owns its buffers until it is completed, aborted or disposed. Starting one makes no
    /// request and holds no buffer: both wait for the first data.
    /// </returns>
    Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object. Deleting a missing key succeeds (deletes are idempotent).</summary>
    /// <param name="key">The object's key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the object is gone.</returns>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}
