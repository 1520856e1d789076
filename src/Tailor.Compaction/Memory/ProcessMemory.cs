using System.Buffers.Text;

namespace Tailor.Compaction.Memory;

/// <summary>The process's resident set size, read without allocating (sampled many times a second during a job).</summary>
internal static class ProcessMemory
{
    private static readonly long PageSize = Environment.SystemPageSize;

    // Kept open for the life of the process: one descriptor, read with positioned reads from any thread.
    private static readonly Lazy<Microsoft.Win32.SafeHandles.SafeFileHandle> Statm = new(() => File.OpenHandle("/proc/self/statm"));

    /// <summary>The working set (resident set) in bytes; falls back to <see cref="Environment.WorkingSet"/> off Linux.</summary>
    public static long WorkingSet()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Environment.WorkingSet;
        }

        // /proc/self/statm: "size resident shared text lib data dt", in pages. The file is opened once and
        // read again from offset 0 each time (procfs regenerates it), so a sample allocates nothing.
        Span<byte> buffer = stackalloc byte[128];
        int read;
        try
        {
            read = RandomAccess.Read(Statm.Value, buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return Environment.WorkingSet;
        }

        var text = buffer[..read];
        var space = text.IndexOf((byte)' ');
        if (space < 0 || !Utf8Parser.TryParse(text[(space + 1)..], out long pages, out _))
        {
            return Environment.WorkingSet;
        }

        return pages * PageSize;
    }
}

/// <summary>
/// Samples the working set on a thread of its own every few milliseconds and keeps the peak.
/// </summary>
/// <remarks>
/// A thread-pool timer fires only when a pool thread is free, and a job keeps every thread of a small
/// machine busy for seconds (its merge runs on the pool; its readers once did, and the timer then
/// missed the whole reading phase). This thread does not wait on the pool; it sleeps between
/// samples and stops on dispose.
/// </remarks>
internal sealed class PeakWorkingSetSampler : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly int _intervalMilliseconds;
    private long _peak;
    private long _samples;

    public PeakWorkingSetSampler(int intervalMilliseconds = 50)
    {
        _intervalMilliseconds = intervalMilliseconds;
        Sample();
        _thread = new Thread(Run) { IsBackground = true, Name = "Tailor working-set sampler" };
        _thread.Start();
    }

    /// <summary>The highest working set seen so far, in bytes.</summary>
    public long Peak => Interlocked.Read(ref _peak);

    /// <summary>How many samples were taken (for tests).</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Takes one sample now (also called at the end of a job, so its last state counts).</summary>
    public void Sample()
    {
        var now = ProcessMemory.WorkingSet();
        Interlocked.Increment(ref _samples);
        long peak;
        while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }

    private void Run()
    {
        while (!_stop.Wait(_intervalMilliseconds))
        {
            Sample();
        }
    }
}
