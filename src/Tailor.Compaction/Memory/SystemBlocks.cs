using System.Runtime.InteropServices;

namespace Tailor.Compaction.Memory;

/// <summary>
/// Where <see cref="NativePool"/> gets and frees its blocks: on Linux, blocks of 2 MiB and more are
/// mapped on 2 MiB boundaries and marked for transparent huge pages, so the kernel backs them with one
/// page fault per 2 MiB instead of one per 4 KiB; elsewhere, and for smaller blocks, the allocator.
/// </summary>
/// <remarks>
/// The first write to a page costs a fault and a zeroed page. On the virtual machines measured here
/// that was about 15 µs per 4 KiB page (4 s to write a fresh GiB) and half of it with huge pages (the
/// zeroing is left): a one-job process with a 1 GiB budget spent most of its time there. The kernel
/// honours the advice when <c>/sys/kernel/mm/transparent_hugepage/enabled</c> is <c>madvise</c> or
/// <c>always</c>, and gives plain pages otherwise. Set the <c>AppContext</c> switch
/// <c>Tailor.Compaction.DisableHugePages</c> (for instance in the host's runtimeconfig) to leave every block to the allocator.
/// </remarks>
internal static unsafe partial class SystemBlocks
{
    /// <summary>The size and alignment of a huge page, and the smallest block mapped on its own.</summary>
    public const long HugePageBytes = 2 << 20;

    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 2;
    private const int MapAnonymous = 0x20;
    private const int MadviseHugePage = 14;

    /// <summary>Whether blocks of <see cref="HugePageBytes"/> and more are mapped for huge pages.</summary>
    public static bool HugePages { get; } = OperatingSystem.IsLinux()
        && (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64)
        && !(AppContext.TryGetSwitch("Tailor.Compaction.DisableHugePages", out var disabled) && disabled);

    /// <summary>A block of <paramref name="bytes"/> (a multiple of 4 KiB when at least <see cref="HugePageBytes"/>).</summary>
    /// <exception cref="OutOfMemoryException">The system has no memory for it.</exception>
    public static void* Alloc(long bytes)
    {
        if (!HugePages || bytes < HugePageBytes)
        {
            return NativeMemory.Alloc((nuint)bytes);
        }

        // Map a huge page more than needed, then unmap what lies before the first boundary and after the block.
        var mapped = Mmap(null, (nuint)(bytes + HugePageBytes), ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (mapped == -1)
        {
            throw new OutOfMemoryException($"The system refused {bytes:N0} bytes of memory for a compaction buffer (error {Marshal.GetLastPInvokeError()}).");
        }

        var start = (mapped + (nint)(HugePageBytes - 1)) & ~(nint)(HugePageBytes - 1);
        var head = start - mapped;
        if (head > 0)
        {
            _ = Munmap(mapped, (nuint)head);
        }

        if (HugePageBytes - head > 0)
        {
            _ = Munmap(start + (nint)bytes, (nuint)(HugePageBytes - head));
        }

        // Advice only: without transparent huge pages the block still works with plain pages.
        _ = Madvise(start, (nuint)bytes, MadviseHugePage);
        return (void*)start;
    }

    /// <summary>Frees a block <see cref="Alloc"/> gave, of the same <paramref name="bytes"/>.</summary>
    public static void Free(void* block, long bytes)
    {
        if (!HugePages || bytes < HugePageBytes)
        {
            NativeMemory.Free(block);
            return;
        }

        _ = Munmap((nint)block, (nuint)bytes);
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
