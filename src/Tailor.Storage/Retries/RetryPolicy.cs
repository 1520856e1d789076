using System.Diagnostics;

namespace Tailor.Storage;

/// <summary>
/// Runs one store call as a series of attempts: retries failures that are
/// <see cref="ObjectStoreException.IsRetryable"/> with exponential backoff and full jitter within the
/// <see cref="RetryOptions"/> budget, counts every attempt and retry on the <c>Tailor.Storage</c> meter,
/// and reports the last cause, the attempts and the time spent when it gives up.
/// </summary>
/// <remarks>
/// The one retry loop of Tailor.Storage: the S3 store runs each request through it (with the AWS SDK's
/// own retries turned off, so the counting is ours), the local store runs its calls through it for
/// counting, and <see cref="RetryingObjectStore"/> wraps any store with it. An attempt signals a
/// failure by throwing <see cref="ObjectStoreException"/>; an attempt that outlives
/// <see cref="RetryOptions.AttemptTimeout"/> or is cancelled without the caller's token is a transient
/// timeout. Other exceptions pass through untouched. Thread-safe.
/// </remarks>
public sealed class RetryPolicy
{
    private readonly Random? _seeded;

    /// <summary>Creates a policy.</summary>
    /// <param name="storeName">The store's <see cref="IObjectStore.Name"/>, used in metric tags and errors.</param>
    /// <param name="options">The budget; <see langword="null"/> takes the defaults. Not copied: do not change it afterwards.</param>
    public RetryPolicy(string storeName, RetryOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        StoreName = storeName;
        Options = (options ?? new RetryOptions()).Validated();
        _seeded = Options.Seed is { } seed ? new Random(seed) : null;
    }

    /// <summary>The store name used in metric tags and errors.</summary>
    public string StoreName { get; }

    /// <summary>The budget.</summary>
    public RetryOptions Options { get; }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails for good or the budget is spent.</summary>
    /// <typeparam name="TState">State passed to each attempt, so the attempt can be a static lambda.</typeparam>
    /// <typeparam name="TResult">The call's result.</typeparam>
    /// <param name="operation">The request kind, for counting and errors.</param>
    /// <param name="key">The key, for errors (may be <see langword="null"/>).</param>
    /// <param name="state">State for the attempt.</param>
    /// <param name="attempt">One attempt: receives the state, the attempt number (from 1) and a token that fires on the caller's cancellation or the attempt timeout.</param>
    /// <param name="cancellationToken">The caller's token; cancellation is thrown as <see cref="OperationCanceledException"/>, never retried.</param>
    /// <returns>The first successful attempt's result.</returns>
    /// <exception cref="ObjectStoreException">The last failure, with <see cref="ObjectStoreException.Attempts"/> and <see cref="ObjectStoreException.Elapsed"/> filled in when more than one attempt was made.</exception>
    public async Task<TResult> ExecuteAsync<TState, TResult>(
        StoreOperation operation,
        string? key,
        TState state,
        Func<TState, int, CancellationToken, Task<TResult>> attempt,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var started = Stopwatch.GetTimestamp();
        for (var number = 1; ; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var attemptStarted = Stopwatch.GetTimestamp();
            ObjectStoreException failure;
            using (var timeout = CreateAttemptTimeout(cancellationToken))
            {
                try
                {
                    var result = await attempt(state, number, timeout?.Token ?? cancellationToken).ConfigureAwait(false);
                    ObjectStoreMetrics.RecordRequest(StoreName, operation, ObjectStoreMetrics.Success, attemptStarted);
                    return result;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    ObjectStoreMetrics.RecordRequest(StoreName, operation, ObjectStoreMetrics.Canceled, attemptStarted);
                    throw;
                }
                catch (OperationCanceledException ex)
                {
                    // Not the caller's token: the attempt timed out (ours or the HTTP client's).
                    failure = TransientFailures.Timeout(StoreName, operation, key, Options.AttemptTimeout, ex);
                }
                catch (ObjectStoreException ex)
                {
                    failure = ex;
                }
                catch
                {
                    ObjectStoreMetrics.RecordRequest(StoreName, operation, ObjectStoreMetrics.Failed, attemptStarted);
                    throw;
                }
            }

            var delay = OnFailure(operation, failure, number, started, attemptStarted);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs an attempt that returns nothing; see <see cref="ExecuteAsync{TState, TResult}"/>.</summary>
    /// <typeparam name="TState">State passed to each attempt.</typeparam>
    /// <param name="operation">The request kind.</param>
    /// <param name="key">The key, for errors.</param>
    /// <param name="state">State for the attempt.</param>
    /// <param name="attempt">One attempt.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when an attempt succeeded.</returns>
    public Task ExecuteAsync<TState>(
        StoreOperation operation,
        string? key,
        TState state,
        Func<TState, int, CancellationToken, Task> attempt,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return ExecuteAsync(
            operation, key, (state, attempt),
            static async (s, number, ct) =>
            {
                await s.attempt(s.state, number, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Decides after a failed attempt: records it, and either returns the backoff before the next attempt
    /// or throws the failure as the call's final error.
    /// </summary>
    internal TimeSpan OnFailure(StoreOperation operation, ObjectStoreException failure, int number, long started, long attemptStarted)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        var delay = failure.IsRetryable && number < Options.MaxAttempts ? NextDelay(number) : TimeSpan.MaxValue;
        if (delay == TimeSpan.MaxValue || elapsed + delay >= Options.MaxElapsed)
        {
            ObjectStoreMetrics.RecordRequest(StoreName, operation, ObjectStoreMetrics.Failed, attemptStarted);

            // A policy that never retries leaves a retryable failure retryable for an outer loop; one
            // that gave up marks it spent so nested loops never multiply their attempts.
            throw Options.MaxAttempts == 1 || (number == 1 && !failure.IsRetryable) ? failure : failure.AfterAttempts(number, elapsed);
        }

        ObjectStoreMetrics.RecordRequest(StoreName, operation, ObjectStoreMetrics.Retried, attemptStarted);
        ObjectStoreMetrics.RecordRetry(StoreName, operation, failure.ErrorCode ?? failure.Kind.ToString());
        return delay;
    }

    /// <summary>The backoff before retry number <paramref name="failedAttempt"/>: uniform in [0, min(MaxDelay, BaseDelay x 2^(n-1))].</summary>
    internal TimeSpan NextDelay(int failedAttempt)
    {
        var capTicks = Math.Min(Options.MaxDelay.Ticks, Options.BaseDelay.Ticks * (1L << Math.Min(failedAttempt - 1, 30)));
        double unit;
        if (_seeded is null)
        {
            unit = Random.Shared.NextDouble();
        }
        else
        {
            lock (_seeded)
            {
                unit = _seeded.NextDouble();
            }
        }

        return TimeSpan.FromTicks((long)(capTicks * unit));
    }

    private CancellationTokenSource? CreateAttemptTimeout(CancellationToken cancellationToken)
    {
        if (Options.AttemptTimeout == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(Options.AttemptTimeout);
        return source;
    }
}
