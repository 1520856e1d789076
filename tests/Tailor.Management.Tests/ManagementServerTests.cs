using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Management.Tests;

/// <summary>The management server on a loopback port: liveness, readiness that follows its checks, and the Prometheus scrape.</summary>
public sealed class ManagementServerTests
{
    [Fact]
    public async Task Healthz_answers_readyz_follows_its_checks_and_metrics_carries_the_Tailor_meters()
    {
        using var folder = new TempFolder("management");
        await using var store = ObjectStoreFactory.Open(folder.Uri);
        var ready = false;
        await using var server = await ManagementServer.StartAsync(new ManagementOptions { Urls = "http://127.0.0.1:0" },
            [
                new HealthCheckRegistration("store", new StoreReadinessCheck(() => store), HealthStatus.Unhealthy, null),
                new HealthCheckRegistration("worker", _ => new FlagCheck(() => ready), HealthStatus.Unhealthy, null),
            ]);
        var root = Assert.Single(server.Addresses);
        Assert.Equal("127.0.0.1", root.Host);
        Assert.NotEqual(0, root.Port);

        var live = await ManagementKit.GetAsync(new Uri(root, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, live.Status);

        var notReady = await ManagementKit.GetAsync(new Uri(root, "/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.Status);
        Assert.Equal("application/json", notReady.ContentType);
        using (var body = JsonDocument.Parse(notReady.Body))
        {
            Assert.Equal("unhealthy", body.RootElement.GetProperty("status").GetString());
            Assert.Equal("healthy", body.RootElement.GetProperty("checks").GetProperty("store").GetProperty("status").GetString());
            var worker = body.RootElement.GetProperty("checks").GetProperty("worker");
            Assert.Equal("unhealthy", worker.GetProperty("status").GetString());
            Assert.Equal("not yet", worker.GetProperty("description").GetString());
        }

        ready = true;
        var isReady = await ManagementKit.GetAsync(new Uri(root, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, isReady.Status);
        Assert.Contains("\"status\":\"healthy\"", isReady.Body, StringComparison.Ordinal);

        // Store requests are counted by the Tailor.Storage meter: after a put and a read they are in the scrape.
        await store.PutAsync("probe/a", new byte[] { 1, 2, 3 });
        Assert.NotNull(await store.GetInfoAsync("probe/a"));
        var metrics = await ManagementKit.GetAsync(new Uri(root, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, metrics.Status);
        Assert.Equal("text/plain", metrics.ContentType);
        var samples = ManagementKit.Samples(metrics.Body);
        Assert.Contains(samples, s => s.Key.StartsWith("tailor_storage_requests_total{", StringComparison.Ordinal)
            && s.Key.Contains("operation=\"put\"", StringComparison.Ordinal) && s.Value >= 1);

        Assert.Equal(HttpStatusCode.NotFound, (await ManagementKit.GetAsync(new Uri(root, "/nothing"))).Status);
    }

    [Fact]
    public async Task A_store_that_fails_makes_readyz_503_with_the_stores_error()
    {
        await using var store = new InMemoryObjectStore();
        var broken = new FailingListStore(store);
        await using var server = await ManagementServer.StartAsync(new ManagementOptions { Urls = "http://127.0.0.1:0" },
            [new HealthCheckRegistration("store", new StoreReadinessCheck(() => broken), HealthStatus.Unhealthy, null)]);
        var response = await ManagementKit.GetAsync(new Uri(server.Addresses[0], "/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        Assert.Contains("does not answer: access denied", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:9464")]
    [InlineData("https://127.0.0.1:9464")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    public async Task An_address_that_is_not_plain_http_is_refused_with_the_address_named(string urls)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ManagementServer.StartAsync(new ManagementOptions { Urls = urls }, []));
        Assert.Contains("ManagementOptions.Urls", e.Message, StringComparison.Ordinal);
    }

    private sealed class FlagCheck(Func<bool> ready) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(ready() ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not yet"));
    }

    private sealed class FailingListStore(IObjectStore inner) : ForwardingObjectStore(inner)
    {
        public override IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            throw new ObjectStoreException("access denied");
    }
}
