using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tailor.Storage;

namespace Tailor.Query.Tests;

/// <summary>Random stores and random queries against the brute-force reference.</summary>
public sealed class QueryPropertyTests
{
    [Property(MaxTest = 40)]
    public Property Any_query_over_any_store_equals_the_brute_force_scan_of_every_S_file_point() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).Zip(Gen.Choose(1, 8)).Zip(Gen.Elements(0L, 4096L, 256L << 20)).ToArbitrary(), t =>
        {
            var ((seed, concurrency), cacheBytes) = t;
            var failure = RunAsync(seed, concurrency, cacheBytes).GetAwaiter().GetResult();
            return failure is null ? true.ToProperty() : false.Label($"seed {seed}: {failure}");
        });

    private static async Task<string?> RunAsync(int seed, int concurrency, long cacheBytes)
    {
        await using var store = await RandomStore.BuildAsync(seed);
        var engine = new QueryEngine(store, new QueryEngineOptions
        {
            // The org is dedicated today and was shared before: both shards hold it in some windows.
            ShardMap = new ShardMap(RandomStore.SharedShards, [RandomStore.Org]),
            FormerShardMaps = [new ShardMap(RandomStore.SharedShards)],
            WindowLength = RandomStore.WindowLength,
            MaxConcurrentReads = concurrency,
            CacheBytes = cacheBytes,
        });
        var random = new Random(seed ^ 0x5bd1e995);
        for (var q = 0; q < 6; q++)
        {
            var request = RandomQuery(random);
            var expected = await Reference.ComputeAsync(store, request, RandomStore.SharedShards, RandomStore.WindowLength);
            using var result = await engine.QueryAsync(request);
            if (await Reference.CompareAsync(result, expected) is { } failure)
            {
                return $"query {q} ({request.OrgId}:{request.MetricId} contexts [{string.Join(",", request.Contexts ?? [])}] [{request.From - TestStore.T0}, {request.To - TestStore.T0}) step {request.Step} aggs {string.Join(",", request.Aggregations)}): {failure}";
            }
        }

        return null;
    }

    private static QueryRequest RandomQuery(Random random) => RandomStore.RandomQuery(random);
}
