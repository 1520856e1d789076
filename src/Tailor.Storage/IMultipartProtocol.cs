using System.Buffers;

namespace Tailor.Storage;

/// <summary>
/// The request-level multipart protocol under <see cref="IMultipartUpload"/>: one method call is one
/// request. Stores implement it so that decorators (retries, fault injection) can act on single part
/// uploads; engines use <see cref="IObjectStore.StartUploadAsync"/> instead.
/// </summary>
/// <remarks>
/// Semantics follow S3: parts are numbered from 1 to 10,000, every part but the last should be at least
/// 5 MiB on S3, uploading a part number again replaces it, and the object is made of the parts named in
/// <see cref="CompleteUploadAsync"/> in part number order.
/// </remarks>
public interface IMultipartProtocol
{
    /// <summary>Starts a multipart upload.</summary>
    /// <param name="key">The key the object will have.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The upload id.</returns>
    Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Uploads one part.</summary>
    /// <param name="key">The key given to <see cref="InitiateUploadAsync"/>.</param>
    /// <param name="uploadId">The upload id.</param>
    /// <param name="partNumber">The part number, 1 to 10,000.</param>
    /// <param name="data">The part's bytes; read during the call only, never retained.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The part's number, ETag and size, to pass to <see cref="CompleteUploadAsync"/>.</returns>
    Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Completes an upload: the object becomes visible, made of the given parts in part number order.</summary>
    /// <param name="key">The key given to <see cref="InitiateUploadAsync"/>.</param>
    /// <param name="uploadId">The upload id.</param>
    /// <param name="parts">Every part of the object, in ascending part number order.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object's metadata.</returns>
    Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default);

    /// <summary>Aborts an upload and discards its parts. Aborting an unknown or finished upload succeeds.</summary>
    /// <param name="key">The key given to <see cref="InitiateUploadAsync"/>.</param>
    /// <param name="uploadId">The upload id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the parts are discarded.</returns>
    Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default);
}

/// <summary>One uploaded part of a multipart upload.</summary>
/// <param name="PartNumber">The part number, 1 to 10,000.</param>
/// <param name="ETag">The ETag the store gave the part (without quotes).</param>
/// <param name="Size">The part's length in bytes.</param>
public readonly record struct UploadedPart(int PartNumber, string ETag, long Size);
