using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Query.Tests;

[CollectionDefinition(S3rverFixture.Collection)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;

/// <summary>The engine against a real S3 API server: ranged gets, missing keys and manifests over HTTP.</summary>
[Collection(S3rverFixture.Collection)]
public sealed class S3QueryTests(S3rverFixture s3rver)
{
    [Fact]
    public async Task Queries_over_an_S3_store_equal_the_brute_force_reference_cold_and_warm()
    {
        await using var store = await s3rver.CreateStoreAsync("tailor");
        await RandomStore.BuildAsync(11, store);
        var engine = new QueryEngine(store, new QueryEngineOptions { ShardMap = new ShardMap(RandomStore.SharedShards, [RandomStore.Org]), FormerShardMaps = [new ShardMap(RandomStore.SharedShards)], WindowLength = RandomStore.WindowLength });
        var random = new Random(3);
        for (var q = 0; q < 4; q++)
        {
            var request = RandomStore.RandomQuery(random) with { From = TestStore.T0 - 3600, To = TestStore.T0 + (7 * 3600) };
            var expected = await Reference.ComputeAsync(store, request, RandomStore.SharedShards, RandomStore.WindowLength);
            using var result = await engine.QueryAsync(request);
            Assert.Null(await Reference.CompareAsync(result, expected));
        }
    }
}
