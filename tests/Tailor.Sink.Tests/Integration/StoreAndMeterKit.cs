using System.Collections.Concurrent;
using Tailor.Storage;

namespace Tailor.Sink.Tests.Integration;

/// <summary>Passes every call to a store and records the key of every object written, to prove no key is written twice.</summary>
internal sealed class RecordingStore(IObjectStore inner) : IObjectStore
{
    private readonly ConcurrentQueue<string> _writes = new();

    public IReadOnlyList<string> Writes => [.. _writes];

    public string Name => inner.Name;

    public StoreCapabilities Capabilities => inner.Capabilities;

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(key, offset, length, cancellationToken);

    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(key, offset, destination, cancellationToken);

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.PutAsync(key, content, cancellationToken);
    }

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.TryCreateAsync(key, content, cancellationToken);
    }

    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.StartUploadAsync(key, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
