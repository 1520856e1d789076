using System.Runtime.InteropServices;

namespace Tailor.Format.Zstd;

/// <summary>
/// The system's zstd library (<c>libzstd.so.1</c> on Linux), when the machine has one of version
/// 1.4 or later: it decodes the segments' frames 1.2–1.5 times as fast as the managed port
/// (docs/benchmarks.md). <see cref="ZstdFrameDecompressor"/> decodes through it when it is there and
/// through the managed port otherwise. The AppContext switch <c>Tailor.Format.DisableSystemZstd</c>
/// (runtimeconfig.json <c>configProperties</c>, or <c>AppContext.SetSwitch</c> before the first frame)
/// keeps every decode on the managed port.
/// </summary>
/// <remarks>
/// Valid frames decode to the same bytes with either library (the format defines them). A malformed
/// frame can be refused by one and decoded by the other; segment records carry a CRC-32 that is checked
/// before their frame is decoded, so damage to stored segments never gets this far.
/// </remarks>
internal static unsafe class SystemZstd
{
    private const string DisableSwitch = "Tailor.Format.DisableSystemZstd";
    private static readonly delegate* unmanaged<IntPtr> CreateContext;
    private static readonly delegate* unmanaged<IntPtr, nuint> FreeContext;
    private static readonly delegate* unmanaged<IntPtr, byte*, nuint, byte*, nuint, nuint> DecompressContext;
    private static readonly delegate* unmanaged<nuint, uint> IsError;
    private static readonly delegate* unmanaged<nuint, int> ErrorCode;

    static SystemZstd()
    {
        if (AppContext.TryGetSwitch(DisableSwitch, out var disabled) && disabled)
        {
            return;
        }

        var library = IntPtr.Zero;
        foreach (var name in new[] { "libzstd.so.1", "libzstd.1.dylib", "libzstd" })
        {
            if (NativeLibrary.TryLoad(name, typeof(SystemZstd).Assembly, null, out library))
            {
                break;
            }
        }

        if (library == IntPtr.Zero
            || !NativeLibrary.TryGetExport(library, "ZSTD_versionNumber", out var version)
            || ((delegate* unmanaged<uint>)version)() < 10400
            || !NativeLibrary.TryGetExport(library, "ZSTD_createDCtx", out var create)
            || !NativeLibrary.TryGetExport(library, "ZSTD_freeDCtx", out var free)
            || !NativeLibrary.TryGetExport(library, "ZSTD_decompressDCtx", out var decompress)
            || !NativeLibrary.TryGetExport(library, "ZSTD_isError", out var isError)
            || !NativeLibrary.TryGetExport(library, "ZSTD_getErrorCode", out var errorCode))
        {
            return;
        }

        CreateContext = (delegate* unmanaged<IntPtr>)create;
        FreeContext = (delegate* unmanaged<IntPtr, nuint>)free;
        DecompressContext = (delegate* unmanaged<IntPtr, byte*, nuint, byte*, nuint, nuint>)decompress;
        IsError = (delegate* unmanaged<nuint, uint>)isError;
        ErrorCode = (delegate* unmanaged<nuint, int>)errorCode;
        Available = true;
    }

    /// <summary>Whether frames decode through the system's library.</summary>
    public static bool Available { get; }

    /// <summary>A new decompression context, or zero when the library is missing or out of memory.</summary>
    public static IntPtr Create() => Available ? CreateContext() : IntPtr.Zero;

    /// <summary>Frees a context from <see cref="Create"/>.</summary>
    public static void Free(IntPtr context)
    {
        if (context != IntPtr.Zero)
        {
            FreeContext(context);
        }
    }

    /// <summary>Decodes one frame; returns the bytes written, or a negative zstd error code.</summary>
    public static long Decompress(IntPtr context, byte* destination, nuint capacity, byte* source, nuint length)
    {
        var result = DecompressContext(context, destination, capacity, source, length);
        return IsError(result) != 0 ? -ErrorCode(result) : (long)result;
    }
}
