using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Tailor.Storage;

/// <summary>
/// The streamed upload of S3-like stores: cuts the written bytes into parts, sends full parts in the
/// background with a bounded number in flight, starts the multipart upload only when a second part
/// begins (so an object of at most one part is a single put), and aborts on any failure.
/// </summary>
/// <remarks>
/// Every request goes through the given <see cref="RetryPolicy"/>. Part buffers are pooled chunks
/// (<see cref="PartBuffer"/>) rented on first data and returned as soon as their part is sent.
/// </remarks>
internal sealed class PartedUpload : IMultipartUpload
{
    private readonly IUploadTarget _target;
    private readonly RetryPolicy _retry;
    private readonly MultipartOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _partsCancellation = new();
    private readonly List<Task<UploadedPart>> _inFlight = [];
    private readonly List<UploadedPart> _parts = [];
    private PartBuffer? _current;
    private string? _uploadId;
    private int _nextPartNumber = 1;
    private long _bytesWritten;
    private long _bufferedBytes;
    private State _state;
    private Exception? _failure;
    private ObjectInfo? _result;

    public PartedUpload(string key, IUploadTarget target, RetryPolicy retry, MultipartOptions options, ILogger logger)
    {
        Key = key;
        _target = target;
        _retry = retry;
        _options = options;
        _logger = logger;
    }

    private enum State
    {
        Open,
        Completed,
        Aborted,
        Failed,
    }

    public string Key { get; }

    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    public long BufferedBytes => Volatile.Read(ref _bufferedBytes);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        if (data.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        var current = _current ??= NewPart();
        if (current.Length + data.Length <= _options.PartSize && !cancellationToken.IsCancellationRequested)
        {
            // Common case: the bytes fit in the part being filled; no request, no await.
            Accept(current.Append(data.Span, _options.PartSize));
            return ValueTask.CompletedTask;
        }

        return WriteSlowAsync(data, cancellationToken);
    }

    public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_state == State.Completed)
        {
            return _result!;
        }

        ThrowIfNotOpen();
        try
        {
            ObjectInfo info;
            if (_uploadId is null && _inFlight.Count == 0)
            {
                // Never more than one part: a single put is one request instead of three.
                var part = _current;
                _current = null;
                try
                {
                    info = await _retry.ExecuteAsync(
                        StoreOperation.Put, Key, (this, part),
                        static (s, _, ct) => s.Item1._target.PutAsync(s.Item1.Key, s.part?.AsSequence() ?? default, ct),
                        cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    Release(part);
                }
            }
            else
            {
                if (_current is { Length: > 0 })
                {
                    await DispatchAsync(cancellationToken).ConfigureAwait(false);
                }

                Release(_current);
                _current = null;
                while (_inFlight.Count > 0)
                {
                    await ReapAsync(cancellationToken).ConfigureAwait(false);
                }

                _parts.Sort(static (a, b) => a.PartNumber.CompareTo(b.PartNumber));
                info = await _retry.ExecuteAsync(
                    StoreOperation.CompleteUpload, Key, this,
                    static (s, attempt, ct) => s.CompleteAttemptAsync(attempt, ct),
                    cancellationToken).ConfigureAwait(false);
            }

            _result = info with { Key = Key, Size = BytesWritten };
            _state = State.Completed;
            return _result;
        }
        catch (Exception ex)
        {
            await FailAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    public async Task AbortAsync(CancellationToken cancellationToken = default)
    {
        if (_state is State.Completed or State.Aborted or State.Failed)
        {
            return;
        }

        _state = State.Aborted;
        await AbortCoreAsync(throwOnFailure: true).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_state == State.Open)
        {
            _state = State.Aborted;
            await AbortCoreAsync(throwOnFailure: false).ConfigureAwait(false);
        }

        _partsCancellation.Dispose();
    }

    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (!data.IsEmpty)
            {
                var current = _current ??= NewPart();
                if (current.Length == _options.PartSize)
                {
                    // The part is full and more bytes follow: send it (an exactly-one-part object stays a single put).
                    await DispatchAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var n = current.Append(data.Span, _options.PartSize);
                Accept(n);
                data = data[n..];
            }
        }
        catch (Exception ex)
        {
            await FailAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    private async Task DispatchAsync(CancellationToken cancellationToken)
    {
        if (_nextPartNumber > MultipartOptions.MaxParts)
        {
            throw new ObjectStoreException(
                ObjectStoreErrorKind.InvalidRequest, _retry.StoreName, StoreOperation.UploadPart, Key,
                $"the object needs more than {MultipartOptions.MaxParts} parts of {_options.PartSize} bytes; raise MultipartOptions.PartSize");
        }

        // Back pressure: the full part waits (as the "+1" buffer) until a part in flight is done.
        while (_inFlight.Count >= _options.MaxParallelParts)
        {
            await ReapAsync(cancellationToken).ConfigureAwait(false);
        }

        _uploadId ??= await _retry.ExecuteAsync(
            StoreOperation.InitiateUpload, Key, this,
            static (s, _, ct) => s._target.InitiateUploadAsync(s.Key, ct),
            cancellationToken).ConfigureAwait(false);

        var part = _current!;
        _current = null;
        _inFlight.Add(SendPartAsync(part, _nextPartNumber++));
    }

    private async Task<UploadedPart> SendPartAsync(PartBuffer part, int partNumber)
    {
        try
        {
            // Leave the writer's thread at once: signing and hashing a part is CPU work that must not
            // delay the caller or serialise the parts.
            await Task.Yield();
            return await _retry.ExecuteAsync(
                StoreOperation.UploadPart, Key, (this, part, partNumber),
                static (s, _, ct) => s.Item1._target.UploadPartAsync(s.Item1.Key, s.Item1._uploadId!, s.partNumber, s.part.AsSequence(), ct),
                _partsCancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            Release(part);
        }
    }

    private async Task ReapAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAny(_inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
        Exception? failure = null;
        for (var i = _inFlight.Count - 1; i >= 0; i--)
        {
            var task = _inFlight[i];
            if (!task.IsCompleted)
            {
                continue;
            }

            _inFlight.RemoveAt(i);
            if (task.IsCompletedSuccessfully)
            {
                _parts.Add(task.Result);
            }
            else
            {
                failure ??= task.Exception?.InnerException ?? new OperationCanceledException("A part upload was cancelled.");
            }
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task<ObjectInfo> CompleteAttemptAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await _target.CompleteUploadAsync(Key, _uploadId!, _parts, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException ex) when (attempt > 1 && ex.Kind == ObjectStoreErrorKind.NotFound)
        {
            // An earlier attempt may have completed the upload and lost its answer: the upload is gone
            // because the object exists. Keys are unique per writer, so an object of our size is ours.
            var info = await _target.GetInfoAsync(Key, cancellationToken).ConfigureAwait(false);
            if (info is not null && info.Size == BytesWritten)
            {
                return info;
            }

            throw;
        }
    }

    private async Task FailAsync(Exception failure)
    {
        if (_state != State.Open)
        {
            return;
        }

        _state = State.Failed;
        _failure = failure;
        await AbortCoreAsync(throwOnFailure: false).ConfigureAwait(false);
    }

    private async Task AbortCoreAsync(bool throwOnFailure)
    {
        await _partsCancellation.CancelAsync().ConfigureAwait(false);
        foreach (var task in _inFlight)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The part's failure (or our cancellation) no longer matters: the upload is being discarded.
            }
        }

        _inFlight.Clear();
        Release(_current);
        _current = null;
        if (_uploadId is null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_options.AbortTimeout);
        try
        {
            await _retry.ExecuteAsync(
                StoreOperation.AbortUpload, Key, this,
                static (s, _, ct) => s._target.AbortUploadAsync(s.Key, s._uploadId!, ct),
                timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            var error = new ObjectStoreException(
                ObjectStoreErrorKind.Transient, _retry.StoreName, StoreOperation.AbortUpload, Key,
                $"the abort did not finish within {_options.AbortTimeout.TotalSeconds:0.#} s; parts may remain until a lifecycle rule removes them", ex);
            if (throwOnFailure)
            {
                throw error;
            }

            _logger.LogWarning(error, "Could not abort the upload of {Key}", Key);
        }
        catch (ObjectStoreException ex) when (!throwOnFailure)
        {
            _logger.LogWarning(ex, "Could not abort the upload of {Key}; parts may remain until a lifecycle rule removes them", Key);
        }
    }

    private PartBuffer NewPart() => new(_options.BufferPool, _options.MaxChunkSize);

    private void Accept(int bytes)
    {
        Interlocked.Add(ref _bytesWritten, bytes);
        Interlocked.Add(ref _bufferedBytes, bytes);
    }

    private void Release(PartBuffer? part)
    {
        if (part is null)
        {
            return;
        }

        Interlocked.Add(ref _bufferedBytes, -part.Length);
        part.Dispose();
    }

    private void ThrowIfNotOpen()
    {
        switch (_state)
        {
            case State.Open:
                return;
            case State.Completed:
                throw new InvalidOperationException($"The upload of '{Key}' is already completed.");
            case State.Aborted:
                throw new InvalidOperationException($"The upload of '{Key}' was aborted.");
            default:
                throw new InvalidOperationException($"The upload of '{Key}' failed and was aborted: {_failure?.Message}", _failure);
        }
    }
}
