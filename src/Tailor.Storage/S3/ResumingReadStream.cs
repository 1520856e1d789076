using System.Diagnostics;

namespace Tailor.Storage;

/// <summary>
/// The body of a ranged S3 GET as a stream that survives broken connections: a failed or stalled read
/// reopens the range from the current position (pinned to the object's ETag, so a replaced object is a
/// <see cref="ObjectStoreErrorKind.Conflict"/>, never a mix), within the store's retry budget.
/// </summary>
/// <remarks>Owns the current response and disposes it. Forward-only; not thread-safe.</remarks>
internal sealed class ResumingReadStream : Stream
{
    private readonly S3ObjectStore _store;
    private readonly string _key;
    private readonly string? _etag;
    private readonly long _start;
    private readonly long _end;
    private S3ObjectStore.RangeBody _body;
    private long _position;
    private bool _disposed;

    public ResumingReadStream(S3ObjectStore store, string key, S3ObjectStore.RangeBody body, long start)
    {
        _store = store;
        _key = key;
        _body = body;
        _etag = body.ETag;
        _start = start;
        _position = start;
        _end = body.End;
    }

    public override bool CanRead => !_disposed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _end - _start;

    public override long Position
    {
        get => _position - _start;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var want = (int)Math.Min(buffer.Length, _end - _position);
        if (want == 0)
        {
            return 0;
        }

        var failures = 0;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var attemptStarted = Stopwatch.GetTimestamp();
            try
            {
                // Reopening is rare (after a broken connection), so the synchronous path blocks on it.
                var response = _body.Response ?? ReopenAsync(CancellationToken.None).GetAwaiter().GetResult();
                var n = response.ResponseStream.Read(buffer[..want]);
                return Advance(n);
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                var delay = Broken(ex, ++failures, started, attemptStarted);
                Thread.Sleep(delay);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var want = (int)Math.Min(buffer.Length, _end - _position);
        if (want == 0)
        {
            return 0;
        }

        var failures = 0;
        var started = Stopwatch.GetTimestamp();
        var timeout = _store.Policy.Options.AttemptTimeout;
        while (true)
        {
            var attemptStarted = Stopwatch.GetTimestamp();
            Exception failure;
            using (var stall = timeout == Timeout.InfiniteTimeSpan ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stall?.CancelAfter(timeout);
                try
                {
                    var response = _body.Response ?? await ReopenAsync(cancellationToken).ConfigureAwait(false);
                    var n = await response.ResponseStream.ReadAsync(buffer[..want], stall?.Token ?? cancellationToken).ConfigureAwait(false);
                    return Advance(n);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new TimeoutException($"No data within {timeout.TotalSeconds:0.#} s.", ex);
                }
                catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
                {
                    failure = ex;
                }
            }

            var delay = Broken(failure, ++failures, started, attemptStarted);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _body.Response?.Dispose();
            _body = default;
        }

        base.Dispose(disposing);
    }

    private int Advance(int n)
    {
        if (n == 0)
        {
            // The body ended before the range did: the connection was cut.
            throw new IOException($"The response ended at byte {_position} of the range ending at {_end}.");
        }

        _position += n;
        return n;
    }

    /// <summary>Drops the broken response and returns the backoff before reopening, or throws when the budget is spent.</summary>
    private TimeSpan Broken(Exception exception, int failures, long started, long attemptStarted)
    {
        _body.Response?.Dispose();
        _body = default;
        var failure = exception as ObjectStoreException ?? S3Errors.Translate(exception, _store.Name, StoreOperation.Get, _key);
        if (failure.ErrorCode == S3Errors.ChecksumMismatch)
        {
            // Bytes already handed to the caller were part of what failed the check: resuming cannot fix that.
            throw new ObjectStoreException(
                ObjectStoreErrorKind.Conflict, _store.Name, StoreOperation.Get, _key,
                "the object's bytes did not match its checksum, so what was read cannot be trusted; read it again", failure);
        }

        return _store.Policy.OnFailure(StoreOperation.Get, failure, failures, started, attemptStarted);
    }

    private async Task<Amazon.S3.Model.GetObjectResponse> ReopenAsync(CancellationToken cancellationToken)
    {
        _body = await _store.Policy.ExecuteAsync(
            StoreOperation.Get, _key, this,
            static (s, _, ct) => s._store.GetAsync(s._key, s._position, s._end, s._etag, ct),
            cancellationToken).ConfigureAwait(false);
        return _body.Response ?? throw new ObjectStoreException(
            ObjectStoreErrorKind.Conflict, _store.Name, StoreOperation.Get, _key,
            $"the object ended at byte {_position} while {_end - _position} more bytes were expected");
    }
}
