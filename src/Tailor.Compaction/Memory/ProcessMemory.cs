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
