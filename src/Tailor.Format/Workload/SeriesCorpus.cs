namespace Tailor.Format.Workload;

/// <summary>
/// A seeded population of series over one window, held as columns: the standard corpus that codec
/// tests and the format benchmark measure against.
/// </summary>
/// <remarks>
/// Series <c>i</c> is <see cref="SeriesMix.Pick"/>(seed, i), generated over the window. A share of
/// series (<c>churnShare</c>) lives for only part of the window, the way containers come and go:
/// such a series starts late, ends early, or both, at uniformly drawn instants. The corpus owns its
/// arrays; the spans it returns stay valid as long as the corpus does.
/// </remarks>
public sealed class SeriesCorpus
{
    /// <summary>The default window start, 2026-11-26T00:00Z, in Unix epoch seconds.</summary>
    public const long DefaultWindowStart = 1_795_651_200;

    /// <summary>The default window length: 4 hours.</summary>
    public const long DefaultWindowSeconds = 4 * 3600;

    /// <summary>The default share of series that live for only part of the window: 0.1.</summary>
    public const double DefaultChurnShare = 0.1;

    private readonly long[] _timestamps;
    private readonly double[] _values;
    private readonly long[] _offsets;
    private readonly SeriesSpec[] _specs;

    private SeriesCorpus(long[] timestamps, double[] values, long[] offsets, SeriesSpec[] specs, long windowStart, long windowSeconds)
    {
        _timestamps = timestamps;
        _values = values;
        _offsets = offsets;
        _specs = specs;
        WindowStart = windowStart;
        WindowSeconds = windowSeconds;
    }

    /// <summary>The number of series.</summary>
    public int SeriesCount => _specs.Length;

    /// <summary>The number of points over all series.</summary>
    public long PointCount => _offsets[^1];

    /// <summary>The window start (Unix epoch seconds).</summary>
    public long WindowStart { get; }

    /// <summary>The window length in seconds.</summary>
    public long WindowSeconds { get; }

    /// <summary>The largest number of points of one series.</summary>
    public int MaxSeriesPointCount
    {
        get
        {
            long max = 0;
            for (int i = 0; i < _specs.Length; i++)
            {
                max = Math.Max(max, _offsets[i + 1] - _offsets[i]);
            }

            return (int)max;
        }
    }

    /// <summary>Generates a corpus.</summary>
    /// <param name="mix">The family and interval mix (usually <see cref="SeriesMix.Default"/>).</param>
    /// <param name="seed">The population seed.</param>
    /// <param name="seriesCount">How many series (positive).</param>
    /// <param name="windowStart">Window start, Unix epoch seconds (default <see cref="DefaultWindowStart"/>).</param>
    /// <param name="windowSeconds">Window length in seconds (default <see cref="DefaultWindowSeconds"/>).</param>
    /// <param name="churnShare">Share of series living for only part of the window, in [0, 1] (default <see cref="DefaultChurnShare"/>).</param>
    /// <returns>The corpus.</returns>
    public static SeriesCorpus Generate(SeriesMix mix, ulong seed, int seriesCount, long windowStart = DefaultWindowStart, long windowSeconds = DefaultWindowSeconds, double churnShare = DefaultChurnShare)
    {
        ArgumentNullException.ThrowIfNull(mix);
        ArgumentOutOfRangeException.ThrowIfLessThan(seriesCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSeconds, 1);
        if (churnShare is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(churnShare), churnShare, "The churn share must be in [0, 1].");
        }

        var specs = new SeriesSpec[seriesCount];
        var starts = new long[seriesCount];
        var ends = new long[seriesCount];
        long capacity = 0;
        for (int i = 0; i < seriesCount; i++)
        {
            specs[i] = mix.Pick(seed, i);
            ulong state = WorkloadRandom.Mix(specs[i].Seed, 0x636875726EUL);
            long start = windowStart;
            long end = windowStart + windowSeconds;
            if (WorkloadRandom.Chance(ref state, churnShare))
            {
                int shape = WorkloadRandom.NextInt(ref state, 3);
                long a = (long)(WorkloadRandom.NextDouble(ref state) * windowSeconds);
                long b = (long)(WorkloadRandom.NextDouble(ref state) * windowSeconds);
                if (shape == 0)
                {
                    start = windowStart + a; // born during the window
                }
                else if (shape == 1)
                {
                    end = windowStart + a; // gone during the window
                }
                else
                {
                    start = windowStart + Math.Min(a, b);
                    end = windowStart + Math.Max(a, b);
                }
            }

            starts[i] = start;
            ends[i] = end;
            capacity += SeriesGenerator.GetMaxPointCount(specs[i].IntervalSeconds, end - start);
        }

        var timestamps = new long[capacity];
        var values = new double[capacity];
        var offsets = new long[seriesCount + 1];
        long at = 0;
        for (int i = 0; i < seriesCount; i++)
        {
            offsets[i] = at;
            var generator = specs[i].CreateGenerator(starts[i]);
            int room = SeriesGenerator.GetMaxPointCount(specs[i].IntervalSeconds, ends[i] - starts[i]);
            at += generator.Fill(ends[i], timestamps.AsSpan((int)at, room), values.AsSpan((int)at, room));
        }

        offsets[seriesCount] = at;
        Array.Resize(ref timestamps, (int)at);
        Array.Resize(ref values, (int)at);
        return new SeriesCorpus(timestamps, values, offsets, specs, windowStart, windowSeconds);
    }

    /// <summary>The spec (family, interval, seed) of series <paramref name="series"/>.</summary>
    /// <param name="series">A series index, 0 .. <see cref="SeriesCount"/> - 1.</param>
    /// <returns>The spec.</returns>
    public SeriesSpec GetSpec(int series) => _specs[series];

    /// <summary>The timestamps of series <paramref name="series"/>, strictly increasing.</summary>
    /// <param name="series">A series index.</param>
    /// <returns>A view of the corpus' storage.</returns>
    public ReadOnlySpan<long> GetTimestamps(int series) => _timestamps.AsSpan((int)_offsets[series], (int)(_offsets[series + 1] - _offsets[series]));

    /// <summary>The values of series <paramref name="series"/>.</summary>
    /// <param name="series">A series index.</param>
    /// <returns>A view of the corpus' storage.</returns>
    public ReadOnlySpan<double> GetValues(int series) => _values.AsSpan((int)_offsets[series], (int)(_offsets[series + 1] - _offsets[series]));
}
