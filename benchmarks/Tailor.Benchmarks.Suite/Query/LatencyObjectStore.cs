using System.Runtime.CompilerServices;
using Tailor.Storage;

namespace Tailor.Benchmarks.Query;

/// <summary>
/// A store that answers every call after a fixed delay, as a remote object store's first byte comes
/// after a round trip, and counts the calls: the remote store the query benchmark's lookup and
/// long-range figures are measured through.
/// </summary>
/// <remarks>
/// The delay is an asynchronous wait per call (a listing waits once, before its first key), so
/// concurrent calls overlap their delays as requests in flight to S3 do. Reads of a stream opened by
/// <see cref="OpenReadAsync"/> are not delayed again: the stream is one request. Thread-safe.
/// </remarks>
/// <param name="inner">The store that holds the objects; not disposed by this one.</param>
/// <param name="latency">The delay added to every call.</param>
public sealed class LatencyObjectStore(IObjectStore inner, TimeSpan latency) : IObjectStore
{
    private long _rangeReads;
    private long _manifestReads;
    private long _infos;
    private long _lists;
    private long _writes;

    /// <inheritdoc />
    public string Name => $"{inner.Name} (+{latency.TotalMilliseconds:F0} ms per call)";

    /// <inheritdoc />
    public StoreCapabilities Capabilities => inner.Capabilities;

    /// <summary>The delay added to every call.</summary>
    public TimeSpan Latency => latency;

    /// <summary>Range reads so far: <see cref="ReadAsync"/> and <see cref="OpenReadAsync"/> calls (GETs).</summary>
    public long RangeReads => Interlocked.Read(ref _rangeReads);

    /// <summary>Range reads of manifests so far (keys ending in <c>_manifest.json</c>, found or not); the rest of <see cref="RangeReads"/> are of S-files.</summary>
    public long ManifestReads => Interlocked.Read(ref _manifestReads);

    /// <summary>Every call so far: range reads, metadata reads (HEADs), listings and writes.</summary>
    public long Calls => RangeReads + Interlocked.Read(ref _infos) + Interlocked.Read(ref _lists) + Interlocked.Read(ref _writes);

    /// <summary>Metadata reads so far (<see cref="GetInfoAsync"/>, HEADs).</summary>
    public long InfoReads => Interlocked.Read(ref _infos);

    /// <summary>Listings started so far.</summary>
    public long Listings => Interlocked.Read(ref _lists);

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _lists);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        await foreach (var info in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _infos);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.GetInfoAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _rangeReads);
        CountManifest(key);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _rangeReads);
        CountManifest(key);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.ReadAsync(key, offset, destination, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.PutAsync(key, content, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.TryCreateAsync(key, content, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return await inner.StartUploadAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        await inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private void CountManifest(string key)
    {
        if (key.EndsWith(ObjectKeys.ManifestFileName, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _manifestReads);
        }
    }

    /// <summary>Does nothing: the inner store belongs to the caller.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
