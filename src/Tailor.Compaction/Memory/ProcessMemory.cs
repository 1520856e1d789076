using System.Buffers.Text;

namespace Tailor.Compaction.Memory;

/// <summary>The process's resident set size, read without allocating (sampled many times a second during a job).</summary>
internal static class ProcessMemory
{
    private static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>The working set (resident set) in bytes; falls back to <see cref="Environment.WorkingSet"/> off Linux.</summary>
    public static long WorkingSet()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Environment.WorkingSet;
        }

        // /proc/self/statm: "size resident shared text lib data dt", in pages.
        Span<byte> buffer = stackalloc byte[128];
        int read;
        try
        {
            using var file = File.OpenHandle("/proc/self/statm");
            read = RandomAccess.Read(file, buffer, 0);
        }
        catch (IOException)
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
