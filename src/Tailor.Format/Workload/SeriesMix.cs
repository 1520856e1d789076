namespace Tailor.Format.Workload;

/// <summary>What the mix assigns to one series of a population: its family, interval and seed.</summary>
/// <param name="Family">The series family.</param>
/// <param name="IntervalSeconds">The nominal spacing of its points.</param>
/// <param name="Seed">The seed of its generator, derived from the population seed and the series index.</param>
public readonly record struct SeriesSpec(SeriesFamily Family, int IntervalSeconds, ulong Seed)
{
    /// <summary>Creates the series' generator positioned at <paramref name="startSeconds"/>.</summary>
    /// <param name="startSeconds">No point is earlier than this.</param>
    /// <returns>The generator.</returns>
    public SeriesGenerator CreateGenerator(long startSeconds) => SeriesGenerator.Create(Family, IntervalSeconds, Seed, startSeconds);
}

/// <summary>A family and its integer weight in a <see cref="SeriesMix"/>.</summary>
/// <param name="Family">The family.</param>
/// <param name="Weight">Its share relative to the other weights (non-negative).</param>
public readonly record struct FamilyWeight(SeriesFamily Family, int Weight);

/// <summary>An interval and its integer weight in a <see cref="SeriesMix"/>.</summary>
/// <param name="IntervalSeconds">The interval in seconds.</param>
/// <param name="Weight">Its share relative to the other weights (non-negative).</param>
public readonly record struct IntervalWeight(int IntervalSeconds, int Weight);

/// <summary>
/// The family and interval mix of a seeded population of series: series <c>i</c> of population
/// <c>seed</c> always gets the same <see cref="SeriesSpec"/>, independently of every other series.
/// </summary>
/// <remarks>
/// Weights are integers so that the draw is exact arithmetic. <see cref="SeriesFamily.Sparse"/>
/// series always get a 10 s interval (a StatsD-style flush); every other family draws from the
/// interval weights. Instances are immutable and thread-safe.
/// </remarks>
public sealed class SeriesMix
{
    private readonly FamilyWeight[] _families;
    private readonly IntervalWeight[] _intervals;
    private readonly long _familyTotal;
    private readonly long _intervalTotal;

    /// <summary>
    /// The default mix (weights per thousand series), argued in <c>docs/workload.md</c>: counter 300,
    /// integer gauge 150, rounded percent 60, ratio percent 60, temperature 50, latency 120, constant
    /// 100, step 80, sparse 50, jittered 30; intervals 10 s 300, 15 s 400, 60 s 300.
    /// </summary>
    public static SeriesMix Default { get; } = new(
        [
            new(SeriesFamily.Counter, 300),
            new(SeriesFamily.IntegerGauge, 150),
            new(SeriesFamily.RoundedPercent, 60),
            new(SeriesFamily.RatioPercent, 60),
            new(SeriesFamily.Temperature, 50),
            new(SeriesFamily.Latency, 120),
            new(SeriesFamily.Constant, 100),
            new(SeriesFamily.Step, 80),
            new(SeriesFamily.Sparse, 50),
            new(SeriesFamily.Jittered, 30),
        ],
        [
            new(10, 300),
            new(15, 400),
            new(60, 300),
        ]);

    /// <summary>Creates a mix.</summary>
    /// <param name="families">Families with weights; at least one positive weight.</param>
    /// <param name="intervals">Intervals (1 .. 86,400 s) with weights; at least one positive weight.</param>
    /// <exception cref="ArgumentException">A weight is negative, an interval is out of range, or all weights are zero.</exception>
    public SeriesMix(IReadOnlyList<FamilyWeight> families, IReadOnlyList<IntervalWeight> intervals)
    {
        ArgumentNullException.ThrowIfNull(families);
        ArgumentNullException.ThrowIfNull(intervals);
        _families = [.. families];
        _intervals = [.. intervals];
        foreach (var f in _families)
        {
            if (f.Weight < 0 || (uint)f.Family >= SeriesFamilies.Count)
            {
                throw new ArgumentException($"Invalid family weight {f}.", nameof(families));
            }

            _familyTotal += f.Weight;
        }

        foreach (var i in _intervals)
        {
            if (i.Weight < 0 || i.IntervalSeconds is < 1 or > 86_400)
            {
                throw new ArgumentException($"Invalid interval weight {i}.", nameof(intervals));
            }

            _intervalTotal += i.Weight;
        }

        if (_familyTotal == 0 || _intervalTotal == 0)
        {
            throw new ArgumentException("A mix needs at least one positive family weight and one positive interval weight.");
        }
    }

    /// <summary>The families and their weights, in the order given.</summary>
    public IReadOnlyList<FamilyWeight> Families => _families;

    /// <summary>The intervals and their weights, in the order given.</summary>
    public IReadOnlyList<IntervalWeight> Intervals => _intervals;

    /// <summary>The share of series the mix gives <paramref name="family"/>, in [0, 1].</summary>
    /// <param name="family">A family.</param>
    /// <returns>Its weight over the total weight.</returns>
    public double GetShare(SeriesFamily family)
    {
        long sum = 0;
        foreach (var f in _families)
        {
            if (f.Family == family)
            {
                sum += f.Weight;
            }
        }

        return sum / (double)_familyTotal;
    }

    /// <summary>Picks the family, interval and seed of series <paramref name="seriesIndex"/> of population <paramref name="populationSeed"/>.</summary>
    /// <param name="populationSeed">The population's seed.</param>
    /// <param name="seriesIndex">The series' index in the population (any value).</param>
    /// <returns>The series' spec; the same arguments always give the same spec.</returns>
    public SeriesSpec Pick(ulong populationSeed, long seriesIndex)
    {
        ulong state = WorkloadRandom.Mix(populationSeed, (ulong)seriesIndex);
        ulong seriesSeed = WorkloadRandom.Next(ref state);
        long f = (long)((WorkloadRandom.Next(ref state) >> 1) % (ulong)_familyTotal);
        var family = _families[^1].Family;
        foreach (var entry in _families)
        {
            if (f < entry.Weight)
            {
                family = entry.Family;
                break;
            }

            f -= entry.Weight;
        }

        long k = (long)((WorkloadRandom.Next(ref state) >> 1) % (ulong)_intervalTotal);
        int interval = _intervals[^1].IntervalSeconds;
        foreach (var entry in _intervals)
        {
            if (k < entry.Weight)
            {
                interval = entry.IntervalSeconds;
                break;
            }

            k -= entry.Weight;
        }

        if (family == SeriesFamily.Sparse)
        {
            interval = 10;
        }

        return new SeriesSpec(family, interval, seriesSeed);
    }
}
