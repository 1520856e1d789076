using Tailor.Format.Series;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Query.Tests;

/// <summary>The engine's promises one by one: reads per window, generations, moved orgs, absent windows, damage, limits.</summary>
public sealed class QueryEngineTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly ShardName Shared = ShardName.Shared(42 % 4);
    private static readonly ShardName Dedicated = ShardName.Dedicated(42);

    private static QueryEngineOptions Options(Action<QueryEngineOptions>? configure = null)
    {
        var options = new QueryEngineOptions { ShardMap = new ShardMap(4), WindowLength = Hour };
        configure?.Invoke(options);
        return options;
    }

    private static DateTimeOffset Window(int i) => TestStore.Origin + (Hour * i);

    private static long Seconds(int window) => Window(window).ToUnixTimeSeconds();

    private static List<StoredSeries> Series(int window, int contexts, int points, int seed = 1, ulong metric = 1)
    {
        var random = new Random(seed + window);
        return [.. Enumerable.Range(0, contexts).Select(c => TestStore.RandomSeries(random, new SeriesKey(42, metric, (ulong)c * 3), Seconds(window), Seconds(window + 1), points))];
    }

    private static QueryRequest Request(long from, long to, IReadOnlyList<ulong>? contexts = null) =>
        new() { OrgId = 42, MetricId = 1, From = from, To = to, Contexts = contexts };

    private static async Task AssertMatchesReferenceAsync(IObjectStore store, QueryResult result)
    {
        var expected = await Reference.ComputeAsync(store, result.Request, 4, Hour);
        Assert.Null(await Reference.CompareAsync(result, expected));
    }

    [Fact]
    public async Task A_warm_query_makes_one_range_read_per_part_and_window_and_reads_no_manifest()
    {
        await using var memory = new InMemoryObjectStore();
        for (var w = 0; w < 3; w++)
        {
            // Two parts per window; metric 1 of org 42 lies in the first, other metrics in the second.
            var list = Series(w, 400, 25);
            list.AddRange(Series(w, 400, 25, metric: 2));
            await TestStore.WriteWindowAsync(memory, Shared, Window(w), Hour, list, "0000000" + w, parts: 2, pageTarget: 2000);
        }

        var store = new CountingStore(memory);
        var engine = new QueryEngine(store, Options());
        using (var cold = await engine.QueryAsync(Request(Seconds(0), Seconds(3))))
        {
            Assert.Equal(3, cold.Stats.Parts);
            Assert.Equal(400, cold.SeriesCount);
            Assert.Equal(6, store.Opens); // a manifest per (shard, window): the shared one and the dedicated one, which is missing
        }

        store.Reset();
        using var warm = await engine.QueryAsync(Request(Seconds(0), Seconds(3)));
        Assert.Equal(0, store.Opens);
        Assert.Equal(3, store.RangedReads);
        Assert.All(store.RangedByKey.Values, n => Assert.Equal(1, n));
        Assert.Equal(3, warm.Stats.Reads);
        Assert.Equal(3, warm.Stats.BlockReads);
        Assert.True(warm.Stats.CacheHits > 0);
        Assert.Equal(0, warm.Stats.CacheMisses);
        await AssertMatchesReferenceAsync(memory, warm);
    }

    [Fact]
    public async Task One_series_in_a_large_part_costs_at_most_three_range_reads_cold_and_one_warm()
    {
        await using var memory = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(memory, Shared, Window(0), Hour, Series(0, 4000, 30), "00000001");
        var size = (await memory.GetInfoAsync(ObjectKeys.SeriesFile(Shared, Window(0), 0, "00000001")))!.Size;
        Assert.True(size > 4 * 65536, $"the part is {size} bytes: too small for the test");
        var store = new CountingStore(memory);
        var engine = new QueryEngine(store, Options());
        using (var cold = await engine.QueryAsync(Request(Seconds(0), Seconds(1), [2997])))
        {
            Assert.Equal(1, cold.SeriesCount);
            Assert.InRange(store.RangedReads, 1, 3); // tail, index page (unless in the tail), block
            await AssertMatchesReferenceAsync(memory, cold);
        }

        store.Reset();
        using var warm = await engine.QueryAsync(Request(Seconds(0), Seconds(1), [2997]));
        Assert.Equal(1, store.RangedReads);
        Assert.Equal(0, store.Opens);
    }

    [Fact]
    public async Task Windows_without_a_manifest_are_reported_absent_and_a_window_without_points_in_range_is_not()
    {
        await using var store = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 3, 10), "00000001");
        await TestStore.WriteWindowAsync(store, Dedicated, Window(2), Hour, Series(2, 3, 10), "00000002");
        var engine = new QueryEngine(store, Options());
        using var result = await engine.QueryAsync(Request(Seconds(0) + 1, Seconds(4) - 1));
        Assert.Equal([new QueryWindow(Window(1), Hour), new QueryWindow(Window(3), Hour)], result.AbsentWindows);
        Assert.Equal(4, result.Windows.Count);
        Assert.Equal(["00000001", "00000002"], result.WindowsRead.Select(w => w.Generation));
        await AssertMatchesReferenceAsync(store, result);

        // A range with no points at all in a compacted window: no series, nothing absent.
        using var empty = await engine.QueryAsync(Request(Seconds(0) + 1, Seconds(0) + 2, [999]));
        Assert.Equal(0, empty.SeriesCount);
        Assert.Empty(empty.AbsentWindows);
    }

    [Fact]
    public async Task An_org_that_moved_from_its_shared_shard_to_its_own_is_read_from_both()
    {
        await using var store = new InMemoryObjectStore();
        var before = Series(0, 5, 20);
        var after = Series(1, 5, 20);
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, before, "00000001");
        await TestStore.WriteWindowAsync(store, Dedicated, Window(1), Hour, after, "00000002");

        // Today the map routes org 42 to its own shard; the older window is still found in the shared one.
        var engine = new QueryEngine(store, Options(o => o.ShardMap = new ShardMap(4, [42])));
        using var result = await engine.QueryAsync(Request(Seconds(0), Seconds(2)));
        Assert.Equal(before.Sum(s => s.Timestamps.Length) + after.Sum(s => s.Timestamps.Length), result.Stats.PointsReturned);
        Assert.Equal([Shared, Dedicated], result.WindowsRead.Select(w => w.Shard));
        await AssertMatchesReferenceAsync(store, result);
    }

    [Fact]
    public async Task A_point_in_both_shards_of_a_moved_org_appears_once_with_the_larger_bit_pattern()
    {
        await using var store = new InMemoryObjectStore();
        var key = new SeriesKey(42, 1, 7);
        long t = Seconds(0);
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, [new StoredSeries(key, [1], [t, t + 10, t + 20], [1.0, -2.0, 3.0])], "00000001");
        await TestStore.WriteWindowAsync(store, Dedicated, Window(0), Hour, [new StoredSeries(key, [2], [t + 10, t + 15], [2.0, 5.0])], "00000002");
        var engine = new QueryEngine(store, Options());
        using var result = await engine.QueryAsync(Request(Seconds(0), Seconds(1)));
        var series = await Single(result);
        Assert.Equal([t, t + 10, t + 15, t + 20], series.Timestamps);
        Assert.Equal([1.0, -2.0, 5.0, 3.0], series.Values); // -2.0 has the sign bit: its pattern is the larger
        Assert.Equal([2], series.Metadata);
    }

    [Fact]
    public async Task Windows_written_under_a_former_number_of_shared_shards_are_read_through_the_former_map()
    {
        await using var store = new InMemoryObjectStore();
        var before = Series(0, 3, 10);
        await TestStore.WriteWindowAsync(store, ShardName.Shared(42 % 16), Window(0), Hour, before, "00000001");
        await TestStore.WriteWindowAsync(store, Shared, Window(1), Hour, Series(1, 3, 10), "00000002");
        var without = new QueryEngine(store, Options());
        using (var partial = await without.QueryAsync(Request(Seconds(0), Seconds(2))))
        {
            Assert.Equal([new QueryWindow(Window(0), Hour)], partial.AbsentWindows);
        }

        var engine = new QueryEngine(store, Options(o => o.FormerShardMaps = [new ShardMap(16)]));
        Assert.Equal([ShardName.Shared(10), Shared, Dedicated], engine.ShardsOf(42));
        Assert.Equal([Shared, Dedicated], new QueryEngine(store, Options(o => o.FormerShardMaps = [new ShardMap(8)])).ShardsOf(42)); // 42 mod 8 = 42 mod 4: read once
        using var result = await engine.QueryAsync(Request(Seconds(0), Seconds(2)));
        Assert.Empty(result.AbsentWindows);
        Assert.Equal(before.Sum(s => s.Timestamps.Length) + 30, result.Stats.PointsReturned);
        Assert.Null(await Reference.CompareAsync(result, await Reference.ComputeAsync(store, result.Request, 4, Hour, engine.ShardsOf(42))));
    }

    private static async Task<(long[] Timestamps, double[] Values, byte[] Metadata)> Single(QueryResult result)
    {
        var all = new List<(long[], double[], byte[])>();
        await foreach (var series in result.ReadSeriesAsync())
        {
            all.Add((series.Timestamps.ToArray(), series.Values.ToArray(), series.Metadata.ToArray()));
        }

        return Assert.Single(all);
    }

    [Fact]
    public async Task A_window_recompacted_after_its_manifest_was_cached_is_read_wholly_from_the_new_generation()
    {
        await using var memory = new InMemoryObjectStore();
        var first = Series(0, 20, 10);
        var oldKeys = await TestStore.WriteWindowAsync(memory, Shared, Window(0), Hour, first, "0000000a", parts: 3);
        var store = new CountingStore(memory);
        var engine = new QueryEngine(store, Options(o => o.ManifestTtl = TimeSpan.FromHours(1)));
        using (var cold = await engine.QueryAsync(Request(Seconds(0), Seconds(1))))
        {
            Assert.Equal("0000000a", Assert.Single(cold.WindowsRead).Generation);
        }

        // Late data arrives; the window is recompacted into a new generation and the old files are removed,
        // once the query has read its first part of the old generation.
        var late = Series(0, 25, 14, seed: 9);
        store.BeforeRangedRead = async key =>
        {
            store.BeforeRangedRead = null;
            await TestStore.WriteWindowAsync(memory, Shared, Window(0), Hour, late, "0000000b", parts: 2);
            foreach (var old in oldKeys)
            {
                await memory.DeleteAsync(old);
            }
        };
        using var result = await engine.QueryAsync(Request(Seconds(0), Seconds(1)));
        Assert.Null(store.BeforeRangedRead);
        Assert.Equal("0000000b", Assert.Single(result.WindowsRead).Generation);
        Assert.Equal(25, result.SeriesCount);
        await AssertMatchesReferenceAsync(memory, result);
    }

    [Fact]
    public async Task A_damaged_part_fails_the_query_naming_the_part_or_is_listed_when_partial_results_are_allowed()
    {
        await using var store = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 4, 10), "00000001");
        var damaged = (await TestStore.WriteWindowAsync(store, Shared, Window(1), Hour, Series(1, 4, 10), "00000002"))[0];
        var bytes = new byte[(await store.GetInfoAsync(damaged))!.Size];
        await store.ReadAsync(damaged, 0, bytes);
        bytes[SFileFormat.HeaderFixedLength + Shared.Value.Length + 5] ^= 0x40; // inside the first block
        await store.PutAsync(damaged, bytes);

        var engine = new QueryEngine(store, Options());
        var error = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(Seconds(0), Seconds(2))));
        Assert.Equal(QueryErrorKind.DamagedPart, error.Kind);
        Assert.Equal(damaged, error.Key);
        Assert.Contains(damaged, error.Message, StringComparison.Ordinal);

        using var partial = await engine.QueryAsync(Request(Seconds(0), Seconds(2)) with { AllowPartial = true });
        var unread = Assert.Single(partial.Unread);
        Assert.Equal(damaged, unread.Key);
        Assert.Equal(QueryErrorKind.DamagedPart, unread.Kind);
        Assert.True(partial.IsPartial);
        await foreach (var series in partial.ReadSeriesAsync())
        {
            Assert.All(series.Timestamps.ToArray(), t => Assert.True(t < Seconds(1))); // only the intact window's points
        }
    }

    [Fact]
    public async Task A_missing_part_fails_the_query_naming_it_or_is_listed_when_partial_results_are_allowed()
    {
        await using var store = new InMemoryObjectStore();
        var keys = await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 9, 10), "00000001", parts: 3);
        await store.DeleteAsync(keys[1]);
        var engine = new QueryEngine(store, Options());
        var error = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(Seconds(0), Seconds(1))));
        Assert.Equal(QueryErrorKind.MissingObject, error.Kind);
        Assert.Contains(keys[1], error.Message, StringComparison.Ordinal);

        using var partial = await engine.QueryAsync(Request(Seconds(0), Seconds(1)) with { AllowPartial = true });
        Assert.Equal(keys[1], Assert.Single(partial.Unread).Key);
        Assert.Equal(6, partial.SeriesCount);
    }

    [Fact]
    public async Task A_manifest_that_is_not_a_manifest_fails_with_a_clear_error()
    {
        await using var store = new InMemoryObjectStore();
        await store.PutAsync(ObjectKeys.Manifest(Shared, Window(0)), "{\"format\":\"tailor-manifest\",\"version\":1,\"generation\":\"00000001\",\"outputs\":[{\"key\":\"series/org-mod-2/../../x.tsf\",\"size\":100,\"first_series\":\"1:1:1\",\"last_series\":\"1:1:2\"}]}"u8.ToArray());
        var engine = new QueryEngine(store, Options());
        var error = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(Seconds(0), Seconds(1))));
        Assert.Equal(QueryErrorKind.DamagedManifest, error.Kind);
        Assert.Contains("not an S-file of org-mod-2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_with_fields_this_reader_does_not_know_is_read()
    {
        await using var store = new InMemoryObjectStore();
        var keys = await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 2, 5), "00000001");
        var json = System.Text.Encoding.UTF8.GetString((await ReadAsync(store, ObjectKeys.Manifest(Shared, Window(0)))))
            .Replace("\"outputs\": [", "\"orgs\": [42, 2],\n  \"future\": {\"nested\": [1, 2]},\n  \"outputs\": [", StringComparison.Ordinal);
        await store.PutAsync(ObjectKeys.Manifest(Shared, Window(0)), System.Text.Encoding.UTF8.GetBytes(json));
        var engine = new QueryEngine(store, Options());
        using var result = await engine.QueryAsync(Request(Seconds(0), Seconds(1)));
        Assert.Equal(2, result.SeriesCount);
        Assert.Single(keys);
    }

    [Fact]
    public async Task Over_the_points_limit_or_the_memory_limit_the_query_fails_with_a_clear_error()
    {
        await using var store = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 10, 3000), "00000001");
        var points = new QueryEngine(store, Options(o => o.MaxPoints = 1000));
        var error = await Assert.ThrowsAsync<QueryException>(() => points.QueryAsync(Request(Seconds(0), Seconds(1))));
        Assert.Equal(QueryErrorKind.PointsLimit, error.Kind);
        Assert.Contains("1,000 points", error.Message, StringComparison.Ordinal);

        // The same points rolled up into 1-minute buckets are 600 rows: within the limit.
        using var stepped = await points.QueryAsync(Request(Seconds(0), Seconds(1)) with { Step = TimeSpan.FromMinutes(1) });
        Assert.Equal(600, stepped.Stats.PointsReturned);

        var memory = new QueryEngine(store, Options(o => o.MaxMemoryBytes = 1 << 20));
        using (var fits = await memory.QueryAsync(Request(Seconds(0), Seconds(1), [0])))
        {
            Assert.Equal(1, fits.SeriesCount);
            Assert.InRange(fits.Stats.PeakMemoryBytes, 1, 1 << 20);
        }

        await TestStore.WriteWindowAsync(store, Shared, Window(1), Hour, Series(1, 30, 3500), "00000002");
        error = await Assert.ThrowsAsync<QueryException>(() => memory.QueryAsync(Request(Seconds(0), Seconds(2))));
        Assert.Equal(QueryErrorKind.MemoryLimit, error.Kind);
        Assert.Contains("memory limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_past_its_timeout_fails_as_a_timeout_and_a_cancelled_one_as_cancelled()
    {
        await using var memory = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(memory, Shared, Window(0), Hour, Series(0, 3, 10), "00000001");
        var store = new CountingStore(memory) { Delay = TimeSpan.FromSeconds(5) };
        var engine = new QueryEngine(store, Options());
        var error = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(Seconds(0), Seconds(1)) with { Timeout = TimeSpan.FromMilliseconds(100) }));
        Assert.Equal(QueryErrorKind.Timeout, error.Kind);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.QueryAsync(Request(Seconds(0), Seconds(1)), cancel.Token));
    }

    [Fact]
    public async Task Invalid_requests_are_refused_naming_what_is_wrong()
    {
        await using var store = new InMemoryObjectStore();
        var engine = new QueryEngine(store, Options());
        var empty = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(10, 10)));
        Assert.Equal(QueryErrorKind.InvalidRequest, empty.Kind);
        Assert.Contains("To (10) must be after From (10)", empty.Message, StringComparison.Ordinal);
        var noStep = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(0, 10) with { Aggregations = [QueryAggregation.Max] }));
        Assert.Contains("need a Step", noStep.Message, StringComparison.Ordinal);
        var badStep = await Assert.ThrowsAsync<QueryException>(() => engine.QueryAsync(Request(0, 10) with { Step = TimeSpan.FromMilliseconds(1500) }));
        Assert.Contains("whole number of seconds", badStep.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_reads_only_the_index_and_finds_every_series_of_the_metric()
    {
        await using var memory = new InMemoryObjectStore();
        var first = Series(0, 6, 10);
        var second = Series(1, 8, 10);
        await TestStore.WriteWindowAsync(memory, Shared, Window(0), Hour, first, "00000001");
        await TestStore.WriteWindowAsync(memory, Dedicated, Window(1), Hour, second, "00000002");
        var store = new CountingStore(memory);
        var engine = new QueryEngine(store, Options(o => o.TailReadBytes = 64));
        var listing = await engine.ListSeriesAsync(42, 1, Seconds(0), Seconds(3));
        Assert.Equal(first.Concat(second).Select(s => s.Key).Distinct().Order(), listing.Series.Select(s => s.Key));
        Assert.Equal([new QueryWindow(Window(2), Hour)], listing.AbsentWindows);
        Assert.Equal(0, listing.Stats.BlockReads);
        var last = listing.Series.Single(s => s.Key == second[0].Key);
        Assert.Equal(second[0].Metadata, last.Metadata.ToArray());
        Assert.Equal(first[0].Timestamps.Length + second[0].Timestamps.Length, last.Points);
    }

    [Fact]
    public async Task The_meter_counts_queries_reads_and_cache_hits()
    {
        await using var store = new InMemoryObjectStore();
        await TestStore.WriteWindowAsync(store, Shared, Window(0), Hour, Series(0, 3, 10), "00000001");
        var engine = new QueryEngine(store, Options());
        using var capture = new MetricCapture(QueryMetrics.Name);
        using (await engine.QueryAsync(Request(Seconds(0), Seconds(1))))
        {
        }

        using (await engine.QueryAsync(Request(Seconds(0), Seconds(1))))
        {
        }

        Assert.True(capture.Sum("tailor.query.queries", ("outcome", "ok")) >= 2);
        Assert.True(capture.Sum("tailor.query.reads", ("kind", "block")) >= 1);
        Assert.True(capture.Sum("tailor.query.cache.hits") >= 2);
        Assert.True(capture.Sum("tailor.query.duration") > 0);
    }

    private static async Task<byte[]> ReadAsync(IObjectStore store, string key)
    {
        var bytes = new byte[(await store.GetInfoAsync(key))!.Size];
        await store.ReadAsync(key, 0, bytes);
        return bytes;
    }
}
