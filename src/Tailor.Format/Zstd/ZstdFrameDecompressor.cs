using System.Runtime.InteropServices;
using ZstdSharp.Unsafe;

namespace Tailor.Format.Zstd;

/// <summary>The outcome of decoding one zstd frame; anything but <see cref="Ok"/> is damage.</summary>
public enum ZstdFrameStatus
{
    /// <summary>The frame decoded completely.</summary>
    Ok = 0,
    /// <summary>The bytes do not start with the zstd frame magic number.</summary>
    NotAFrame,
    /// <summary>The frame header is incomplete or invalid.</summary>
    BadHeader,
    /// <summary>The frame declares (or produces) more content than the configured maximum.</summary>
    TooLarge,
    /// <summary>The frame's compressed data is corrupt or truncated.</summary>
    Corrupt,
    /// <summary>The bytes hold more than one frame or trailing bytes after the frame.</summary>
    TrailingBytes,
}

/// <summary>
/// Decodes single standard zstd frames through one reused decompression context, never allocating
/// more than the caller's bound: a frame that declares or produces more content is reported as
/// damage, never as an allocation.
/// </summary>
/// <remarks>Not thread-safe: give each thread its own instance. Dispose frees the native context.</remarks>
public sealed unsafe class ZstdFrameDecompressor : IDisposable
{
    private const uint FrameMagic = 0xFD2FB528;
    private const ulong ContentSizeUnknown = unchecked(0UL - 1);
    private const ulong ContentSizeError = unchecked(0UL - 2);

    private ZSTD_DCtx_s* _context;
    private IntPtr _system;

    /// <summary>Creates a decompressor with its own native context (the system's zstd when it has one: see <see cref="UsesSystemLibrary"/>).</summary>
    public ZstdFrameDecompressor()
        : this(useSystemLibrary: true)
    {
    }

    /// <summary>Creates a decompressor that decodes through the managed port only, or through the system's library when it has one.</summary>
    internal ZstdFrameDecompressor(bool useSystemLibrary)
    {
        _system = useSystemLibrary ? SystemZstd.Create() : IntPtr.Zero;
        if (_system != IntPtr.Zero)
        {
            return;
        }

        _context = Methods.ZSTD_createDCtx();
        if (_context == null)
        {
            throw new InsufficientExecutionStackException("zstd could not create a decompression context.");
        }
    }

    /// <summary>
    /// Whether frames decode through the machine's own zstd library (<c>libzstd.so.1</c>, version 1.4
    /// or later), which is faster than the managed port; false when it is missing or the AppContext
    /// switch <c>Tailor.Format.DisableSystemZstd</c> is set. Valid frames decode to the same bytes either way.
    /// </summary>
    public bool UsesSystemLibrary => _system != IntPtr.Zero;

    /// <summary>Whether <paramref name="data"/> starts with the zstd frame magic number.</summary>
    public static bool StartsWithFrameMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data) == FrameMagic;

    /// <summary>
    /// Reads the content size a frame declares in its header.
    /// </summary>
    /// <param name="frame">The frame, at least its header.</param>
    /// <param name="contentSize">The declared size, or -1 when the frame does not declare it.</param>
    /// <returns><see cref="ZstdFrameStatus.Ok"/>, <see cref="ZstdFrameStatus.NotAFrame"/> or <see cref="ZstdFrameStatus.BadHeader"/>.</returns>
    public static ZstdFrameStatus TryGetContentSize(ReadOnlySpan<byte> frame, out long contentSize)
    {
        contentSize = -1;
        if (!StartsWithFrameMagic(frame))
        {
            return ZstdFrameStatus.NotAFrame;
        }

        ulong size;
        fixed (byte* src = &MemoryMarshal.GetReference(frame))
        {
            size = Methods.ZSTD_getFrameContentSize(src, (nuint)frame.Length);
        }

        if (size == ContentSizeError)
        {
            return ZstdFrameStatus.BadHeader;
        }

        contentSize = size == ContentSizeUnknown ? -1 : size > long.MaxValue ? long.MaxValue : (long)size;
        return ZstdFrameStatus.Ok;
    }

    /// <summary>
    /// Decodes the single frame that fills <paramref name="frame"/> exactly into <paramref name="destination"/>.
    /// </summary>
    /// <param name="frame">Exactly one zstd frame, nothing before or after it.</param>
    /// <param name="destination">Where the content goes; its length is the bound on the content size.</param>
    /// <param name="written">The content length on success, else 0.</param>
    /// <returns><see cref="ZstdFrameStatus.Ok"/> or the kind of damage found. Never throws on bad data.</returns>
    public ZstdFrameStatus Decompress(ReadOnlySpan<byte> frame, Span<byte> destination, out int written)
    {
        ObjectDisposedException.ThrowIf(_context == null && _system == IntPtr.Zero, this);
        written = 0;
        var status = TryGetContentSize(frame, out var declared);
        if (status != ZstdFrameStatus.Ok)
        {
            return status;
        }

        if (declared > destination.Length)
        {
            return ZstdFrameStatus.TooLarge;
        }

        nuint result;
        fixed (byte* src = &MemoryMarshal.GetReference(frame))
        fixed (byte* dst = &MemoryMarshal.GetReference(destination))
        {
            var frameLength = Methods.ZSTD_findFrameCompressedSize(src, (nuint)frame.Length);
            if (Methods.ZSTD_isError(frameLength))
            {
                return ZstdFrameStatus.Corrupt;
            }

            if (frameLength != (nuint)frame.Length)
            {
                return ZstdFrameStatus.TrailingBytes;
            }

            if (_system != IntPtr.Zero)
            {
                var produced = SystemZstd.Decompress(_system, dst, (nuint)destination.Length, src, (nuint)frame.Length);
                if (produced < 0)
                {
                    return (ZSTD_ErrorCode)(-produced) == ZSTD_ErrorCode.ZSTD_error_dstSize_tooSmall ? ZstdFrameStatus.TooLarge : ZstdFrameStatus.Corrupt;
                }

                result = (nuint)produced;
            }
            else
            {
                result = Methods.ZSTD_decompressDCtx(_context, dst, (nuint)destination.Length, src, (nuint)frame.Length);
                if (Methods.ZSTD_isError(result))
                {
                    var code = Methods.ZSTD_getErrorCode(result);
                    return code == ZSTD_ErrorCode.ZSTD_error_dstSize_tooSmall ? ZstdFrameStatus.TooLarge : ZstdFrameStatus.Corrupt;
                }
            }
        }

        if (declared >= 0 && (long)result != declared)
        {
            return ZstdFrameStatus.Corrupt;
        }

        written = (int)result;
        return ZstdFrameStatus.Ok;
    }

    /// <summary>Frees the native context.</summary>
    public void Dispose()
    {
        if (_context != null)
        {
            Methods.ZSTD_freeDCtx(_context);
            _context = null;
        }

        SystemZstd.Free(_system);
        _system = IntPtr.Zero;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native context if <see cref="Dispose"/> was not called.</summary>
    ~ZstdFrameDecompressor()
    {
        if (_context != null)
        {
            Methods.ZSTD_freeDCtx(_context);
        }

        SystemZstd.Free(_system);
    }
}
