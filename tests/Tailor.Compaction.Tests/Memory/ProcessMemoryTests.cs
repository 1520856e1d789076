using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Tests.Memory;

public class ProcessMemoryTests
{
    [Fact]
    public void Sampling_the_working_set_allocates_nothing_and_tracks_the_process()
    {
        Assert.True(ProcessMemory.WorkingSet() > 0);

        // The job samples every 50 ms on a timer; a sample must not add to the job's allocations.
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
}
