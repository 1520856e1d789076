using System.Runtime.InteropServices;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// Native memory whose end touches an inaccessible page (Linux mmap/mprotect), so a span placed at
/// the very end faults on any read past it: over-reads crash the test instead of passing silently.
/// </summary>
internal sealed unsafe partial class GuardedMemory : IDisposable
{
    private const int ProtNone = 0;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;

    private readonly byte* _base;
    private readonly nuint _length;
    private readonly int _usable;

    public GuardedMemory(int usable)
    {
        nuint page = (nuint)Environment.SystemPageSize;
        nuint data = ((nuint)usable + page - 1) / page * page;
        _length = data + page;
        _usable = (int)data;
        _base = (byte*)Mmap(null, _length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (_base == (byte*)-1)
        {
            throw new InvalidOperationException("mmap failed");
        }

        if (Mprotect(_base + data, page, ProtNone) != 0)
        {
            throw new InvalidOperationException("mprotect failed");
        }
    }

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>A writable span of <paramref name="length"/> bytes that ends exactly at the guard page.</summary>
    public Span<byte> Tail(int length) => new(_base + _usable - length, length);

    public void Dispose() => Munmap(_base, _length);

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);
}
