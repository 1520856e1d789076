using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Tests.Memory;

public class ProcessMemoryTests
{
    [Fact]
    public void Sampling_the_working_set_allocates_nothing_and_tracks_the_process()
    {
        Assert.True(ProcessMemory.WorkingSet() > 0);

        // The job samples every 50 ms on a thread of its own; a sample must not add to the job's allocations.
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            sum += ProcessMemory.WorkingSet();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(sum > 0);

        if (OperatingSystem.IsLinux())
        {
            // Touch 64 MiB; the resident set read again through the open handle must see it. Other tests
            // in this process may free memory meanwhile, so up to three fresh blocks are tried.
            var blocks = new List<byte[]>();
            var seen = new List<string>();
            for (int attempt = 0; attempt < 3; attempt++)
            {
                long start = ProcessMemory.WorkingSet();
                var block = GC.AllocateUninitializedArray<byte>(64 << 20);
                for (int i = 0; i < block.Length; i += 4096)
                {
                    block[i] = 1;
                }

                blocks.Add(block);
                long end = ProcessMemory.WorkingSet();
                seen.Add($"{start} -> {end}");
                if (end >= start + (48L << 20))
                {
                    return;
                }
            }

            Assert.Fail($"the working set did not grow by 48 MiB after touching 64 MiB: {string.Join(", ", seen)}");
        }
    }

    [Fact]
    public async Task The_peak_sampler_keeps_sampling_while_every_pool_thread_is_busy()
    {
        // A job's readers hold the pool's threads for seconds; a pool timer would not fire until the
        // pool grew, and the reading phase would go unmeasured.
        ThreadPool.GetMinThreads(out var workers, out _);
        using var release = new ManualResetEventSlim();
        using var started = new CountdownEvent(workers);
        var busy = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            busy[i] = Task.Factory.StartNew(
                () =>
                {
                    started.Signal();
                    release.Wait(TimeSpan.FromSeconds(10));
                },
                CancellationToken.None,
                TaskCreationOptions.None,
                TaskScheduler.Default);
        }

        try
        {
            Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
            using var sampler = new PeakWorkingSetSampler(intervalMilliseconds: 10);
            var first = sampler.Samples;
            Thread.Sleep(300);
            Assert.True(sampler.Samples - first >= 5, $"{sampler.Samples - first} samples in 300 ms with the pool busy");
            Assert.True(sampler.Peak > 0);
        }
        finally
        {
            release.Set();
            await Task.WhenAll(busy);
        }
    }
}
