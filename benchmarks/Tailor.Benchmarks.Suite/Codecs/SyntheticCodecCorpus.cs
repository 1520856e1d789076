using Tailor.Format.Workload;

namespace Tailor.Benchmarks.Codecs;

/// <summary>The generated workload corpus (<see cref="SeriesCorpus"/>) seen as a <see cref="ICodecCorpus"/>, families by <see cref="SeriesFamily"/>.</summary>
/// <param name="corpus">The generated corpus.</param>
public sealed class SyntheticCodecCorpus(SeriesCorpus corpus) : ICodecCorpus
{
    private static readonly string[] s_families = [.. Enumerable.Range(0, SeriesFamilies.Count).Select(f => SeriesFamilies.GetName((SeriesFamily)f))];

    /// <inheritdoc/>
    public int SeriesCount => corpus.SeriesCount;

    /// <inheritdoc/>
    public long PointCount => corpus.PointCount;

    /// <inheritdoc/>
    public int MaxSeriesPointCount => corpus.MaxSeriesPointCount;

    /// <inheritdoc/>
    public IReadOnlyList<string> Families => s_families;

    /// <inheritdoc/>
    public int GetFamily(int series) => (int)corpus.GetSpec(series).Family;

    /// <inheritdoc/>
    public string Describe(int series) => corpus.GetSpec(series).ToString();

    /// <inheritdoc/>
    public ReadOnlySpan<long> GetTimestamps(int series) => corpus.GetTimestamps(series);

    /// <inheritdoc/>
    public ReadOnlySpan<double> GetValues(int series) => corpus.GetValues(series);
}
