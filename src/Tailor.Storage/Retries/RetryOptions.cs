namespace Tailor.Storage;

/// <summary>
/// The retry budget for transient store failures (503 Slow Down, 500, throttling, timeouts, resets,
/// refused connections): exponential backoff with full jitter, bounded by attempts and by total time.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Attempts per call, the first included. Default 8; 1 disables retries.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The backoff cap of the first retry; the cap doubles with each further retry. Default 50 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The largest backoff cap. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The time budget of one call, all attempts and waits included: no attempt starts after it. Default 60 s.
    /// </summary>
    public TimeSpan MaxElapsed { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one attempt may wait for an answer before it counts as a timeout (a transient failure).
    /// For a streamed read it bounds each read of the body. Default 100 s; <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Seed of the jitter, for repeatable tests; <see langword="null"/> (default) seeds randomly.</summary>
    public int? Seed { get; set; }

    /// <summary>A budget of one attempt: failures are reported, never retried.</summary>
    public static RetryOptions None => new() { MaxAttempts = 1 };

    internal RetryOptions Validated()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one attempt is needed.");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "Delays must satisfy 0 <= BaseDelay <= MaxDelay.");
        }

        if (MaxElapsed <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxElapsed), MaxElapsed, "The time budget must be positive.");
        }

        if (AttemptTimeout <= TimeSpan.Zero && AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "The attempt timeout must be positive or infinite.");
        }

        return this;
    }
}
