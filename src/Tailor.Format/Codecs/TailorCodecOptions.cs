namespace Tailor.Format.Codecs;

/// <summary>
/// Encoder choices of the <c>tailor</c> codec. They change which valid layout the encoder picks, never
/// the format: any block decodes with any options, and the codec id stays that of the version (2 or 3).
/// </summary>
public sealed class TailorCodecOptions
{
    /// <summary>The defaults listed on each property.</summary>
    public static TailorCodecOptions Default { get; } = new();

    /// <summary>
    /// Whether the encoder tries zstd over the block body and keeps it when it saves at least
    /// <see cref="ZstdMinSavings"/>. Default: <c>null</c>, which means on for version 1 (<c>tailor</c>)
    /// and off for version 2 (<c>tailor2</c>). On the standard workload zstd saves version 1 1.6% of
    /// the bytes and version 2, whose quotient columns leave it little to find, 0.4%; either way it
    /// costs about a quarter of the encode time and 8% of decode speed (<c>docs/codecs.md</c>).
    /// </summary>
    public bool? UseZstd { get; init; }

    /// <summary>The zstd level used when <see cref="UseZstd"/> is on (1 .. 19). Default: 3.</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>Bodies shorter than this many bytes are never compressed. Default: 128.</summary>
    public int ZstdMinBodyLength { get; init; } = 128;

    /// <summary>
    /// The share of the body zstd must save for the compressed form to be kept, in [0, 1). Decoding a
    /// compressed block costs a decompression, so small gains are not worth it. Default: 0.125.
    /// </summary>
    public double ZstdMinSavings { get; init; } = 0.125;

    /// <summary>
    /// The largest decimal exponent the encoder tries when it scales values to integers (value =
    /// integer / 10^e), 0 .. 18. Default: 18.
    /// </summary>
    public int MaxDecimalExponent { get; init; } = 18;

    internal void Validate()
    {
        if (ZstdLevel is < 1 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdLevel), ZstdLevel, "The zstd level must be 1 .. 19.");
        }

        if (ZstdMinBodyLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdMinBodyLength), ZstdMinBodyLength, "Must be non-negative.");
        }

        if (ZstdMinSavings is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdMinSavings), ZstdMinSavings, "Must be in [0, 1).");
        }

        if (MaxDecimalExponent is < 0 or > 18)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDecimalExponent), MaxDecimalExponent, "Must be 0 .. 18.");
        }
    }
}
