using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Storage;

/// <summary>
/// Wraps any store with the <see cref="RetryPolicy"/>: each call, each listing and each part of a
/// streamed upload is retried on transient failures. Named <c>retry(&lt;inner name&gt;)</c>.
/// </summary>
/// <remarks>
/// <para>
/// For stores without retries of their own, and above a <see cref="FaultInjectingObjectStore"/>, whose
/// invented failures it retries exactly as it would real ones. The S3 store already retries every
/// request inside; wrapping it only adds a second, outer budget.
/// </para>
/// <para>
/// A listing that fails midway is restarted and resumes after the last key it returned. Uploads of a
/// store that implements <see cref="IMultipartProtocol"/> are cut into parts here and each part request
/// is retried; other stores' uploads pass through unretried, since a half-consumed streamed write cannot
/// be repeated safely. An open read stream is the inner store's and resumes only if the inner store's
/// streams do. Owns the inner store unless told otherwise, and disposes it.
/// </para>
/// </remarks>
public sealed class RetryingObjectStore : IObjectStore, IMultipartProtocol
{
    private readonly IObjectStore _inner;
    private readonly RetryPolicy _retry;
    private readonly MultipartOptions _multipart;
    private readonly ILogger _logger;
    private readonly bool _leaveInnerOpen;

    /// <summary>Wraps a store.</summary>
    /// <param name="inner">The store whose calls are retried.</param>
    /// <param name="retry">The retry budget; <see langword="null"/> takes the defaults.</param>
    /// <param name="multipart">How uploads are cut into parts when the inner store speaks <see cref="IMultipartProtocol"/>; <see langword="null"/> takes the defaults.</param>
    /// <param name="logger">Where warnings go (an abort that failed); <see langword="null"/> discards them.</param>
    /// <param name="leaveInnerOpen">Whether <see cref="DisposeAsync"/> leaves the inner store open.</param>
    public RetryingObjectStore(IObjectStore inner, RetryOptions? retry = null, MultipartOptions? multipart = null, ILogger? logger = null, bool leaveInnerOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        Name = $"retry({inner.Name})";
        _retry = new RetryPolicy(Name, retry);
        _multipart = (multipart ?? new MultipartOptions()).Validated();
        _logger = logger ?? NullLogger.Instance;
        _leaveInnerOpen = leaveInnerOpen;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public StoreCapabilities Capabilities => _inner.Capabilities;

    /// <summary>The retry policy every call runs through.</summary>
    public RetryPolicy Policy => _retry;

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? last = null;
        var number = 1;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var attemptStarted = Stopwatch.GetTimestamp();
            var progressed = false;
            ObjectStoreException? failure = null;
            var listing = _inner.ListAsync(prefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    (var hasItem, failure) = await TryMoveNextAsync(listing, cancellationToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        break;
                    }

                    if (!hasItem)
                    {
                        ObjectStoreMetrics.RecordRequest(Name, StoreOperation.List, ObjectStoreMetrics.Success, attemptStarted);
                        yield break;
                    }

                    var item = listing.Current;
                    if (last is not null && Utf8KeyComparer.Instance.Compare(item.Key, last) <= 0)
                    {
                        // Already returned before the restart.
                        continue;
                    }

                    last = item.Key;
                    progressed = true;
                    yield return item;
                }
            }
            finally
            {
                await listing.DisposeAsync().ConfigureAwait(false);
            }

            if (progressed)
            {
                // The budget is per stretch without progress, so a long listing survives sporadic failures.
                number = 1;
                started = attemptStarted;
            }

            var delay = _retry.OnFailure(StoreOperation.List, failure!, number, started, attemptStarted);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            number++;
        }
    }

    /// <inheritdoc/>
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Head, key, (_inner, key), static (s, _, ct) => s._inner.GetInfoAsync(s.key, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Get, key, (_inner, key, offset, length), static (s, _, ct) => s._inner.OpenReadAsync(s.key, s.offset, s.length, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Get, key, (_inner, key, offset, destination), static (s, _, ct) => s._inner.ReadAsync(s.key, s.offset, s.destination, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Put, key, (_inner, key, content), static (s, _, ct) => s._inner.PutAsync(s.key, s.content, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Create, key, (_inner, key, content), static async (s, attempt, ct) =>
        {
            if (await s._inner.TryCreateAsync(s.key, s.content, ct).ConfigureAwait(false))
            {
                return true;
            }

            // After a failed attempt, a taken key may be our own write whose answer was lost.
            return attempt > 1 && await CreateConfirmation.HoldsAsync(s._inner.GetInfoAsync, s._inner.ReadAsync, s.key, s.content, ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_inner is IMultipartProtocol protocol)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = new StoreUploadTarget(_inner, protocol, _multipart.BufferPool);
            return Task.FromResult<IMultipartUpload>(new PartedUpload(key, target, _retry, _multipart, _logger));
        }

        return _inner.StartUploadAsync(key, cancellationToken);
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.Delete, key, (_inner, key), static (s, _, ct) => s._inner.DeleteAsync(s.key, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.InitiateUpload, key, (Protocol, key), static (s, _, ct) => s.Item1.InitiateUploadAsync(s.key, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.UploadPart, key, (Protocol, key, uploadId, partNumber, data), static (s, _, ct) => s.Item1.UploadPartAsync(s.key, s.uploadId, s.partNumber, s.data, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.CompleteUpload, key, (Protocol, key, uploadId, parts), static (s, _, ct) => s.Item1.CompleteUploadAsync(s.key, s.uploadId, s.parts, ct), cancellationToken);

    /// <inheritdoc/>
    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync(StoreOperation.AbortUpload, key, (Protocol, key, uploadId), static (s, _, ct) => s.Item1.AbortUploadAsync(s.key, s.uploadId, ct), cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _leaveInnerOpen ? ValueTask.CompletedTask : _inner.DisposeAsync();

    private IMultipartProtocol Protocol => _inner as IMultipartProtocol
        ?? throw new NotSupportedException($"The store '{_inner.Name}' does not expose the multipart protocol.");

    private async ValueTask<(bool HasItem, ObjectStoreException? Failure)> TryMoveNextAsync(IAsyncEnumerator<ObjectInfo> listing, CancellationToken cancellationToken)
    {
        try
        {
            return (await listing.MoveNextAsync().ConfigureAwait(false), null);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, TransientFailures.Timeout(Name, StoreOperation.List, null, _retry.Options.AttemptTimeout, ex));
        }
        catch (ObjectStoreException ex)
        {
            return (false, ex);
        }
    }
}
