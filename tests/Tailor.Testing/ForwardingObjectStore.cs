using System.Buffers;
using Tailor.Storage;

namespace Tailor.Testing;

/// <summary>
/// A store that passes every call, the multipart protocol's included, to another store: derive from it
/// and override only the calls a test or benchmark wants to watch, delay or change.
/// </summary>
/// <param name="inner">The store the calls go to; it must also implement <see cref="IMultipartProtocol"/>.</param>
/// <remarks>Disposing the wrapper leaves the inner store open (its owner disposes it).</remarks>
public abstract class ForwardingObjectStore(IObjectStore inner) : IObjectStore, IMultipartProtocol
{
    private readonly IMultipartProtocol _protocol = inner as IMultipartProtocol
        ?? throw new ArgumentException($"The store {inner.Name} does not expose its multipart protocol.", nameof(inner));

    /// <summary>The store the calls go to.</summary>
    protected IObjectStore Inner { get; } = inner;

    /// <inheritdoc/>
    public virtual string Name => Inner.Name;

    /// <inheritdoc/>
    public virtual StoreCapabilities Capabilities => Inner.Capabilities;

    /// <inheritdoc/>
    public virtual IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => Inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => Inner.GetInfoAsync(key, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        Inner.OpenReadAsync(key, offset, length, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(key, offset, destination, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => Inner.PutAsync(key, content, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        Inner.TryCreateAsync(key, content, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default) => Inner.StartUploadAsync(key, cancellationToken);

    /// <inheritdoc/>
    public virtual Task DeleteAsync(string key, CancellationToken cancellationToken = default) => Inner.DeleteAsync(key, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default) => _protocol.InitiateUploadAsync(key, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        _protocol.UploadPartAsync(key, uploadId, partNumber, data, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default) =>
        _protocol.CompleteUploadAsync(key, uploadId, parts, cancellationToken);

    /// <inheritdoc/>
    public virtual Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default) => _protocol.AbortUploadAsync(key, uploadId, cancellationToken);

    /// <inheritdoc/>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
