using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Storage;

/// <summary>
/// Wraps any store and makes a configured share of its calls fail with the errors real stores give
/// (503 Slow Down, 500, 503, connection resets, timeouts), adds latency, and is seeded for
/// repeatability. For game-day tests of everything built on <see cref="IObjectStore"/>. Named
/// <c>faults(&lt;inner name&gt;)</c>.
/// </summary>
/// <remarks>
/// <para>
/// An injected failure is the same <see cref="ObjectStoreException"/> (kind, HTTP status, error code,
/// <see cref="ObjectStoreException.IsRetryable"/>, wording) the S3 store raises for the real one, so a
/// <see cref="RetryPolicy"/> cannot tell them apart. Failures are injected before the inner call, or,
/// for a share of writes (<see cref="FaultInjectionOptions.LostAnswerShare"/>), after it: the write took
/// effect but its answer was lost.
/// </para>
/// <para>
/// The decorator does not retry: put a <see cref="RetryingObjectStore"/> above it. When the inner store
/// implements <see cref="IMultipartProtocol"/>, uploads are cut into parts here and every part request
/// can fail on its own; otherwise the upload's writes and completion can fail (before reaching the inner
/// upload). Owns the inner store unless told otherwise, and disposes it.
/// </para>
/// </remarks>
public sealed class FaultInjectingObjectStore : IObjectStore, IMultipartProtocol
{
    private readonly IObjectStore _inner;
    private readonly FaultInjectionOptions _options;
    private readonly Random _random;
    private readonly RetryPolicy _noRetry;
    private readonly bool _leaveInnerOpen;
    private readonly long[] _injected = new long[Enum.GetValues<StoreOperation>().Length];

    /// <summary>Wraps a store.</summary>
    /// <param name="inner">The store whose calls pass through.</param>
    /// <param name="options">What to inject; kept and read on every call.</param>
    /// <param name="leaveInnerOpen">Whether <see cref="DisposeAsync"/> leaves the inner store open.</param>
    public FaultInjectingObjectStore(IObjectStore inner, FaultInjectionOptions options, bool leaveInnerOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        _options = options;
        _options.Multipart.Validated();
        _random = new Random(options.Seed);
        _leaveInnerOpen = leaveInnerOpen;
        Name = $"faults({inner.Name})";
        _noRetry = new RetryPolicy(Name, RetryOptions.None);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public StoreCapabilities Capabilities => _inner.Capabilities;

    /// <summary>The options in use; changes take effect on the next call.</summary>
    public FaultInjectionOptions Options => _options;

    /// <summary>How many failures were injected so far, all operations together.</summary>
    public long InjectedFailures
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _injected.Length; i++)
            {
                total += Interlocked.Read(ref _injected[i]);
            }

            return total;
        }
    }

    /// <summary>How many failures were injected so far into one operation.</summary>
    /// <param name="operation">The operation.</param>
    /// <returns>The count.</returns>
    public long InjectedFailuresOf(StoreOperation operation) => Interlocked.Read(ref _injected[(int)operation]);

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await BeforeAsync(StoreOperation.List, prefix, cancellationToken).ConfigureAwait(false);
        var count = 0;
        await foreach (var item in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
            if (++count % Math.Max(1, _options.ListPageSize) == 0)
            {
                await BeforeAsync(StoreOperation.List, prefix, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Head, key, (_inner, key), static (s, ct) => s._inner.GetInfoAsync(s.key, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Get, key, (_inner, key, offset, length), static (s, ct) => s._inner.OpenReadAsync(s.key, s.offset, s.length, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Get, key, (_inner, key, offset, destination), static (s, ct) => s._inner.ReadAsync(s.key, s.offset, s.destination, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Put, key, (_inner, key, content), static (s, ct) => s._inner.PutAsync(s.key, s.content, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Create, key, (_inner, key, content), static (s, ct) => s._inner.TryCreateAsync(s.key, s.content, ct), cancellationToken);

    /// <inheritdoc/>
    public async Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_inner is IMultipartProtocol)
        {
            var target = new StoreUploadTarget(this, this, _options.Multipart.BufferPool);
            return new PartedUpload(key, target, _noRetry, _options.Multipart, NullLogger.Instance);
        }

        var upload = await _inner.StartUploadAsync(key, cancellationToken).ConfigureAwait(false);
        return new FaultyUpload(this, upload);
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.Delete, key, (_inner, key), static async (s, ct) =>
        {
            await s._inner.DeleteAsync(s.key, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.InitiateUpload, key, (Protocol, key), static (s, ct) => s.Item1.InitiateUploadAsync(s.key, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.UploadPart, key, (Protocol, key, uploadId, partNumber, data), static (s, ct) => s.Item1.UploadPartAsync(s.key, s.uploadId, s.partNumber, s.data, ct), cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.CompleteUpload, key, (Protocol, key, uploadId, parts), static (s, ct) => s.Item1.CompleteUploadAsync(s.key, s.uploadId, s.parts, ct), cancellationToken);

    /// <inheritdoc/>
    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default) =>
        CallAsync(StoreOperation.AbortUpload, key, (Protocol, key, uploadId), static async (s, ct) =>
        {
            await s.Item1.AbortUploadAsync(s.key, s.uploadId, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _leaveInnerOpen ? ValueTask.CompletedTask : _inner.DisposeAsync();

    private IMultipartProtocol Protocol => _inner as IMultipartProtocol
        ?? throw new NotSupportedException($"The store '{_inner.Name}' does not expose the multipart protocol.");

    private static bool IsWrite(StoreOperation operation) => operation is StoreOperation.Put or StoreOperation.Create
        or StoreOperation.UploadPart or StoreOperation.CompleteUpload or StoreOperation.AbortUpload or StoreOperation.Delete;

    private async Task<TResult> CallAsync<TState, TResult>(
        StoreOperation operation, string key, TState state, Func<TState, CancellationToken, Task<TResult>> call, CancellationToken cancellationToken)
    {
        var (fault, afterCall) = await DecideAsync(operation, cancellationToken).ConfigureAwait(false);
        if (fault is { } before && !afterCall)
        {
            throw Inject(before, operation, key);
        }

        var result = await call(state, cancellationToken).ConfigureAwait(false);
        if (fault is { } after)
        {
            if (result is IDisposable disposable)
            {
                disposable.Dispose();
            }

            throw Inject(after, operation, key);
        }

        return result;
    }

    private async Task BeforeAsync(StoreOperation operation, string key, CancellationToken cancellationToken)
    {
        var (fault, _) = await DecideAsync(operation, cancellationToken).ConfigureAwait(false);
        if (fault is { } before)
        {
            throw Inject(before, operation, key);
        }
    }

    private async Task<(InjectedFault? Fault, bool AfterCall)> DecideAsync(StoreOperation operation, CancellationToken cancellationToken)
    {
        double latencyUnit;
        InjectedFault? fault = null;
        var afterCall = false;
        lock (_random)
        {
            latencyUnit = _random.NextDouble();
            var rate = _options.RateOf(operation);
            if (rate > 0 && _options.Faults.Count > 0 && _random.NextDouble() < rate)
            {
                fault = _options.Faults[_random.Next(_options.Faults.Count)];
                afterCall = IsWrite(operation) && _random.NextDouble() < _options.LostAnswerShare;
            }
        }

        var latency = _options.Latency + (_options.LatencyJitter * latencyUnit);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        }

        return (fault, afterCall);
    }

    private ObjectStoreException Inject(InjectedFault fault, StoreOperation operation, string key)
    {
        Interlocked.Increment(ref _injected[(int)operation]);
        return fault switch
        {
            InjectedFault.SlowDown => TransientFailures.ServerAnswer(Name, operation, key, 503, "SlowDown", "Please reduce your request rate.", null),
            InjectedFault.InternalError => TransientFailures.ServerAnswer(Name, operation, key, 500, "InternalError", "We encountered an internal error. Please try again.", null),
            InjectedFault.ServiceUnavailable => TransientFailures.ServerAnswer(Name, operation, key, 503, "ServiceUnavailable", "Please reduce your request rate.", null),
            InjectedFault.ConnectionReset => TransientFailures.ConnectionReset(Name, operation, key, TransientFailures.SimulatedReset()),
            _ => TransientFailures.Timeout(Name, operation, key, TimeSpan.FromSeconds(100), new TimeoutException("The operation has timed out.")),
        };
    }

    /// <summary>Fault injection on the writes and completion of an inner store's own upload.</summary>
    private sealed class FaultyUpload(FaultInjectingObjectStore store, IMultipartUpload inner) : IMultipartUpload
    {
        public string Key => inner.Key;

        public long BytesWritten => inner.BytesWritten;

        public long BufferedBytes => inner.BufferedBytes;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            await store.BeforeAsync(StoreOperation.UploadPart, Key, cancellationToken).ConfigureAwait(false);
            await inner.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }

        public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
        {
            await store.BeforeAsync(StoreOperation.CompleteUpload, Key, cancellationToken).ConfigureAwait(false);
            return await inner.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        public Task AbortAsync(CancellationToken cancellationToken = default) => inner.AbortAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
