namespace Tailor.Format.Workload;

/// <summary>
/// The kinds of series the realistic workload is made of. Each family fixes how one series' values
/// evolve and how its timestamps are spaced; <c>docs/workload.md</c> gives every family's parameters
/// and its weight in <see cref="SeriesMix.Default"/>.
/// </summary>
/// <remarks>The numeric values are stable: reports, golden files and seeds refer to them.</remarks>
public enum SeriesFamily : byte
{
    /// <summary>A monotonic integer counter (requests, bytes sent) with occasional resets to zero.</summary>
    Counter = 0,

    /// <summary>An integer gauge: bytes in use (often whole 4 KiB pages) or a count (threads, connections).</summary>
    IntegerGauge = 1,

    /// <summary>A percentage rounded by the agent to one or two decimals (disk used, memory used).</summary>
    RoundedPercent = 2,

    /// <summary>A percentage or fraction computed as a ratio of tick counters, kept at full precision (CPU busy).</summary>
    RatioPercent = 3,

    /// <summary>A smooth, noisy reading with one or two decimals (temperatures, load averages).</summary>
    Temperature = 4,

    /// <summary>A full-precision average computed by division, sum over count (latency in ms or seconds).</summary>
    Latency = 5,

    /// <summary>A value that never changes in the window (info metrics, limits, core counts).</summary>
    Constant = 6,

    /// <summary>A value that changes rarely, in steps (replica counts, up/down status, configuration).</summary>
    Step = 7,

    /// <summary>An event-driven series (StatsD-style flush of non-zero counts) with gaps between bursts.</summary>
    Sparse = 8,

    /// <summary>A pushed gauge whose timestamps jitter by seconds around the nominal interval and sometimes skip.</summary>
    Jittered = 9,
}

/// <summary>Facts about <see cref="SeriesFamily"/> values.</summary>
public static class SeriesFamilies
{
    /// <summary>The number of defined families; the enum's values are <c>0 .. Count - 1</c>.</summary>
    public const int Count = 10;

    /// <summary>Returns the family's name in lower case with hyphens, as reports and documents spell it.</summary>
    /// <param name="family">A defined family.</param>
    /// <returns>For example <c>"rounded-percent"</c>.</returns>
    public static string GetName(SeriesFamily family) => family switch
    {
        SeriesFamily.Counter => "counter",
        SeriesFamily.IntegerGauge => "integer-gauge",
        SeriesFamily.RoundedPercent => "rounded-percent",
        SeriesFamily.RatioPercent => "ratio-percent",
        SeriesFamily.Temperature => "temperature",
        SeriesFamily.Latency => "latency",
        SeriesFamily.Constant => "constant",
        SeriesFamily.Step => "step",
        SeriesFamily.Sparse => "sparse",
        SeriesFamily.Jittered => "jittered",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown series family."),
    };
}
