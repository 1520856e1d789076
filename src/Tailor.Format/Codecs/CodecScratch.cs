using Tailor.Format.Zstd;
using ZstdSharp.Unsafe;

namespace Tailor.Format.Codecs;

/// <summary>
/// Working memory and zstd contexts of the codecs, taken from a process-wide pool for one call and
/// given back at its end, and grown (never shrunk) to the largest block they have seen, so
/// steady-state encoding and decoding allocate nothing, whichever threads call: a thread the pool has
/// not seen before reuses what another one left rather than growing its own. The native contexts are
/// freed by the finalizer of a scratch the pool has no room for.
/// </summary>
internal sealed unsafe class CodecScratch
{
    // More than enough for every thread that encodes or decodes at once; a scratch returned to a full pool is dropped.
    private static readonly CodecScratch?[] s_pool = new CodecScratch?[64];
    private static readonly Lock s_gate = new();
    private static int s_pooled;

    private ZSTD_CCtx_s* _compressor;
    private ZSTD_DCtx_s* _decompressor;
    private IntPtr _systemDecompressor;

    public long[] LongsA = [];
    public long[] LongsB = [];
    public long[] LongsC = [];
    public long[] LongsD = [];
    public long[] LongsE = [];
    public long[] LongsF = [];
    public long[] LongsG = [];
    public int[] Positions = [];
    public int[] PositionsB = [];
    public byte[] Bytes = [];
    public byte[] FrameBytes = [];
    public byte[] BodyBytes = [];
    public long[] Denominators = [];

    /// <summary>A scratch for the caller alone until it gives it back with <see cref="Return"/>.</summary>
    public static CodecScratch Rent()
    {
        lock (s_gate)
        {
            if (s_pooled > 0)
            {
                var scratch = s_pool[--s_pooled]!;
                s_pool[s_pooled] = null;
                return scratch;
            }
        }

        return new CodecScratch();
    }

    /// <summary>Gives a scratch from <see cref="Rent"/> back; the caller must not use it afterwards.</summary>
    public static void Return(CodecScratch scratch)
    {
        lock (s_gate)
        {
            if (s_pooled < s_pool.Length)
            {
                s_pool[s_pooled++] = scratch;
            }
        }
    }

    ~CodecScratch()
    {
        if (_compressor != null)
        {
            Methods.ZSTD_freeCCtx(_compressor);
        }

        if (_decompressor != null)
        {
            Methods.ZSTD_freeDCtx(_decompressor);
        }

        SystemZstd.Free(_systemDecompressor);
    }

    public void EnsurePoints(int count)
    {
        if (LongsA.Length < count)
        {
            int size = Math.Max(count, 1024);
            LongsA = GC.AllocateUninitializedArray<long>(size);
            LongsB = GC.AllocateUninitializedArray<long>(size);
            LongsC = GC.AllocateUninitializedArray<long>(size);
            LongsD = GC.AllocateUninitializedArray<long>(size);
            LongsE = GC.AllocateUninitializedArray<long>(size);
            LongsF = GC.AllocateUninitializedArray<long>(size);
            LongsG = GC.AllocateUninitializedArray<long>(size);
            Positions = GC.AllocateUninitializedArray<int>(size);
            PositionsB = GC.AllocateUninitializedArray<int>(size);
        }
    }

    /// <summary>The decoder's column of quotient denominators, at least <paramref name="count"/> long.</summary>
    public long[] EnsureDenominators(int count)
    {
        if (Denominators.Length < count)
        {
            Denominators = GC.AllocateUninitializedArray<long>(Math.Max(count, 1024));
        }

        return Denominators;
    }

    public byte[] EnsureBytes(int count)
    {
        if (Bytes.Length < count)
        {
            Bytes = GC.AllocateUninitializedArray<byte>(Math.Max(count, 4096));
        }

        return Bytes;
    }

    /// <summary>A second frame buffer, for version 3's second candidate block.</summary>
    public byte[] EnsureFrameBytes(int count)
    {
        if (FrameBytes.Length < count)
        {
            FrameBytes = GC.AllocateUninitializedArray<byte>(Math.Max(count, 4096));
        }

        return FrameBytes;
    }

    /// <summary>A body buffer, for version 3's second candidate body.</summary>
    public byte[] EnsureBodyBytes(int count)
    {
        if (BodyBytes.Length < count)
        {
            BodyBytes = GC.AllocateUninitializedArray<byte>(Math.Max(count, 4096));
        }

        return BodyBytes;
    }

    /// <summary>Compresses into <paramref name="destination"/>; returns the frame length, or -1 when it does not fit.</summary>
    public int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (_compressor == null)
        {
            _compressor = Methods.ZSTD_createCCtx();
        }

        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            nuint written = Methods.ZSTD_compressCCtx(_compressor, dst, (nuint)destination.Length, src, (nuint)source.Length, level);
            return Methods.ZSTD_isError(written) ? -1 : (int)written;
        }
    }

    /// <summary>Decompresses one or more frames; returns the bytes produced, or -1 on any error (damage, too small a destination).</summary>
    public int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        // The machine's libzstd decodes a block's small frame about 1.8 times as fast as the managed port
        // (docs/codecs.md); valid frames decode to the same bytes either way.
        if (_systemDecompressor == IntPtr.Zero && SystemZstd.Available)
        {
            _systemDecompressor = SystemZstd.Create();
        }

        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            if (_systemDecompressor != IntPtr.Zero)
            {
                long produced = SystemZstd.Decompress(_systemDecompressor, dst, (nuint)destination.Length, src, (nuint)source.Length);
                return produced < 0 ? -1 : (int)produced;
            }

            if (_decompressor == null)
            {
                _decompressor = Methods.ZSTD_createDCtx();
            }

            nuint written = Methods.ZSTD_decompressDCtx(_decompressor, dst, (nuint)destination.Length, src, (nuint)source.Length);
            return Methods.ZSTD_isError(written) ? -1 : (int)written;
        }
    }
}
