using System.Runtime.InteropServices;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>
/// Native memory followed by an inaccessible page (Linux mmap and mprotect): an input copied to the
/// very end of it makes any read past the input's last byte fault, so an over-read in unsafe code is a
/// crash (caught by the in-flight record) instead of a silent pass.
/// </summary>
public sealed unsafe partial class GuardedBuffer : IDisposable
{
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x22;

    private readonly byte* _start;
    private readonly nuint _mapped;
    private readonly int _capacity;

    private GuardedBuffer(byte* start, nuint mapped, int capacity)
    {
        _start = start;
        _mapped = mapped;
        _capacity = capacity;
    }

    /// <summary>The largest input that fits before the guard page.</summary>
    public int Capacity => _capacity;

    /// <summary>A buffer of at least <paramref name="capacity"/> bytes, or null where guard pages are not available.</summary>
    public static GuardedBuffer? TryCreate(int capacity)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var page = (nuint)Environment.SystemPageSize;
        var data = ((nuint)capacity + page - 1) / page * page;
        var start = (byte*)Mmap(null, data + page, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if (start == (byte*)-1)
        {
            return null;
        }

        if (Mprotect(start + data, page, ProtNone) != 0)
        {
            _ = Munmap(start, data + page);
            return null;
        }

        return new GuardedBuffer(start, data + page, (int)data);
    }

    /// <summary>Copies <paramref name="input"/> so that it ends right at the guard page; falls back to the array when it does not fit.</summary>
    public ReadOnlySpan<byte> Place(ReadOnlySpan<byte> input)
    {
        if (input.Length > _capacity)
        {
            return input;
        }

        var span = new Span<byte>(_start + _capacity - input.Length, input.Length);
        input.CopyTo(span);
        return span;
    }

    public void Dispose() => _ = Munmap(_start, _mapped);

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);
}
