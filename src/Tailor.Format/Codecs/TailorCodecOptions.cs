namespace Tailor.Format.Codecs;

/// <summary>
/// Encoder choices of the <c>tailor</c> codec. They change which valid layout the encoder picks, never
/// the format: any block decodes with any options, and the codec id stays that of the version (2, 3 or 4).
/// </summary>
public sealed class TailorCodecOptions
{
    /// <summary>The defaults listed on each property.</summary>
    public static TailorCodecOptions Default { get; } = new();

    /// <summary>
    /// Whether the encoder tries zstd over the block body and keeps it when it saves at least
    /// <see cref="ZstdMinSavings"/>. Default: <c>null</c>, which means on for versions 1 (<c>tailor</c>) and
    /// 3 (<c>tailor3</c>) and off for version 2 (<c>tailor2</c>). Version 3 keeps a compressed block only
    /// when it is smaller than the plain one, block by block (<c>docs/codecs.md</c>).
    /// </summary>
    public bool? UseZstd { get; init; }

    /// <summary>The zstd level used when <see cref="UseZstd"/> is on (1 .. 19). Default: 3.</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>
    /// Bodies shorter than this many bytes are never compressed. Default: <c>null</c>, which means 128 for
    /// versions 1 and 2 and 24 for version 3 (a zstd frame of a shorter body is never smaller than it).
    /// </summary>
    public int? ZstdMinBodyLength { get; init; }

    /// <summary>
    /// The share of the block zstd must save for the compressed form to be kept, in [0, 1). Decoding a
    /// compressed block costs a decompression, so small gains may not be worth it. Default: <c>null</c>,
    /// which means 0.125 for versions 1 and 2 and 0 (any saving) for version 3.
    /// </summary>
    public double? ZstdMinSavings { get; init; }

    /// <summary>
    /// The largest decimal exponent the encoder tries when it scales values to integers (value =
    /// integer / 10^e), 0 .. 18. Default: 18.
    /// </summary>
    public int MaxDecimalExponent { get; init; } = 18;

    internal const int DefaultZstdMinBodyLength = 128;
    internal const int MeasuredZstdMinBodyLength = 24;
    internal const double DefaultZstdMinSavings = 0.125;

    internal void Validate()
    {
        if (ZstdLevel is < 1 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdLevel), ZstdLevel, "The zstd level must be 1 .. 19.");
        }

        if (ZstdMinBodyLength is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdMinBodyLength), ZstdMinBodyLength, "Must be non-negative.");
        }

        if (ZstdMinSavings is < 0 or >= 1 or double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdMinSavings), ZstdMinSavings, "Must be in [0, 1).");
        }

        if (MaxDecimalExponent is < 0 or > 18)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDecimalExponent), MaxDecimalExponent, "Must be 0 .. 18.");
        }
    }
}
