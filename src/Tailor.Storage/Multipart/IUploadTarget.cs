using System.Buffers;

namespace Tailor.Storage;

/// <summary>The requests a <see cref="PartedUpload"/> makes, one call per request (retries are the upload's business).</summary>
internal interface IUploadTarget : IMultipartProtocol
{
    /// <summary>Writes a whole object in one request.</summary>
    Task<ObjectInfo> PutAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken);

    /// <summary>Reads an object's metadata, <see langword="null"/> when missing.</summary>
    Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An <see cref="IUploadTarget"/> over the public calls of a store that also speaks <see cref="IMultipartProtocol"/>.</summary>
internal sealed class StoreUploadTarget(IObjectStore store, IMultipartProtocol protocol, ArrayPool<byte> pool) : IUploadTarget
{
    public async Task<ObjectInfo> PutAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken)
    {
        if (content.IsSingleSegment)
        {
            return await store.PutAsync(key, content.First, cancellationToken).ConfigureAwait(false);
        }

        // Only objects smaller than one part come here, so one contiguous copy is bounded by the part size.
        var length = checked((int)content.Length);
        var copy = pool.Rent(length);
        try
        {
            content.CopyTo(copy);
            return await store.PutAsync(key, copy.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            pool.Return(copy);
        }
    }

    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken) => store.GetInfoAsync(key, cancellationToken);

    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default) =>
        protocol.InitiateUploadAsync(key, cancellationToken);

    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        protocol.UploadPartAsync(key, uploadId, partNumber, data, cancellationToken);

    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default) =>
        protocol.CompleteUploadAsync(key, uploadId, parts, cancellationToken);

    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default) =>
        protocol.AbortUploadAsync(key, uploadId, cancellationToken);
}
