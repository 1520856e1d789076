using Tailor.Testing;
using static Tailor.Storage.Tests.TestData;

namespace Tailor.Storage.Tests;

/// <summary>
/// What every <see cref="IObjectStore"/> must do, run unchanged against each store: a subclass only
/// says how to open a fresh, empty store and how to check that no multipart upload was left open.
/// </summary>
public abstract class ObjectStoreContract : IAsyncLifetime
{
    protected IObjectStore Store { get; private set; } = null!;

    /// <summary>Opens a store on this test's own empty location; every call opens the same location.</summary>
    protected abstract Task<IObjectStore> OpenStoreAsync(int? listPageSize = null);

    /// <summary>Asserts that no multipart upload (or temporary file) is left behind in the store's location.</summary>
    protected abstract Task AssertNothingPendingAsync(IObjectStore store);

    public virtual async Task InitializeAsync() => Store = await OpenStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4097)]
    [InlineData((5 * MiB) + 3)]
    public async Task Put_round_trips_byte_exact(int size)
    {
        var content = Bytes(size, size);
        var info = await Store.PutAsync("put/object.bin", content);

        Assert.Equal(size, info.Size);
        Assert.Equal("put/object.bin", info.Key);
        Assert.Equal(content, await ReadAllAsync(Store, "put/object.bin"));
        var head = await Store.GetInfoAsync("put/object.bin");
        Assert.NotNull(head);
        Assert.Equal(size, head.Size);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData((5 * MiB) - 1)]
    [InlineData(5 * MiB)]
    [InlineData((5 * MiB) + 1)]
    [InlineData((50 * MiB) + 7)]
    public async Task Upload_round_trips_byte_exact(int size)
    {
        var content = Bytes(size, size + 1);
        var info = await UploadAsync(Store, "upload/object.bin", content, seed: size);

        Assert.Equal(size, info.Size);
        Assert.Equal(size, (await Store.GetInfoAsync("upload/object.bin"))?.Size);
        var read = await ReadAllAsync(Store, "upload/object.bin");
        Assert.Equal(size, read.Length);
        Assert.True(content.AsSpan().SequenceEqual(read), "the object read back differs from what was written");
        await AssertNothingPendingAsync(Store);
    }

    [Fact]
    public async Task Upload_reports_bytes_written_and_holds_nothing_before_data()
    {
        await using var upload = await Store.StartUploadAsync("upload/counted.bin");
        Assert.Equal(0, upload.BytesWritten);
        Assert.Equal(0, upload.BufferedBytes);
        Assert.Equal("upload/counted.bin", upload.Key);

        await upload.WriteAsync(Bytes(1000, 1));
        await upload.WriteAsync(Bytes(24, 2));
        Assert.Equal(1024, upload.BytesWritten);
        Assert.InRange(upload.BufferedBytes, 0, 1024);

        await upload.CompleteAsync();
        Assert.Equal(1024, (await Store.GetInfoAsync("upload/counted.bin"))?.Size);
    }

    [Fact]
    public async Task Ranged_reads_at_the_edges()
    {
        var content = Bytes(1000, 7);
        await Store.PutAsync("range/object.bin", content);

        Assert.Equal(content[..1], await ReadAllAsync(Store, "range/object.bin", 0, 1));
        Assert.Equal(content[999..], await ReadAllAsync(Store, "range/object.bin", 999));
        Assert.Equal(content[999..], await ReadAllAsync(Store, "range/object.bin", 999, 50));
        Assert.Equal(content[10..30], await ReadAllAsync(Store, "range/object.bin", 10, 20));
        Assert.Empty(await ReadAllAsync(Store, "range/object.bin", 1000));
        Assert.Empty(await ReadAllAsync(Store, "range/object.bin", 5000, 10));
        Assert.Empty(await ReadAllAsync(Store, "range/object.bin", 10, 0));
        Assert.Equal(content, await ReadAllAsync(Store, "range/object.bin", 0, 1000));

        var buffer = new byte[64];
        Assert.Equal(64, await Store.ReadAsync("range/object.bin", 0, buffer));
        Assert.Equal(content[..64], buffer);
        Assert.Equal(1, await Store.ReadAsync("range/object.bin", 999, buffer));
        Assert.Equal(content[999], buffer[0]);
        Assert.Equal(40, await Store.ReadAsync("range/object.bin", 960, buffer));
        Assert.Equal(content[960..], buffer[..40]);
        Assert.Equal(0, await Store.ReadAsync("range/object.bin", 1000, buffer));
        Assert.Equal(0, await Store.ReadAsync("range/object.bin", 4000, buffer));
        Assert.Equal(0, await Store.ReadAsync("range/object.bin", 3, Memory<byte>.Empty));
    }

    [Fact]
    public async Task A_read_stream_outlives_its_token_and_reads_synchronously_too()
    {
        var content = Bytes((2 * MiB) + 3, 8);
        await Store.PutAsync("stream/object.bin", content);
        using var cancel = new CancellationTokenSource();
        await using var stream = await Store.OpenReadAsync("stream/object.bin", 1, null, cancel.Token);
        await cancel.CancelAsync();

        var read = new byte[content.Length - 1];
        var total = 0;
        int n;
        while ((n = stream.Read(read, total, Math.Min(100_000, read.Length - total))) > 0)
        {
            total += n;
        }

        Assert.Equal(read.Length, total);
        Assert.True(content.AsSpan(1).SequenceEqual(read));
        Assert.Equal(0, stream.Read(new byte[10], 0, 10));
    }

    [Fact]
    public async Task Ranged_reads_of_an_empty_object_are_empty()
    {
        await Store.PutAsync("range/empty.bin", ReadOnlyMemory<byte>.Empty);

        Assert.Empty(await ReadAllAsync(Store, "range/empty.bin"));
        Assert.Empty(await ReadAllAsync(Store, "range/empty.bin", 0, 10));
        Assert.Empty(await ReadAllAsync(Store, "range/empty.bin", 3));
        Assert.Equal(0, await Store.ReadAsync("range/empty.bin", 0, new byte[8]));
    }

    [Fact]
    public async Task Listing_is_sorted_and_filtered_by_prefix()
    {
        // No key here has a character below '/' right where another key has a folder: s3rver (unlike
        // S3) lists folders first there. The local store's own tests cover that order.
        string[] keys = ["b", "a/c/d", "ab", "a_b", "a/b", "c/x.tsf", "c/x.tseg"];
        foreach (var key in keys)
        {
            await Store.PutAsync(key, Utf8(key));
        }

        var all = await ListAllAsync(Store);
        Assert.Equal(["a/b", "a/c/d", "a_b", "ab", "b", "c/x.tseg", "c/x.tsf"], all.Select(i => i.Key));
        Assert.All(all, i => Assert.Equal(i.Key.Length, i.Size));
        Assert.Equal(["a/b", "a/c/d", "a_b", "ab"], (await ListAllAsync(Store, "a")).Select(i => i.Key));
        Assert.Equal(["a/b", "a/c/d"], (await ListAllAsync(Store, "a/")).Select(i => i.Key));
        Assert.Equal(["c/x.tseg", "c/x.tsf"], (await ListAllAsync(Store, "c/x.ts")).Select(i => i.Key));
        Assert.Empty(await ListAllAsync(Store, "zzz/"));
    }

    [Fact]
    public async Task Listing_spans_many_pages()
    {
        await using var paged = await OpenStoreAsync(listPageSize: 7);
        var keys = Enumerable.Range(0, 53).Select(i => $"pages/{i:D4}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, ct) => await paged.PutAsync(key, Utf8(key), ct));

        Assert.Equal(keys, (await ListAllAsync(paged, "pages/")).Select(i => i.Key));
    }

    [Fact]
    public async Task Listing_returns_more_than_a_thousand_keys()
    {
        var keys = Enumerable.Range(0, 1013).Select(i => $"many/{i:D5}.bin").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, ct) => await Store.PutAsync(key, ReadOnlyMemory<byte>.Empty, ct));

        var listed = await ListAllAsync(Store, "many/");
        Assert.Equal(keys, listed.Select(i => i.Key));
    }

    [Fact]
    public async Task Conditional_create_never_replaces_an_existing_object()
    {
        Assert.True(await Store.TryCreateAsync("create/manifest.json", Utf8("first")));
        Assert.False(await Store.TryCreateAsync("create/manifest.json", Utf8("second")));
        Assert.Equal(Utf8("first"), await ReadAllAsync(Store, "create/manifest.json"));

        await Store.PutAsync("create/existing.json", Utf8("put"));
        Assert.False(await Store.TryCreateAsync("create/existing.json", Utf8("create")));
        Assert.Equal(Utf8("put"), await ReadAllAsync(Store, "create/existing.json"));
    }

    [Fact]
    public async Task Conditional_create_races_end_as_the_capabilities_promise()
    {
        const int Racers = 8;
        var atomic = Store.Capabilities.HasFlag(StoreCapabilities.ConditionalCreate);

        // Where creation is atomic, racers may write anything and exactly one wins. Where it is not, the
        // contract asks racers to write identical content (a deterministic manifest), and then any
        // number may win: the object is that content either way.
        var contents = Enumerable.Range(0, Racers).Select(i => Bytes(64 * 1024, atomic ? 100 + i : 100)).ToArray();
        using var start = new ManualResetEventSlim();
        var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Store.TryCreateAsync("create/raced.json", contents[i]);
        })).ToArray();
        start.Set();
        var won = await Task.WhenAll(racers);

        var stored = await ReadAllAsync(Store, "create/raced.json");
        var winners = Enumerable.Range(0, Racers).Where(i => won[i]).ToList();
        Assert.NotEmpty(winners);
        if (atomic)
        {
            Assert.Single(winners);
        }

        Assert.Equal(contents[winners[0]], stored);
        Assert.False(await Store.TryCreateAsync("create/raced.json", contents[0]));
    }

    [Fact]
    public async Task Put_replaces_an_object_and_delete_removes_it()
    {
        await Store.PutAsync("delete/object.bin", Bytes(100, 1));
        await Store.PutAsync("delete/object.bin", Bytes(50, 2));
        Assert.Equal(Bytes(50, 2), await ReadAllAsync(Store, "delete/object.bin"));

        await Store.DeleteAsync("delete/object.bin");
        Assert.Null(await Store.GetInfoAsync("delete/object.bin"));
        Assert.Empty(await ListAllAsync(Store, "delete/"));

        // Deletes are idempotent.
        await Store.DeleteAsync("delete/object.bin");
        await Store.DeleteAsync("delete/never-existed.bin");
    }

    [Fact]
    public async Task Missing_keys_are_typed_errors_naming_store_and_key()
    {
        Assert.Null(await Store.GetInfoAsync("missing/object.bin"));

        var open = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.OpenReadAsync("missing/object.bin"));
        Assert.Equal(ObjectStoreErrorKind.NotFound, open.Kind);
        Assert.Contains("missing/object.bin", open.Message, StringComparison.Ordinal);
        Assert.Contains(Store.Name, open.Message, StringComparison.Ordinal);

        var ranged = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.OpenReadAsync("missing/object.bin", 10, 0));
        Assert.Equal(ObjectStoreErrorKind.NotFound, ranged.Kind);

        var read = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.ReadAsync("missing/object.bin", 0, new byte[10]));
        Assert.Equal(ObjectStoreErrorKind.NotFound, read.Kind);
        Assert.Contains("missing/object.bin", read.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> BadKeys => new()
    {
        string.Empty,
        "/etc/passwd",
        "../escape",
        "a/../../escape",
        "a/./b",
        "..",
        ".",
        "a//b",
        "a/",
        "a\\..\\b",
        "a\u0000b",
        "line\nbreak",
        new string('k', 1025),
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task Bad_keys_are_refused_before_any_request(string key)
    {
        async Task AssertInvalid(Func<Task> call)
        {
            var error = await Assert.ThrowsAsync<ObjectStoreException>(call);
            Assert.Equal(ObjectStoreErrorKind.InvalidKey, error.Kind);
            Assert.Contains(Store.Name, error.Message, StringComparison.Ordinal);
            Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        }

        await AssertInvalid(() => Store.PutAsync(key, Utf8("x")));
        await AssertInvalid(() => Store.TryCreateAsync(key, Utf8("x")));
        await AssertInvalid(() => Store.GetInfoAsync(key));
        await AssertInvalid(() => Store.OpenReadAsync(key));
        await AssertInvalid(() => Store.ReadAsync(key, 0, new byte[1]));
        await AssertInvalid(() => Store.DeleteAsync(key));
        await AssertInvalid(() => Store.StartUploadAsync(key));
        Assert.Empty(await ListAllAsync(Store));
    }

    [Fact]
    public async Task Listing_refuses_a_prefix_that_could_escape()
    {
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => ListAllAsync(Store, "../"));
        Assert.Equal(ObjectStoreErrorKind.InvalidKey, error.Kind);
    }

    [Fact]
    public async Task Everything_arrives_whole_when_a_fifth_of_all_calls_fail()
    {
        var options = new FaultInjectionOptions { FailureRate = 0.2, LostAnswerShare = 0.25, Seed = 20, ListPageSize = 10 };
        options.Faults.Clear();
        options.Faults.Add(InjectedFault.SlowDown);
        options.Faults.Add(InjectedFault.InternalError);
        options.Faults.Add(InjectedFault.ConnectionReset);
        var faults = new FaultInjectingObjectStore(Store, options, leaveInnerOpen: true);
        await using var store = new RetryingObjectStore(
            faults,
            new RetryOptions { MaxAttempts = 12, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20), Seed = 5 },
            leaveInnerOpen: true);
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);

        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < 30; i++)
        {
            var key = $"faults/put/{i:D3}.bin";
            expected[key] = Bytes(1 + (i * 997), i);
            await store.PutAsync(key, expected[key]);
        }

        for (var i = 0; i < 10; i++)
        {
            var key = $"faults/create/{i:D3}.json";
            expected[key] = Bytes(100 + i, 1000 + i);
            Assert.True(await store.TryCreateAsync(key, expected[key]), $"create of {key} reported an existing object");
        }

        foreach (var size in new[] { 1024, (12 * MiB) + 5 })
        {
            var key = $"faults/upload/{size}.bin";
            expected[key] = Bytes(size, size);
            await UploadAsync(store, key, expected[key], seed: size);
        }

        var listed = await ListAllAsync(store, "faults/");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), listed.Select(i => i.Key));
        foreach (var (key, content) in expected)
        {
            // Through the faults (retried) and straight from the store underneath: both byte-exact.
            var throughFaults = await ReadAllAsync(store, key);
            var underneath = await ReadAllAsync(Store, key);
            Assert.True(content.AsSpan().SequenceEqual(throughFaults), $"{key} differs when read through the faults");
            Assert.True(content.AsSpan().SequenceEqual(underneath), $"{key} differs in the store");
            var buffer = new byte[content.Length];
            Assert.Equal(content.Length, await store.ReadAsync(key, 0, buffer));
            Assert.Equal(content, buffer);
        }

        await AssertNothingPendingAsync(Store);
        Assert.True(faults.InjectedFailures > 20, $"only {faults.InjectedFailures} failures were injected");
        var retries = metrics.Sum(ObjectStoreMetrics.RetriesName, ("store", store.Name));
        Assert.Equal(faults.InjectedFailures, retries);
        Assert.True(metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("outcome", ObjectStoreMetrics.Retried)) == retries);
        Assert.True(metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("operation", "upload-part"), ("outcome", "success")) >= 3);
    }

    [Fact]
    public async Task A_part_that_fails_for_good_aborts_the_upload_and_leaves_nothing()
    {
        var options = new FaultInjectionOptions { Seed = 3, Multipart = { PartSize = MultipartOptions.MinimumS3PartSize } };
        options.FailureRates[StoreOperation.UploadPart] = 1.0;
        await using var faults = new FaultInjectingObjectStore(Store, options, leaveInnerOpen: true);

        var upload = await faults.StartUploadAsync("faults/doomed.bin");
        var error = await Assert.ThrowsAnyAsync<ObjectStoreException>(async () =>
        {
            var chunk = Bytes(MiB, 1);
            for (var i = 0; i < 20; i++)
            {
                await upload.WriteAsync(chunk);
            }

            await upload.CompleteAsync();
        });
        Assert.Equal(ObjectStoreErrorKind.Transient, error.Kind);
        Assert.Equal(StoreOperation.UploadPart, error.Operation);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await upload.WriteAsync(Bytes(1, 1)));
        await upload.DisposeAsync();

        Assert.Null(await Store.GetInfoAsync("faults/doomed.bin"));
        await AssertNothingPendingAsync(Store);
    }

    [Fact]
    public async Task A_cancelled_upload_is_aborted_and_leaves_no_object()
    {
        using var cancel = new CancellationTokenSource();
        var upload = await Store.StartUploadAsync("cancel/object.bin");
        var chunk = Bytes(MiB, 9);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            for (var i = 0; ; i++)
            {
                if (i == 12)
                {
                    cancel.Cancel();
                }

                await upload.WriteAsync(chunk, cancel.Token);
            }
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => upload.CompleteAsync());
        await upload.DisposeAsync();

        Assert.Null(await Store.GetInfoAsync("cancel/object.bin"));
        Assert.Empty(await ListAllAsync(Store, "cancel/"));
        await AssertNothingPendingAsync(Store);
    }

    [Fact]
    public async Task An_upload_disposed_without_completing_leaves_nothing()
    {
        await using (var upload = await Store.StartUploadAsync("dispose/object.bin"))
        {
            await upload.WriteAsync(Bytes((11 * MiB) + 1, 4));
        }

        await using (var aborted = await Store.StartUploadAsync("dispose/aborted.bin"))
        {
            await aborted.WriteAsync(Bytes(1000, 4));
            await aborted.AbortAsync();
            await aborted.AbortAsync();
        }

        Assert.Empty(await ListAllAsync(Store, "dispose/"));
        await AssertNothingPendingAsync(Store);
    }
}
