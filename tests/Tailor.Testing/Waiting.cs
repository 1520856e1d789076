using System.Diagnostics;

namespace Tailor.Testing;

/// <summary>Waits on conditions, re-checked every few milliseconds, never for a fixed time.</summary>
public static class Waiting
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? describe = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not reached within {timeout}. {describe?.Invoke()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The same for a condition that must be awaited, re-checked every 100 ms.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? describe = null)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not reached within {timeout}. {describe?.Invoke()}");
            }

            await Task.Delay(100);
        }
    }
}
