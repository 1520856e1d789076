using Tailor.Format.Series;

namespace Tailor.Query.Reading;

/// <summary>The series a query wants: one org and metric, every context or a sorted set of them, and a time range.</summary>
internal sealed class KeyRange
{
    public KeyRange(uint org, ulong metric, ulong[]? contexts, long from, long to)
    {
        Contexts = contexts;
        Low = new SeriesKey(org, metric, contexts is null ? 0 : contexts[0]);
        High = new SeriesKey(org, metric, contexts is null ? ulong.MaxValue : contexts[^1]);
        From = from;
        To = to;
    }

    public SeriesKey Low { get; }

    public SeriesKey High { get; }

    /// <summary>The contexts wanted, sorted and distinct; null for all.</summary>
    public ulong[]? Contexts { get; }

    public long From { get; }

    public long To { get; }

    public bool Wants(in SeriesKey key) =>
        key >= Low && key <= High && (Contexts is null || Array.BinarySearch(Contexts, key.ContextKey) >= 0);

    /// <summary>Whether a part holding [first, last] can hold a wanted series.</summary>
    public bool Overlaps(in SeriesKey first, in SeriesKey last)
    {
        if (last < Low || first > High)
        {
            return false;
        }

        if (Contexts is null)
        {
            return true;
        }

        // Some wanted context must fall in [first, last].
        foreach (var context in Contexts)
        {
            var key = new SeriesKey(Low.OrgId, Low.MetricId, context);
            if (key >= first && key <= last)
            {
                return true;
            }
        }

        return false;
    }
}
