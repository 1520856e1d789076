using System.Collections.Concurrent;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Query.Tests;

/// <summary>Counts the reads a query makes, per key, and can delay them (for timeouts) or run an action before one (a recompaction mid-query).</summary>
internal sealed class CountingStore(IObjectStore inner) : ForwardingObjectStore(inner)
{
    private long _ranged;
    private long _opened;
    private int _inFlight;
    private int _maxInFlight;

    /// <summary>The most calls that were in progress at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public ConcurrentDictionary<string, int> RangedByKey { get; } = new(StringComparer.Ordinal);

    public long RangedReads => Interlocked.Read(ref _ranged);

    public long Opens => Interlocked.Read(ref _opened);

    public TimeSpan Delay { get; set; }

    /// <summary>Runs before a ranged read is forwarded (once cleared by the action itself, if it wants).</summary>
    public Func<string, Task>? BeforeRangedRead { get; set; }

    public void Reset()
    {
        Interlocked.Exchange(ref _ranged, 0);
        Interlocked.Exchange(ref _opened, 0);
        RangedByKey.Clear();
    }

    public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _opened);
        Enter();
        try
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            return await base.OpenReadAsync(key, offset, length, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public override async Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _ranged);
        RangedByKey.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (BeforeRangedRead is { } before)
        {
            await before(key);
        }

        Enter();
        try
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            return await base.ReadAsync(key, offset, destination, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Enter()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }
    }
}
