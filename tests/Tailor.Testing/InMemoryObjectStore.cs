using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Tailor.Storage;

namespace Tailor.Testing;

/// <summary>
/// An object store in memory, for unit tests of logic and as the base of fault-injection tests. Keeps
/// the <see cref="IObjectStore"/> contract (key rules, listing order, atomic conditional create) and the
/// multipart protocol, and shows which uploads are still open.
/// </summary>
/// <remarks>Never the only proof: contract tests also run against the local and S3 stores.</remarks>
public sealed class InMemoryObjectStore : IObjectStore, IMultipartProtocol
{
    private static int _instances;
    private readonly ConcurrentDictionary<string, Stored> _objects = new();
    private readonly ConcurrentDictionary<string, Upload> _uploads = new();

    /// <summary>Creates an empty store named <c>memory://N</c>.</summary>
    public InMemoryObjectStore() => Name = $"memory://{Interlocked.Increment(ref _instances)}";

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public StoreCapabilities Capabilities => StoreCapabilities.ConditionalCreate;

    /// <summary>Ids of multipart uploads that were started and neither completed nor aborted.</summary>
    public IReadOnlyCollection<string> PendingUploadIds => [.. _uploads.Keys];

    /// <summary>How many objects the store holds.</summary>
    public int Count => _objects.Count;

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ObjectKeyRules.CheckPrefix(prefix) is { } problem)
        {
            throw Invalid(StoreOperation.List, prefix, problem);
        }

        var keys = _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        keys.Sort(ObjectKeyRules.Comparer);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_objects.TryGetValue(key, out var stored))
            {
                yield return stored.Info;
            }
        }

        await Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.Head, key);
        return Task.FromResult(_objects.TryGetValue(key, out var stored) ? stored.Info : null);
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var data = Get(StoreOperation.Get, key);
        var start = (int)Math.Min(offset, data.Length);
        var end = length is { } n ? (int)Math.Min(data.Length, start + n) : data.Length;
        return Task.FromResult<Stream>(new MemoryStream(data, start, end - start, writable: false));
    }

    /// <inheritdoc/>
    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var data = Get(StoreOperation.Get, key);
        var start = (int)Math.Min(offset, data.Length);
        var n = Math.Min(destination.Length, data.Length - start);
        data.AsSpan(start, n).CopyTo(destination.Span);
        return Task.FromResult(n);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.Put, key);
        cancellationToken.ThrowIfCancellationRequested();
        var stored = new Stored(key, content.ToArray());
        _objects[key] = stored;
        return Task.FromResult(stored.Info);
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.Create, key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_objects.TryAdd(key, new Stored(key, content.ToArray())));
    }

    /// <inheritdoc/>
    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.InitiateUpload, key);
        return Task.FromResult<IMultipartUpload>(new BufferedUpload(this, key));
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.Delete, key);
        _objects.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(StoreOperation.InitiateUpload, key);
        var id = Guid.NewGuid().ToString("N");
        _uploads[id] = new Upload(key);
        return Task.FromResult(id);
    }

    /// <inheritdoc/>
    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var upload = FindUpload(StoreOperation.UploadPart, key, uploadId);
        var bytes = data.ToArray();
        upload.Parts[partNumber] = bytes;
        return Task.FromResult(new UploadedPart(partNumber, ETagOf(bytes), bytes.Length));
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var upload = FindUpload(StoreOperation.CompleteUpload, key, uploadId);
        var content = new List<byte>();
        foreach (var part in parts)
        {
            if (!upload.Parts.TryGetValue(part.PartNumber, out var bytes) || ETagOf(bytes) != part.ETag)
            {
                throw new ObjectStoreException(ObjectStoreErrorKind.InvalidRequest, Name, StoreOperation.CompleteUpload, key, $"part {part.PartNumber} is missing or different");
            }

            content.AddRange(bytes);
        }

        _uploads.TryRemove(uploadId, out _);
        var stored = new Stored(key, [.. content]);
        _objects[key] = stored;
        return Task.FromResult(stored.Info);
    }

    /// <inheritdoc/>
    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default)
    {
        _uploads.TryRemove(uploadId, out _);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static string ETagOf(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data).AsSpan(0, 16));

    private void Check(StoreOperation operation, string key)
    {
        if (ObjectKeyRules.Check(key) is { } problem)
        {
            throw Invalid(operation, key, problem);
        }
    }

    private ObjectStoreException Invalid(StoreOperation operation, string key, string problem) =>
        new(ObjectStoreErrorKind.InvalidKey, Name, operation, key, problem);

    private byte[] Get(StoreOperation operation, string key)
    {
        Check(operation, key);
        return _objects.TryGetValue(key, out var stored)
            ? stored.Data
            : throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, operation, key, "no object has this key");
    }

    private Upload FindUpload(StoreOperation operation, string key, string uploadId) =>
        _uploads.TryGetValue(uploadId, out var upload) && upload.Key == key
            ? upload
            : throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, operation, key, $"no upload '{uploadId}' (NoSuchUpload)", errorCode: "NoSuchUpload");

    private sealed class Stored(string key, byte[] data)
    {
        public byte[] Data { get; } = data;

        public ObjectInfo Info { get; } = new(key, data.Length, ETagOf(data), DateTimeOffset.UtcNow);
    }

    private sealed record Upload(string Key)
    {
        public ConcurrentDictionary<int, byte[]> Parts { get; } = new();
    }

    private sealed class BufferedUpload(InMemoryObjectStore store, string key) : IMultipartUpload
    {
        private readonly MemoryStream _buffer = new();
        private bool _finished;
        private long _written;

        public string Key => key;

        public long BytesWritten => Interlocked.Read(ref _written);

        public long BufferedBytes => BytesWritten;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            ThrowIfFinished();
            if (cancellationToken.IsCancellationRequested)
            {
                // Like every store: a cancelled write aborts the upload.
                _finished = true;
                cancellationToken.ThrowIfCancellationRequested();
            }

            _buffer.Write(data.Span);
            Interlocked.Add(ref _written, data.Length);
            return ValueTask.CompletedTask;
        }

        public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
        {
            ThrowIfFinished();
            _finished = true;
            return await store.PutAsync(key, _buffer.ToArray(), cancellationToken);
        }

        private void ThrowIfFinished()
        {
            if (_finished)
            {
                throw new InvalidOperationException($"The upload of '{key}' is already completed or aborted.");
            }
        }

        public Task AbortAsync(CancellationToken cancellationToken = default)
        {
            _finished = true;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _finished = true;
            return ValueTask.CompletedTask;
        }
    }
}
