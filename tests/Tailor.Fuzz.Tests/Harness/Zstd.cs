using ZstdSharp.Unsafe;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>zstd helpers the product does not offer: frames without a declared content size.</summary>
public static unsafe class Zstd
{
    /// <summary>Compresses <paramref name="source"/> into one frame that does not declare its content size.</summary>
    public static byte[] CompressWithoutContentSize(ReadOnlySpan<byte> source, int level = 3)
    {
        var context = Methods.ZSTD_createCCtx();
        try
        {
            Methods.ZSTD_CCtx_setParameter(context, ZSTD_cParameter.ZSTD_c_compressionLevel, level);
            Methods.ZSTD_CCtx_setParameter(context, ZSTD_cParameter.ZSTD_c_contentSizeFlag, 0);
            var destination = new byte[(int)Methods.ZSTD_compressBound((nuint)source.Length)];
            nuint written;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                written = Methods.ZSTD_compress2(context, dst, (nuint)destination.Length, src, (nuint)source.Length);
            }

            if (Methods.ZSTD_isError(written))
            {
                throw new InvalidOperationException("zstd failed to compress a test input.");
            }

            return destination.AsSpan(0, (int)written).ToArray();
        }
        finally
        {
            Methods.ZSTD_freeCCtx(context);
        }
    }

    /// <summary>Compresses <paramref name="source"/> into one frame that declares its content size.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> source, int level = 3)
    {
        using var compressor = new Tailor.Format.Zstd.ZstdFrameCompressor(level);
        var destination = new byte[Tailor.Format.Zstd.ZstdFrameCompressor.GetMaxFrameLength(source.Length)];
        return destination.AsSpan(0, compressor.Compress(source, destination)).ToArray();
    }
}
