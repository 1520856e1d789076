using Tailor.Testing;
using static Tailor.Storage.Tests.TestData;

namespace Tailor.Storage.Tests;

public sealed class LocalObjectStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("local");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_full_disk_is_StorageFull_and_leaves_no_partial_object()
    {
        using var disk = new TmpfsMount("1m");
        await using var store = new LocalObjectStore(disk.Path);

        var put = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("full/put.bin", Bytes(2 * MiB, 1)));
        Assert.Equal(ObjectStoreErrorKind.StorageFull, put.Kind);
        Assert.Contains("full/put.bin", put.Message, StringComparison.Ordinal);
        Assert.Contains(store.Name, put.Message, StringComparison.Ordinal);

        var upload = await store.StartUploadAsync("full/upload.bin");
        var streamed = await Assert.ThrowsAsync<ObjectStoreException>(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                await upload.WriteAsync(Bytes(256 * 1024, i));
            }

            await upload.CompleteAsync();
        });
        Assert.Equal(ObjectStoreErrorKind.StorageFull, streamed.Kind);
        Assert.Contains("full/upload.bin", streamed.Message, StringComparison.Ordinal);
        await upload.DisposeAsync();

        var create = await Assert.ThrowsAsync<ObjectStoreException>(() => store.TryCreateAsync("full/create.bin", Bytes(2 * MiB, 2)));
        Assert.Equal(ObjectStoreErrorKind.StorageFull, create.Kind);

        // Nothing partial anywhere, temporary files included, and the space is free again.
        Assert.Empty(await ListAllAsync(store));
        Assert.Empty(Directory.EnumerateFiles(disk.Path, "*", SearchOption.AllDirectories));
        await store.PutAsync("full/small.bin", Bytes(100 * 1024, 3));
        Assert.Equal(Bytes(100 * 1024, 3), await ReadAllAsync(store, "full/small.bin"));
    }

    [Fact]
    public async Task Offsets_past_four_GiB_work()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        await store.PutAsync("large/object.bin", Bytes(16, 1));

        // A sparse 6 GiB object: writing it through the store would take minutes, the reads are what matter.
        const long Size = (6L << 30) + 123;
        var tail = Bytes(4096, 2);
        using (var file = File.OpenHandle(Path.Combine(_folder.Path, "large", "object.bin"), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(file, Size);
            RandomAccess.Write(file, tail, Size - tail.Length);
        }

        Assert.Equal(Size, (await store.GetInfoAsync("large/object.bin"))?.Size);
        var buffer = new byte[tail.Length + 100];
        Assert.Equal(tail.Length, await store.ReadAsync("large/object.bin", Size - tail.Length, buffer));
        Assert.Equal(tail, buffer[..tail.Length]);
        Assert.Equal(tail[1000..1100], await ReadAllAsync(store, "large/object.bin", Size - tail.Length + 1000, 100));
        Assert.Equal(tail[^10..], await ReadAllAsync(store, "large/object.bin", Size - 10));
        Assert.Empty(await ReadAllAsync(store, "large/object.bin", Size + 5));
        await using var stream = await store.OpenReadAsync("large/object.bin", 5L << 30, 1L << 30);
        Assert.Equal(1L << 30, stream.Length);
    }

    [Fact]
    public async Task Readers_never_see_a_partial_object_while_it_is_replaced()
    {
        await using var store = new LocalObjectStore(_folder.Path, new LocalObjectStoreOptions { FlushToDisk = false });
        var a = Enumerable.Repeat((byte)'a', MiB).ToArray();
        var b = Enumerable.Repeat((byte)'b', 2 * MiB).ToArray();
        await store.PutAsync("atomic/object.bin", a);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await store.PutAsync("atomic/object.bin", i % 2 == 0 ? b : a);
            }
        });
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            var read = await ReadAllAsync(store, "atomic/object.bin");
            Assert.True(read.AsSpan().SequenceEqual(a) || read.AsSpan().SequenceEqual(b), $"read {read.Length} bytes that are neither version");
            reads++;
        }

        await writer;
        Assert.True(reads > 10);
    }

    [Fact]
    public async Task Conditional_create_has_exactly_one_winner_under_stress()
    {
        // File.Move without overwrite lets several racers win on Linux; this is the test that showed it.
        await using var store = new LocalObjectStore(_folder.Path, new LocalObjectStoreOptions { FlushToDisk = false });
        for (var round = 0; round < 150; round++)
        {
            var key = $"stress/{round:D3}.json";
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(
                () =>
                {
                    start.Wait();
                    return store.TryCreateAsync(key, Utf8($"racer {i}")).GetAwaiter().GetResult();
                },
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            start.Set();
            var won = await Task.WhenAll(racers);
            var winner = Assert.Single(Enumerable.Range(0, 8), i => won[i]);
            Assert.Equal(Utf8($"racer {winner}"), await ReadAllAsync(store, key));
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_folder.Path, LocalObjectStore.TemporaryFolderName), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Listing_orders_a_folder_as_its_key_prefix_with_a_slash()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        string[] keys = ["a/b", "a-b", "a.b", "a0", "a/c/d", "ab"];
        foreach (var key in keys)
        {
            await store.PutAsync(key, Utf8(key));
        }

        Assert.Equal(["a-b", "a.b", "a/b", "a/c/d", "a0", "ab"], (await ListAllAsync(store)).Select(i => i.Key));
        Assert.Equal(["a-b", "a.b", "a/b", "a/c/d", "a0", "ab"], (await ListAllAsync(store, "a")).Select(i => i.Key));
    }

    [Fact]
    public async Task A_key_cannot_be_both_an_object_and_a_folder()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        await store.PutAsync("conflict/a", Utf8("object"));
        var under = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("conflict/a/b", Utf8("child")));
        Assert.Equal(ObjectStoreErrorKind.Conflict, under.Kind);
        Assert.Contains("conflict/a", under.Message, StringComparison.Ordinal);

        await store.PutAsync("conflict/f/x", Utf8("child"));
        var over = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("conflict/f", Utf8("object")));
        Assert.Equal(ObjectStoreErrorKind.Conflict, over.Kind);
        Assert.Null(await store.GetInfoAsync("conflict/f"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_folder.Path, LocalObjectStore.TemporaryFolderName), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_temporary_folder_is_reserved_and_hidden()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync(".tailor-tmp/x", Utf8("x")));
        Assert.Equal(ObjectStoreErrorKind.InvalidKey, error.Kind);

        await using var upload = await store.StartUploadAsync("hidden/object.bin");
        await upload.WriteAsync(Bytes(1000, 1));

        // A write in progress lives in the temporary folder, which listings never show.
        Assert.Empty(await ListAllAsync(store));
        Assert.Equal(0, upload.BufferedBytes);
        await upload.CompleteAsync();
        Assert.Equal(["hidden/object.bin"], (await ListAllAsync(store)).Select(i => i.Key));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Moving_a_file_in_stores_its_exact_bytes_and_consumes_it(bool otherVolume)
    {
        await using var store = new LocalObjectStore(_folder.Path);
        await store.PutAsync("moved/part.tsf", Utf8("the previous object"));

        // /dev/shm is a separate (memory) file system here: the move falls back to a copy into the store's temporary folder.
        var sourceRoot = otherVolume && Directory.Exists("/dev/shm") ? "/dev/shm" : _folder.Path;
        var source = Path.Combine(sourceRoot, $"tailor-move-{Guid.NewGuid():N}.bin");
        var bytes = Bytes(3 << 20, 7);
        await File.WriteAllBytesAsync(source, bytes);
        try
        {
            var info = await store.MoveInAsync("moved/part.tsf", source);

            Assert.Equal(bytes.Length, info.Size);
            Assert.False(File.Exists(source));
            var back = new byte[bytes.Length];
            Assert.Equal(bytes.Length, await store.ReadAsync("moved/part.tsf", 0, back));
            Assert.Equal(bytes, back);
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(_folder.Path, LocalObjectStore.TemporaryFolderName)));
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task Moving_a_file_in_under_a_bad_key_is_refused_and_leaves_the_file()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        var source = Path.Combine(_folder.Path, "outside.bin");
        await File.WriteAllBytesAsync(source, [1, 2, 3]);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.MoveInAsync("../escape.bin", source));

        Assert.Equal(ObjectStoreErrorKind.InvalidKey, error.Kind);
        Assert.True(File.Exists(source));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_folder.Path)!, "escape.bin")));
    }

    [Fact]
    public async Task Deleting_prunes_empty_folders()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        await store.PutAsync("deep/er/still/object.bin", Utf8("x"));
        await store.DeleteAsync("deep/er/still/object.bin");
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "deep")));
        Assert.True(Directory.Exists(_folder.Path));
    }

    [Fact]
    public void A_missing_root_is_BucketNotFound_when_it_may_not_be_created()
    {
        var missing = Path.Combine(_folder.Path, "nope");
        var error = Assert.Throws<ObjectStoreException>(() => new LocalObjectStore(missing, new LocalObjectStoreOptions { CreateRoot = false }));
        Assert.Equal(ObjectStoreErrorKind.BucketNotFound, error.Kind);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);

        using var created = new TempFolder("local-root");
        var root = Path.Combine(created.Path, "a", "b");
        _ = new LocalObjectStore(root);
        Assert.True(Directory.Exists(root));
    }

    [Fact]
    public async Task Every_call_is_counted_on_the_meter()
    {
        await using var store = new LocalObjectStore(_folder.Path);
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);
        await store.PutAsync("counted/a", Utf8("a"));
        await store.GetInfoAsync("counted/a");
        await store.ReadAsync("counted/a", 0, new byte[1]);
        await store.TryCreateAsync("counted/a", Utf8("a"));
        await store.DeleteAsync("counted/a");
        await ListAllAsync(store);

        foreach (var operation in new[] { "put", "head", "get", "create", "delete", "list" })
        {
            Assert.True(metrics.Sum(ObjectStoreMetrics.RequestsName, ("store", store.Name), ("operation", operation), ("outcome", "success")) >= 1, operation);
        }
    }
}
