using Tailor.Format.Series;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Query.Tests;

/// <summary>
/// A random store around org 42: several one-hour windows, each absent, in the org's shared shard, in its
/// dedicated shard, or in both (the org moved during the window), with neighbouring orgs in the same
/// shard, parts split by key, small and large index pages, and some windows recompacted with late data
/// (the old generation's files left in place).
/// </summary>
internal static class RandomStore
{
    public const uint Org = 42;
    public const int SharedShards = 4;
    public const int Windows = 6;
    public static readonly TimeSpan WindowLength = TimeSpan.FromHours(1);
    public static readonly ulong[] Metrics = [1, 5, ulong.MaxValue];
    public static readonly ulong[] ContextPool = [0, 1, 2, 3, 1000, 1UL << 63, ulong.MaxValue];
    private static readonly uint[] Neighbours = [2, 46, 7];
    private static readonly int[] PageTargets = [150, 1000, SFileWriterOptions.DefaultIndexPageTargetBytes];

    public static async Task<InMemoryObjectStore> BuildAsync(int seed)
    {
        var store = new InMemoryObjectStore();
        await BuildAsync(seed, store);
        return store;
    }

    public static async Task BuildAsync(int seed, IObjectStore store)
    {
        var random = new Random(seed);
        var shared = ShardName.Shared(Org % SharedShards);
        var dedicated = ShardName.Dedicated(Org);
        for (var w = 0; w < Windows; w++)
        {
            var start = TestStore.Origin + (WindowLength * w);
            var from = start.ToUnixTimeSeconds();
            var to = from + (long)WindowLength.TotalSeconds;
            var mode = random.Next(5); // 0 absent, 1 shared, 2 dedicated, 3 both, 4 shared without the org
            if (mode == 0)
            {
                continue;
            }

            var inShared = new List<StoredSeries>();
            var inDedicated = new List<StoredSeries>();
            if (mode != 4)
            {
                foreach (var metric in Metrics)
                {
                    foreach (var context in ContextPool)
                    {
                        if (random.Next(3) == 0)
                        {
                            continue;
                        }

                        var series = TestStore.RandomSeries(random, new SeriesKey(Org, metric, context), from, to, random.Next(1, 40), counter: metric == 5);
                        if (mode == 1)
                        {
                            inShared.Add(series);
                        }
                        else if (mode == 2)
                        {
                            inDedicated.Add(series);
                        }
                        else
                        {
                            // Moved during the window: each point lies in one shard or the other.
                            var side = series.Timestamps.Select(_ => random.Next(2) == 0).ToArray();
                            Add(inShared, series, side, true);
                            Add(inDedicated, series, side, false);
                        }
                    }
                }
            }

            if (mode is 1 or 3 or 4)
            {
                foreach (var org in Neighbours)
                {
                    var shard = ShardName.Shared(org % SharedShards);
                    if (shard == shared)
                    {
                        inShared.Add(TestStore.RandomSeries(random, new SeriesKey(org, Metrics[random.Next(Metrics.Length)], ContextPool[random.Next(ContextPool.Length)]), from, to, random.Next(1, 20)));
                    }
                }
            }

            foreach (var (shard, list) in new[] { (shared, inShared), (dedicated, inDedicated) })
            {
                if (list.Count == 0 && !(mode == 4 && shard == shared))
                {
                    continue;
                }

                if (list.Count == 0)
                {
                    list.Add(TestStore.RandomSeries(random, new SeriesKey(2, 1, 1), from, to, 3));
                }

                var distinct = list.GroupBy(s => s.Key).Select(g => g.First()).ToList();
                if (random.Next(3) == 0)
                {
                    // An earlier generation without the late points: still in the store, no longer in the manifest.
                    var early = distinct.Select(s => s with { Timestamps = s.Timestamps[..((s.Timestamps.Length + 1) / 2)], Values = s.Values[..((s.Values.Length + 1) / 2)] }).ToList();
                    await TestStore.WriteWindowAsync(store, shard, start, WindowLength, early, "0000aaaa", random.Next(1, 3), PageTargets[random.Next(PageTargets.Length)]);
                }

                await TestStore.WriteWindowAsync(store, shard, start, WindowLength, distinct, $"{random.Next():x8}", random.Next(1, 4), PageTargets[random.Next(PageTargets.Length)]);
            }
        }
    }

    private static void Add(List<StoredSeries> list, StoredSeries series, bool[] side, bool which)
    {
        var keep = Enumerable.Range(0, side.Length).Where(i => side[i] == which).ToArray();
        if (keep.Length > 0)
        {
            list.Add(series with { Timestamps = [.. keep.Select(i => series.Timestamps[i])], Values = [.. keep.Select(i => series.Values[i])] });
        }
    }

    /// <summary>A random query over the store's span (and a little beyond), with edges on window boundaries favoured.</summary>
    public static QueryRequest RandomQuery(Random random)
    {
        var t0 = TestStore.T0;
        var hour = (long)WindowLength.TotalSeconds;
        long Edge() => random.Next(4) switch
        {
            0 => t0 + (random.Next(-1, Windows + 2) * hour),
            1 => t0 + (random.Next(-1, Windows + 2) * hour) + random.Next(-1, 2),
            _ => t0 - hour + random.NextInt64((Windows + 2) * hour),
        };
        var a = Edge();
        var b = Edge();
        if (a == b)
        {
            b = a + 1 + random.Next(3);
        }

        var (from, to) = a < b ? (a, b) : (b, a);
        if (random.Next(8) == 0)
        {
            // A narrow range: often inside one block of one series.
            to = from + 1 + random.Next(120);
        }

        IReadOnlyList<ulong>? contexts = random.Next(3) == 0
            ? [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(5) == 0 ? (ulong)random.Next(10, 20) : ContextPool[random.Next(ContextPool.Length)])]
            : null;
        TimeSpan? step = random.Next(3) == 0 ? null : TimeSpan.FromSeconds(new long[] { 1, 60, 7 * 60, 13 * 60 + 1, 3600, 3 * 3600, 2 * 3600 + 1, 86400 }[random.Next(8)]);
        var aggregations = step is null ? [] : Enum.GetValues<QueryAggregation>().Where(_ => random.Next(2) == 0).ToArray();
        return new QueryRequest
        {
            OrgId = random.Next(10) == 0 ? 46 : Org,
            MetricId = random.Next(10) == 0 ? 9 : Metrics[random.Next(Metrics.Length)],
            Contexts = contexts,
            From = from,
            To = to,
            Step = step,
            Aggregations = aggregations,
        };
    }
}
