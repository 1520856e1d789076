using System.Text.Json.Serialization;

namespace Tailor.Benchmarks.Codecs;

/// <summary>The default codec against one other codec on the same corpus.</summary>
public sealed class DefaultVersus
{
    /// <summary>The default codec's total bytes over the other's.</summary>
    [JsonPropertyName("bytes_ratio")]
    public double BytesRatio { get; set; }

    /// <summary>The share of series (blocks) where the default codec's block is no larger.</summary>
    [JsonPropertyName("series_no_larger")]
    public double SeriesNoLarger { get; set; }

    /// <summary>The share of series (blocks) where the default codec's block is at most 1% larger.</summary>
    [JsonPropertyName("series_within_1pct")]
    public double SeriesWithinOnePercent { get; set; }
}
