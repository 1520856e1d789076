using System.Buffers;
using Tailor.Testing;
using static Tailor.Storage.Tests.TestData;

namespace Tailor.Storage.Tests;

/// <summary>The streamed upload's memory and parallelism, measured on an in-memory store with latency.</summary>
public sealed class PartedUploadTests
{
    [Fact]
    public async Task Buffers_are_rented_on_first_data_grow_with_it_and_all_come_back()
    {
        var pool = new CountingPool();
        var inner = new InMemoryObjectStore();
        await using var store = new RetryingObjectStore(inner, multipart: new MultipartOptions { BufferPool = pool });

        await using (var upload = await store.StartUploadAsync("lazy.bin"))
        {
            Assert.Equal(0, pool.Outstanding);
            await upload.WriteAsync(Bytes(100, 1));
            Assert.InRange(pool.Outstanding, 1, 64 * 1024);
            Assert.Equal(100, upload.BufferedBytes);
            await upload.CompleteAsync();
        }

        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(Bytes(100, 1), await ReadAllAsync(inner, "lazy.bin"));

        await using (var dropped = await store.StartUploadAsync("dropped.bin"))
        {
            await dropped.WriteAsync(Bytes(3 * MiB, 2));
        }

        Assert.Equal(0, pool.Outstanding);
        Assert.Null(await inner.GetInfoAsync("dropped.bin"));
    }

    [Fact]
    public async Task Parts_go_out_in_parallel_and_memory_stays_under_parallelism_plus_one_parts()
    {
        const int PartSize = MiB;
        const int Parallel = 3;
        var pool = new CountingPool();
        var probe = new ConcurrencyProbe(new InMemoryObjectStore(), TimeSpan.FromMilliseconds(40));
        var multipart = new MultipartOptions { PartSize = PartSize, MaxParallelParts = Parallel, MaxChunkSize = 64 * 1024, BufferPool = pool };
        await using var store = new RetryingObjectStore(probe, multipart: multipart);

        var content = Bytes((20 * PartSize) + 5, 3);
        await using var upload = await store.StartUploadAsync("parallel.bin");
        long peakBuffered = 0;
        for (var offset = 0; offset < content.Length; offset += 100_000)
        {
            await upload.WriteAsync(content.AsMemory(offset, Math.Min(100_000, content.Length - offset)));
            peakBuffered = Math.Max(peakBuffered, upload.BufferedBytes);
        }

        await upload.CompleteAsync();
        Assert.Equal(Parallel, probe.PeakConcurrentParts);
        Assert.InRange(peakBuffered, PartSize, (Parallel + 1) * PartSize);
        Assert.InRange(pool.PeakOutstanding, PartSize, (Parallel + 1) * (PartSize + multipart.MaxChunkSize));
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(content, await ReadAllAsync(probe, "parallel.bin"));
    }

    [Fact]
    public async Task An_object_of_exactly_one_part_is_a_single_put()
    {
        var inner = new InMemoryObjectStore();
        var faults = new FaultInjectingObjectStore(inner, new FaultInjectionOptions { Multipart = { PartSize = 64 * 1024 } });
        await using var upload = await faults.StartUploadAsync("one-part.bin");
        await upload.WriteAsync(Bytes(64 * 1024, 4));
        await upload.CompleteAsync();
        Assert.Empty(inner.PendingUploadIds);
        Assert.Equal(Bytes(64 * 1024, 4), await ReadAllAsync(inner, "one-part.bin"));
    }

    [Fact]
    public async Task Writes_whose_answers_were_lost_are_reported_as_done()
    {
        // Every injected failure strikes after the inner store carried out the call.
        var inner = new InMemoryObjectStore();
        var options = new FaultInjectionOptions { LostAnswerShare = 1.0, Seed = 11 };
        options.FailureRates[StoreOperation.Create] = 0.5;
        options.FailureRates[StoreOperation.CompleteUpload] = 0.5;
        var faults = new FaultInjectingObjectStore(inner, options);
        await using var store = new RetryingObjectStore(faults, new RetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, Seed = 1 },
            new MultipartOptions { PartSize = 64 * 1024 });

        for (var i = 0; i < 12; i++)
        {
            // A create that took effect but lost its answer finds its own object on retry: still "created".
            Assert.True(await store.TryCreateAsync($"lost/create-{i}", Bytes(100, i)));

            // A complete that took effect finds its upload gone on retry, and the object of its size in place.
            var content = Bytes((200 * 1024) + i, i);
            await UploadAsync(store, $"lost/upload-{i}", content);
            Assert.Equal(content, await ReadAllAsync(inner, $"lost/upload-{i}"));
        }

        Assert.True(faults.InjectedFailuresOf(StoreOperation.Create) > 0);
        Assert.True(faults.InjectedFailuresOf(StoreOperation.CompleteUpload) > 0);
        Assert.Empty(inner.PendingUploadIds);

        // And a create that finds someone else's content is still refused.
        await inner.PutAsync("lost/other", Bytes(10, 99));
        Assert.False(await store.TryCreateAsync("lost/other", Bytes(10, 98)));
    }

    /// <summary>A pool that counts what is rented and not yet returned.</summary>
    private sealed class CountingPool : ArrayPool<byte>
    {
        private long _outstanding;
        private long _peak;

        public long Outstanding => Interlocked.Read(ref _outstanding);

        public long PeakOutstanding => Interlocked.Read(ref _peak);

        public override byte[] Rent(int minimumLength)
        {
            var array = Shared.Rent(minimumLength);
            var now = Interlocked.Add(ref _outstanding, array.Length);
            long peak;
            while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
            {
            }

            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            Interlocked.Add(ref _outstanding, -array.Length);
            Shared.Return(array, clearArray);
        }
    }

    /// <summary>Delays each part upload and records how many run at once.</summary>
    private sealed class ConcurrencyProbe(InMemoryObjectStore inner, TimeSpan latency) : ForwardingObjectStore(inner)
    {
        private int _current;
        private int _peak;

        public int PeakConcurrentParts => Volatile.Read(ref _peak);

        public override string Name => "probe";

        public override async Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
        {
            var now = Interlocked.Increment(ref _current);
            int peak;
            while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
            {
            }

            try
            {
                await Task.Delay(latency, cancellationToken);
                return await base.UploadPartAsync(key, uploadId, partNumber, data, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _current);
            }
        }
    }
}
