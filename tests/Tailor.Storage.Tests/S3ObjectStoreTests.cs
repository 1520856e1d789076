using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3.Model;
using Tailor.Testing;
using static Tailor.Storage.Tests.TestData;

namespace Tailor.Storage.Tests;

/// <summary>What only the S3 store does, checked against s3rver with the raw AWS client as a witness.</summary>
[Collection(S3rverFixture.Collection)]
public sealed class S3ObjectStoreTests(S3rverFixture s3rver)
{
    private static readonly RetryOptions QuickRetries = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };

    [Fact]
    public async Task Objects_are_byte_exact_on_the_server()
    {
        var bucket = await s3rver.CreateBucketAsync("exact");
        await using var store = s3rver.OpenStore(bucket, "pre/fix");
        using var client = s3rver.CreateClient();

        // The aws-chunked trap: an 11-byte put once became a 183-byte object.
        var small = Utf8("hello world");
        await store.PutAsync("small.txt", small);
        Assert.Equal(small, await ReadRawAsync(client, bucket, "pre/fix/small.txt"));

        var large = Bytes((12 * MiB) + 17, 3);
        await UploadAsync(store, "large.bin", large);
        var raw = await ReadRawAsync(client, bucket, "pre/fix/large.bin");
        Assert.Equal(large.Length, raw.Length);
        Assert.True(large.AsSpan().SequenceEqual(raw));

        Assert.True(await store.TryCreateAsync("created.json", small));
        Assert.Equal(small, await ReadRawAsync(client, bucket, "pre/fix/created.json"));
    }

    [Fact]
    public async Task S3rver_ignores_If_None_Match_so_the_store_does_not_claim_atomic_creates()
    {
        var bucket = await s3rver.CreateBucketAsync("ifnone");
        using var client = s3rver.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "first", UseChunkEncoding = false });
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "second", UseChunkEncoding = false, IfNoneMatch = "*" });
        Assert.Equal(Utf8("second"), await ReadRawAsync(client, bucket, "k"));

        await using var custom = s3rver.OpenStore(bucket);
        Assert.Equal(StoreCapabilities.None, custom.Capabilities);
        await using var declared = s3rver.OpenStore(bucket, configure: o => o.ConditionalCreate = true);
        Assert.Equal(StoreCapabilities.ConditionalCreate, declared.Capabilities);
        await using var aws = new S3ObjectStore("some-bucket", options: new S3ObjectStoreOptions { Credentials = S3rverFixture.Credentials });
        Assert.Equal(StoreCapabilities.ConditionalCreate, aws.Capabilities);
        Assert.Equal("s3://some-bucket", aws.Name);
    }

    [Fact]
    public async Task A_missing_bucket_is_BucketNotFound_on_every_call()
    {
        await using var store = s3rver.OpenStore("no-such-bucket-here", configure: o => o.Retry = QuickRetries);

        async Task AssertMissing(Func<Task> call)
        {
            var error = await Assert.ThrowsAnyAsync<ObjectStoreException>(call);
            Assert.Equal(ObjectStoreErrorKind.BucketNotFound, error.Kind);
            Assert.Contains("no-such-bucket-here", error.Message, StringComparison.Ordinal);
            Assert.Equal(1, error.Attempts);
        }

        await AssertMissing(() => store.PutAsync("a/key", Utf8("x")));
        await AssertMissing(() => store.GetInfoAsync("a/key"));
        await AssertMissing(() => store.OpenReadAsync("a/key"));
        await AssertMissing(() => ListAllAsync(store));
        await AssertMissing(async () =>
        {
            await using var upload = await store.StartUploadAsync("a/large");
            await upload.WriteAsync(Bytes((5 * MiB) + 1, 1));
            await upload.CompleteAsync();
        });
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_Unreachable_after_the_retry_budget()
    {
        var closed = ClosedLoopbackPort();
        await using var store = new S3ObjectStore("bucket", "p", new S3ObjectStoreOptions
        {
            Endpoint = new Uri($"http://127.0.0.1:{closed}"),
            Credentials = S3rverFixture.Credentials,
            Retry = QuickRetries,
        });
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetInfoAsync("some/key"));
        Assert.Equal(ObjectStoreErrorKind.Unreachable, error.Kind);
        Assert.Equal(3, error.Attempts);
        Assert.False(error.IsRetryable);
        Assert.Contains("some/key", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{closed}", error.Message, StringComparison.Ordinal);
        Assert.Contains("after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, metrics.Sum(ObjectStoreMetrics.RetriesName, ("store", store.Name), ("operation", "head")));
        Assert.Equal(3, metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("operation", "head")));
    }

    [Fact]
    public async Task Wrong_credentials_are_AccessDenied_and_never_appear_in_messages()
    {
        var bucket = await s3rver.CreateBucketAsync("denied");
        await using var store = s3rver.OpenStore(bucket, configure: o => o.Credentials = new BasicAWSCredentials("WRONGKEYID", "TopSecretValue"));
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", Utf8("x")));
        Assert.Equal(ObjectStoreErrorKind.AccessDenied, error.Kind);
        Assert.DoesNotContain("TopSecretValue", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_small_upload_is_one_put_and_a_large_one_keeps_memory_bounded()
    {
        await using var store = await s3rver.CreateStoreAsync("bounded");
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);
        double Requests(string operation) => metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("operation", operation));

        await UploadAsync(store, "small.bin", Bytes(1000, 1));
        Assert.Equal(1, Requests("put"));
        Assert.Equal(0, Requests("initiate"));

        var options = new MultipartOptions();
        var limit = (options.MaxParallelParts + 1L) * options.PartSize;
        await using var upload = await store.StartUploadAsync("large.bin");
        Assert.Equal(0, upload.BufferedBytes);
        var chunk = Bytes(MiB, 2);
        long peak = 0;
        for (var i = 0; i < 33; i++)
        {
            await upload.WriteAsync(chunk);
            peak = Math.Max(peak, upload.BufferedBytes);
            Assert.InRange(upload.BufferedBytes, 0, limit);
        }

        await upload.CompleteAsync();
        Assert.Equal(33 * MiB, upload.BytesWritten);
        Assert.Equal(0, upload.BufferedBytes);
        Assert.Equal(1, Requests("initiate"));
        Assert.Equal(7, Requests("upload-part"));
        Assert.Equal(1, Requests("complete"));
        Assert.True(peak > options.PartSize, $"peak {peak}: parts were never in flight while writing");
    }

    [Fact]
    public async Task A_store_opened_from_its_URI_lives_under_its_prefix()
    {
        var bucket = await s3rver.CreateBucketAsync("uri");
        var uri = s3rver.StoreUri(bucket, "tenant/a");
        await using var store = ObjectStoreFactory.Open(uri, new ObjectStoreOptions { S3 = { Credentials = S3rverFixture.Credentials } });
        Assert.IsType<S3ObjectStore>(store);
        Assert.Equal(uri, store.Name);

        await store.PutAsync("segments/x.tseg", Utf8("x"));
        Assert.Equal(["segments/x.tseg"], (await ListAllAsync(store)).Select(i => i.Key));
        using var client = s3rver.CreateClient();
        var raw = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Equal(["tenant/a/segments/x.tseg"], raw.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Real_connection_resets_are_retried_and_reads_resume_where_they_broke()
    {
        var bucket = await s3rver.CreateBucketAsync("resets");
        await using var proxy = new ConnectionBreakingProxy(s3rver.Endpoint);
        await using var store = new S3ObjectStore(bucket, null, s3rver.CreateOptions(o =>
        {
            o.Endpoint = proxy.Endpoint;
            o.Retry = new RetryOptions { MaxAttempts = 6, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(10) };
        }));
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);
        var content = Bytes(3 * MiB, 5);

        // Requests cut while the body is being sent.
        proxy.ResetAfterRequestBytes = 64 * 1024;
        proxy.ConnectionsToBreak = 2;
        await store.PutAsync("object.bin", content);
        Assert.Equal(2, proxy.Broken);

        // Responses cut mid-body: the stream reopens the rest of the range, pinned to the ETag.
        proxy.ResetAfterRequestBytes = long.MaxValue;
        proxy.ResetAfterResponseBytes = 700 * 1024;
        proxy.ConnectionsToBreak = 3;
        var read = await ReadAllAsync(store, "object.bin");
        Assert.True(content.AsSpan().SequenceEqual(read), "the resumed read differs");
        Assert.Equal(5, proxy.Broken);
        var errors = string.Join(", ", metrics.Measurements.Where(m => m.Instrument == ObjectStoreMetrics.RetriesName && m.Tags["store"] == store.Name).Select(m => m.Tags["operation"] + ":" + m.Tags["error"]));
        Assert.True(metrics.Sum(ObjectStoreMetrics.RetriesName, ("store", store.Name), ("error", "ConnectionReset")) >= 5, errors);
    }

    private static async Task<byte[]> ReadRawAsync(Amazon.S3.AmazonS3Client client, string bucket, string key)
    {
        using var response = await client.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
