using System.Diagnostics.CodeAnalysis;

namespace Tailor.Format.Codecs;

/// <summary>The built-in series codecs and the limits every codec shares.</summary>
public static class SeriesCodecs
{
    /// <summary>The most points one block may hold: 2^24 (a 4 h window at one point per second is 14,400).</summary>
    public const int MaxPointCount = 1 << 24;

    /// <summary>The first codec id available to user codecs; lower ids are reserved for built-ins.</summary>
    public const byte FirstUserCodecId = 128;

    /// <summary>The reference codec: Gorilla's delta-of-delta timestamps and XOR values (id 1, <c>"gorilla"</c>).</summary>
    public static GorillaCodec Gorilla { get; } = new();

    /// <summary>Tailor's codec, version 1, with default options (id 2, <c>"tailor"</c>).</summary>
    public static TailorCodec Tailor { get; } = new();

    /// <summary>Tailor's codec, version 2 (quotient values), with default options (id 3, <c>"tailor2"</c>).</summary>
    public static TailorCodec Tailor2 { get; } = new(TailorCodecOptions.Default, 2);

    /// <summary>
    /// Tailor's codec, version 3 (version 2's layout, choices by measured size: zstd per block where it is
    /// smaller, the smaller of two close value layouts), with default options (id 4, <c>"tailor3"</c>).
    /// </summary>
    public static TailorCodec Tailor3 { get; } = new(TailorCodecOptions.Default, 3);

    /// <summary>
    /// The codec S-files use unless told otherwise: <see cref="Tailor2"/>. <see cref="Tailor3"/> is smaller
    /// on both the synthetic and the real corpus but has not yet shown the decode speed and compaction
    /// figures a default must (docs/codecs.md); choose it with <c>SFileWriterOptions.Codec</c> or
    /// <c>CompactionOptions.Codec</c>.
    /// </summary>
    public static ISeriesCodec Default => Tailor2;

    internal static void ValidateCount(int pointCount)
    {
        if ((uint)pointCount > MaxPointCount)
        {
            ThrowCountOutOfRange(pointCount);
        }
    }

    internal static void ValidateEncodeArguments(ISeriesCodec codec, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination)
    {
        if (timestamps.Length != values.Length)
        {
            ThrowLengthMismatch();
        }

        if (timestamps.Length > MaxPointCount)
        {
            ThrowCountOutOfRange(timestamps.Length);
        }

        if (destination.Length < codec.GetMaxEncodedLength(timestamps.Length))
        {
            ThrowDestinationTooSmall();
        }
    }

    [DoesNotReturn]
    private static void ThrowCountOutOfRange(int count) =>
        throw new ArgumentOutOfRangeException(nameof(count), count, $"A block holds 0 .. {MaxPointCount} points.");

    [DoesNotReturn]
    private static void ThrowLengthMismatch() =>
        throw new ArgumentException("Timestamps and values must have the same length.");

    [DoesNotReturn]
    private static void ThrowDestinationTooSmall() =>
        throw new ArgumentException("The destination is smaller than GetMaxEncodedLength(count).", "destination");
}
