using System.Text.Json.Serialization;

namespace Tailor.Benchmarks.Codecs;

/// <summary>One codec against another on the same corpus.</summary>
public sealed class CodecVersus
{
    /// <summary>The codec's total bytes over the other's.</summary>
    [JsonPropertyName("bytes_ratio")]
    public double BytesRatio { get; set; }

    /// <summary>The share of series (blocks) where the codec's block is no larger.</summary>
    [JsonPropertyName("series_no_larger")]
    public double SeriesNoLarger { get; set; }

    /// <summary>The share of series (blocks) where the codec's block is at most 1% larger.</summary>
    [JsonPropertyName("series_within_1pct")]
    public double SeriesWithinOnePercent { get; set; }
}
