namespace Tailor.Benchmarks.Codecs;

/// <summary>A set of series blocks that the codec comparison measures, grouped into families.</summary>
public interface ICodecCorpus
{
    /// <summary>Blocks in the corpus.</summary>
    int SeriesCount { get; }

    /// <summary>Points in the corpus.</summary>
    long PointCount { get; }

    /// <summary>The largest block's point count.</summary>
    int MaxSeriesPointCount { get; }

    /// <summary>The family names, in the order <see cref="GetFamily"/> refers to.</summary>
    IReadOnlyList<string> Families { get; }

    /// <summary>The family index of block <paramref name="series"/>.</summary>
    int GetFamily(int series);

    /// <summary>A short description of block <paramref name="series"/> for error messages.</summary>
    string Describe(int series);

    /// <summary>Timestamps of block <paramref name="series"/>.</summary>
    ReadOnlySpan<long> GetTimestamps(int series);

    /// <summary>Values of block <paramref name="series"/>.</summary>
    ReadOnlySpan<double> GetValues(int series);
}
