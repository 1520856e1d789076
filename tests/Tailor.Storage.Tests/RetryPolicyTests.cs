using Tailor.Testing;

namespace Tailor.Storage.Tests;

public sealed class RetryPolicyTests
{
    private static readonly RetryOptions Fast = new() { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(4), Seed = 1 };

    private static ObjectStoreException SlowDown(string store, string key = "k") =>
        new(ObjectStoreErrorKind.Transient, store, StoreOperation.Put, key, "HTTP 503 SlowDown: Please reduce your request rate.", isRetryable: true, statusCode: 503, errorCode: "SlowDown");

    [Fact]
    public async Task Transient_failures_are_retried_and_counted()
    {
        var store = $"retry-test-{Guid.NewGuid():N}";
        var policy = new RetryPolicy(store, Fast);
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);

        var result = await policy.ExecuteAsync(StoreOperation.Put, "k", 0, (_, attempt, _) =>
            attempt < 3 ? throw SlowDown(store) : Task.FromResult(attempt));

        Assert.Equal(3, result);
        Assert.Equal(2, metrics.Sum(ObjectStoreMetrics.RetriesName, ("store", store), ("operation", "put"), ("error", "SlowDown")));
        Assert.Equal(2, metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store), ("outcome", ObjectStoreMetrics.Retried)));
        Assert.Equal(1, metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store), ("outcome", ObjectStoreMetrics.Success)));
    }

    [Fact]
    public async Task A_permanent_failure_is_thrown_at_once_and_unchanged()
    {
        var policy = new RetryPolicy("permanent", Fast);
        var denied = new ObjectStoreException(ObjectStoreErrorKind.AccessDenied, "permanent", StoreOperation.Get, "k", "HTTP 403 AccessDenied");
        var attempts = 0;

        var thrown = await Assert.ThrowsAsync<ObjectStoreException>(() => policy.ExecuteAsync(StoreOperation.Get, "k", 0, (_, _, _) =>
        {
            attempts++;
            return Task.FromException<int>(denied);
        }));

        Assert.Same(denied, thrown);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_spent_budget_reports_attempts_time_key_and_last_cause()
    {
        var policy = new RetryPolicy("budget", Fast);
        var attempts = 0;

        var thrown = await Assert.ThrowsAsync<ObjectStoreException>(() => policy.ExecuteAsync(StoreOperation.Put, "the/key", 0, (_, _, _) =>
        {
            attempts++;
            return Task.FromException<int>(SlowDown("budget", "the/key"));
        }));

        Assert.Equal(5, attempts);
        Assert.Equal(5, thrown.Attempts);
        Assert.Equal(ObjectStoreErrorKind.Transient, thrown.Kind);
        Assert.False(thrown.IsRetryable);
        Assert.NotNull(thrown.Elapsed);
        Assert.Equal("SlowDown", thrown.ErrorCode);
        Assert.Contains("'the/key'", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("after 5 attempts", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("503 SlowDown", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("budget", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_time_budget_stops_retries_before_the_attempt_budget()
    {
        var policy = new RetryPolicy("elapsed", new RetryOptions
        {
            MaxAttempts = 1000, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(20), MaxElapsed = TimeSpan.FromMilliseconds(150),
        });
        var attempts = 0;
        var started = DateTime.UtcNow;

        var thrown = await Assert.ThrowsAsync<ObjectStoreException>(() => policy.ExecuteAsync(StoreOperation.Put, "k", 0, (_, _, _) =>
        {
            attempts++;
            return Task.FromException<int>(SlowDown("elapsed"));
        }));

        Assert.InRange(attempts, 2, 100);
        Assert.Equal(attempts, thrown.Attempts);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Backoff_is_full_jitter_under_an_exponential_cap()
    {
        var policy = new RetryPolicy("jitter", new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(300), Seed = 42 });
        for (var attempt = 1; attempt <= 12; attempt++)
        {
            var cap = TimeSpan.FromMilliseconds(Math.Min(300, 10 * Math.Pow(2, attempt - 1)));
            var delays = Enumerable.Range(0, 200).Select(_ => policy.NextDelay(attempt)).ToList();
            Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, cap));

            // Full jitter spreads over the whole range, not near the cap.
            Assert.True(delays.Min() < cap * 0.2 && delays.Max() > cap * 0.8, $"attempt {attempt}: {delays.Min()}..{delays.Max()} under {cap}");
        }

        var again = new RetryPolicy("jitter", new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(300), Seed = 42 });
        Assert.Equal(new RetryPolicy("jitter", again.Options).NextDelay(3), new RetryPolicy("jitter", again.Options).NextDelay(3));
    }

    [Fact]
    public async Task A_slow_attempt_times_out_and_is_retried()
    {
        var policy = new RetryPolicy("timeout", new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), AttemptTimeout = TimeSpan.FromMilliseconds(50) });
        var result = await policy.ExecuteAsync(StoreOperation.Get, "k", 0, async (_, attempt, ct) =>
        {
            if (attempt == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }

            return attempt;
        });
        Assert.Equal(2, result);
    }

    [Fact]
    public async Task Cancellation_is_never_retried()
    {
        var policy = new RetryPolicy("cancel", new RetryOptions { BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(10) });
        using var cancel = new CancellationTokenSource();
        var attempts = 0;
        var call = policy.ExecuteAsync(StoreOperation.Put, "k", 0, (_, _, _) =>
        {
            attempts++;
            return Task.FromException<int>(SlowDown("cancel"));
        }, cancel.Token);

        await Task.Delay(50);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Nested_policies_do_not_multiply_attempts()
    {
        var inner = new RetryPolicy("inner", new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });
        var outer = new RetryPolicy("outer", new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });
        var attempts = 0;

        var thrown = await Assert.ThrowsAsync<ObjectStoreException>(() => outer.ExecuteAsync(StoreOperation.Put, "k", 0, (_, _, ct) =>
            inner.ExecuteAsync(StoreOperation.Put, "k", 0, (_, _, _) =>
            {
                attempts++;
                return Task.FromException<int>(SlowDown("inner"));
            }, ct)));

        Assert.Equal(3, attempts);
        Assert.Equal(3, thrown.Attempts);
    }

    [Fact]
    public async Task A_policy_that_never_retries_leaves_failures_retryable_for_an_outer_one()
    {
        var none = new RetryPolicy("none", RetryOptions.None);
        var thrown = await Assert.ThrowsAsync<ObjectStoreException>(() => none.ExecuteAsync(StoreOperation.Put, "k", 0, (_, _, _) => Task.FromException<int>(SlowDown("none"))));
        Assert.True(thrown.IsRetryable);
    }
}
