using Tailor.Testing;

namespace Tailor.Storage.Tests;

/// <summary>The contract against a local folder.</summary>
public sealed class LocalObjectStoreContract : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _folder = new("local-contract");

    public void Dispose() => _folder.Dispose();

    protected override Task<IObjectStore> OpenStoreAsync(int? listPageSize = null) =>
        Task.FromResult<IObjectStore>(new LocalObjectStore(_folder.Path, new LocalObjectStoreOptions { FlushToDisk = false }));

    protected override Task AssertNothingPendingAsync(IObjectStore store)
    {
        var local = (LocalObjectStore)store;
        Assert.Empty(local.PendingUploadIds());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(local.RootPath, LocalObjectStore.TemporaryFolderName), "*", SearchOption.AllDirectories));
        return Task.CompletedTask;
    }
}

/// <summary>The contract against the in-memory test store, so the fault-injection base is trustworthy.</summary>
public sealed class InMemoryObjectStoreContract : ObjectStoreContract
{
    private readonly InMemoryObjectStore _store = new();

    protected override Task<IObjectStore> OpenStoreAsync(int? listPageSize = null) => Task.FromResult<IObjectStore>(new Shared(_store));

    protected override Task AssertNothingPendingAsync(IObjectStore store)
    {
        Assert.Empty(_store.PendingUploadIds);
        return Task.CompletedTask;
    }

    /// <summary>Every open of the location is the same store; disposing one view must not end the others.</summary>
    private sealed class Shared(InMemoryObjectStore inner) : ForwardingObjectStore(inner);
}

/// <summary>The contract against S3, on a real S3 API server (s3rver) on loopback, one bucket per test.</summary>
[Collection(S3rverFixture.Collection)]
public sealed class S3ObjectStoreContract(S3rverFixture s3rver) : ObjectStoreContract
{
    private readonly MetricCapture _metrics = new(ObjectStoreMetrics.MeterName);
    private string _bucket = null!;

    public override async Task InitializeAsync()
    {
        _bucket = await s3rver.CreateBucketAsync("contract");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _metrics.Dispose();
    }

    protected override Task<IObjectStore> OpenStoreAsync(int? listPageSize = null) =>
        Task.FromResult<IObjectStore>(s3rver.OpenStore(_bucket, "contract", o =>
        {
            o.ListPageSize = listPageSize ?? o.ListPageSize;
        }));

    protected override Task AssertNothingPendingAsync(IObjectStore store)
    {
        // s3rver implements neither ListMultipartUploads nor AbortMultipartUpload, so the check is on
        // what the store asked for: every upload it started was completed or had an abort sent.
        double Count(string operation, string outcome) =>
            _metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("operation", operation), ("outcome", outcome));

        var started = Count("initiate", ObjectStoreMetrics.Success);
        var completed = Count("complete", ObjectStoreMetrics.Success);
        var abortsSent = Count("abort", ObjectStoreMetrics.Success) + Count("abort", ObjectStoreMetrics.Failed);
        Assert.Equal(started, completed + abortsSent);
        Assert.Equal(abortsSent, s3rver.PendingUploadIds(_bucket).Count);
        return Task.CompletedTask;
    }
}
