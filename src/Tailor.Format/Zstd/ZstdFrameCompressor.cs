using System.Runtime.InteropServices;
using ZstdSharp.Unsafe;

namespace Tailor.Format.Zstd;

/// <summary>
/// Compresses whole buffers into single standard zstd frames (with the content size in the frame
/// header) through one reused compression context.
/// </summary>
/// <remarks>
/// Not thread-safe: give each thread its own instance. The native context is created once and
/// freed by <see cref="Dispose"/>; no call allocates managed memory.
/// </remarks>
public sealed unsafe class ZstdFrameCompressor : IDisposable
{
    /// <summary>The compression level used when none is given: 3, zstd's own default.</summary>
    public const int DefaultLevel = 3;

    private ZSTD_CCtx_s* _context;

    /// <summary>Creates a compressor at the given level (1 to 22; negative levels are faster).</summary>
    /// <param name="level">The zstd compression level. Default <see cref="DefaultLevel"/>.</param>
    public ZstdFrameCompressor(int level = DefaultLevel)
    {
        _context = Methods.ZSTD_createCCtx();
        if (_context == null)
        {
            throw new InsufficientExecutionStackException("zstd could not create a compression context.");
        }

        Check(Methods.ZSTD_CCtx_setParameter(_context, ZSTD_cParameter.ZSTD_c_compressionLevel, level));
        Check(Methods.ZSTD_CCtx_setParameter(_context, ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1));
        Check(Methods.ZSTD_CCtx_setParameter(_context, ZSTD_cParameter.ZSTD_c_checksumFlag, 0));
        Level = level;
    }

    /// <summary>The compression level of this compressor.</summary>
    public int Level { get; }

    /// <summary>The largest frame that compressing <paramref name="sourceLength"/> bytes can produce.</summary>
    public static int GetMaxFrameLength(int sourceLength) => checked((int)Methods.ZSTD_compressBound((nuint)sourceLength));

    /// <summary>Compresses <paramref name="source"/> into one frame written at the start of <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="GetMaxFrameLength"/> requires and the frame did not fit.</exception>
    public int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_context == null, this);
        nuint written;
        fixed (byte* src = &MemoryMarshal.GetReference(source))
        fixed (byte* dst = &MemoryMarshal.GetReference(destination))
        {
            Methods.ZSTD_CCtx_reset(_context, ZSTD_ResetDirective.ZSTD_reset_session_only);
            written = Methods.ZSTD_compress2(_context, dst, (nuint)destination.Length, src, (nuint)source.Length);
        }

        if (Methods.ZSTD_isError(written))
        {
            ThrowCompressFailed(written, destination.Length);
        }

        return (int)written;
    }

    /// <summary>Frees the native context.</summary>
    public void Dispose()
    {
        if (_context != null)
        {
            Methods.ZSTD_freeCCtx(_context);
            _context = null;
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native context if <see cref="Dispose"/> was not called.</summary>
    ~ZstdFrameCompressor()
    {
        if (_context != null)
        {
            Methods.ZSTD_freeCCtx(_context);
        }
    }

    private static void Check(nuint code)
    {
        if (Methods.ZSTD_isError(code))
        {
            throw new ArgumentException($"zstd rejected a parameter: {Methods.ZSTD_getErrorName(code)}");
        }
    }

    private static void ThrowCompressFailed(nuint code, int destinationLength) =>
        throw new ArgumentException($"zstd compression failed ({Methods.ZSTD_getErrorName(code)}); destination had {destinationLength} bytes.");
}
