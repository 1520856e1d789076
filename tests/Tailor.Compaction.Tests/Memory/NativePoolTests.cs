using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Tailor.Compaction.Memory;
using Tailor.Storage;

namespace Tailor.Compaction.Tests.Memory;

public class NativePoolTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public void Block_sizes_hold_the_request_and_waste_at_most_half_of_it()
    {
        var random = new Random(11);
        var sizes = new List<long> { 1, 16, 4095, NativePool.MinPooledBytes - 1, NativePool.MinPooledBytes, NativePool.MinPooledBytes + 1, 96 << 10, (96 << 10) + 1, 128 << 10, 3L << 30, (3L << 30) + 1 };
        for (var i = 0; i < 10_000; i++)
        {
            sizes.Add(random.NextInt64(1, 16L << 30));
        }

        sizes.Sort();
        long previous = 0;
        foreach (var bytes in sizes)
        {
            var block = NativePool.BlockBytes(bytes);
            Assert.True(block >= bytes, $"{bytes}: block {block} is too small");
            Assert.True(block >= previous, $"{bytes}: block {block} is smaller than a smaller request's {previous}");
            Assert.Equal(block, NativePool.BlockBytes(block));
            if (bytes <= NativePool.MinPooledBytes)
            {
                Assert.Equal(bytes, block);
            }
            else
            {
                Assert.True(block * 2 <= bytes * 3, $"{bytes}: block {block} is more than half again the request");
                Assert.True(BitOperations.IsPow2(block) || (block % 3 == 0 && BitOperations.IsPow2(block / 3)), $"{bytes}: block {block} is neither 2^k nor 3 x 2^k");
            }

            previous = block;
        }
    }

    [Fact]
    public unsafe void Blocks_from_the_system_hold_every_byte_and_large_ones_lie_on_huge_page_boundaries()
    {
        // Around the size where blocks are mapped on their own (2 MiB), and sizes of the pool's two kinds.
        var sizes = new[] { 4096L, NativePool.MinPooledBytes, SystemBlocks.HugePageBytes - 4096, SystemBlocks.HugePageBytes, 3 * MiB, 4 * MiB, 48 * MiB };
        var blocks = new List<(nint Block, long Bytes)>();
        foreach (var bytes in sizes)
        {
            var block = (byte*)SystemBlocks.Alloc(bytes);
            if (SystemBlocks.HugePages && bytes >= SystemBlocks.HugePageBytes)
            {
                Assert.Equal(0, (long)block % SystemBlocks.HugePageBytes);
            }

            new Span<byte>(block, (int)bytes).Fill((byte)bytes);
            blocks.Add(((nint)block, bytes));
        }

        // Each block still holds its own bytes after the others were written: no two overlap.
        foreach (var (block, bytes) in blocks)
        {
            Assert.True(new ReadOnlySpan<byte>((void*)block, (int)bytes).IndexOfAnyExcept((byte)bytes) < 0, $"the block of {bytes} bytes was overwritten");
            SystemBlocks.Free((void*)block, bytes);
        }

        Assert.Equal(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64, SystemBlocks.HugePages);
    }

    [Fact]
    public unsafe void While_a_job_runs_a_returned_block_is_rented_again_instead_of_a_fresh_one()
    {
        var pool = new NativePool(TimeSpan.FromMinutes(10));
        pool.JobStarted(64 * MiB);
        var first = pool.Rent(MiB - 100, out var bytes);
        Assert.Equal(MiB, bytes);
        ((byte*)first)[bytes - 1] = 7;
        pool.Return(first, bytes);
        Assert.Equal(MiB, pool.IdleBytes);

        var second = pool.Rent(MiB, out var again);
        Assert.Equal(MiB, again);
        Assert.True(first == second, "the idle block of the same size was not reused");
        Assert.Equal(MiB, pool.FreshBytes);
        Assert.Equal(0, pool.IdleBytes);

        // A size the pool holds no block of is fresh.
        var other = pool.Rent(3 * MiB / 2, out var otherBytes);
        Assert.Equal(3 * MiB / 2, otherBytes);
        Assert.Equal(MiB + otherBytes, pool.FreshBytes);

        pool.Return(second, again);
        pool.Return(other, otherBytes);
        pool.JobEnded();
        pool.Release();
        Assert.Equal(0, pool.IdleBytes);
    }

    [Fact]
    public unsafe void Small_blocks_and_blocks_returned_outside_any_job_go_back_to_the_system()
    {
        var pool = new NativePool(TimeSpan.FromMinutes(10));
        var small = pool.Rent(1000, out var smallBytes);
        Assert.Equal(1000, smallBytes);
        pool.Return(small, smallBytes);

        var large = pool.Rent(4 * MiB, out var largeBytes);
        pool.Return(large, largeBytes);
        Assert.Equal(0, pool.IdleBytes);

        pool.JobStarted(64 * MiB);
        small = pool.Rent(1000, out smallBytes);
        pool.Return(small, smallBytes);
        Assert.Equal(0, pool.IdleBytes);
        pool.JobEnded();
        pool.Release();
    }

    [Fact]
    public unsafe void Blocks_in_use_and_idle_stay_within_a_quarter_more_than_the_budget_or_the_peak_in_use()
    {
        var pool = new NativePool(TimeSpan.FromMinutes(10));
        pool.JobStarted(2 * MiB);

        // One block at a time, each of a new size: the peak in use is the largest so far, and a block
        // is kept only while idle and in use together stay within a quarter more than that or the budget.
        long largest = 0;
        foreach (var bytes in new[] { MiB, 3 * MiB / 2, 2 * MiB, 3 * MiB, 12 * MiB })
        {
            largest = Math.Max(largest, bytes);
            var block = pool.Rent(bytes, out var blockBytes);
            Assert.Equal(bytes, blockBytes);
            var idle = pool.IdleBytes;
            pool.Return(block, blockBytes);
            Assert.Equal(largest, pool.PeakInUseBytes);
            var limit = NativePool.RetainBytes(2 * MiB, pool.PeakInUseBytes);
            Assert.Equal(Math.Max(2 * MiB, bytes) * 5 / 4, limit);
            Assert.Equal(idle + blockBytes <= limit ? idle + blockBytes : idle, pool.IdleBytes);
        }

        // Kept: 1 (1 <= 2.5), 1.5 (2.5 <= 2.5), 12 (14.5 <= 15); freed: 2 (4.5 > 2.5), 3 (5.5 > 3.75).
        Assert.Equal(29 * MiB / 2, pool.IdleBytes);

        // The next job has a smaller budget: it does not inherit what the larger one needed.
        pool.JobEnded();
        pool.JobStarted(MiB);
        Assert.Equal(0, pool.IdleBytes);
        pool.JobEnded();
        pool.Release();
    }

    [Fact]
    public async Task Idle_blocks_are_freed_once_no_job_has_run_for_the_retention_time()
    {
        var pool = new NativePool(TimeSpan.FromMilliseconds(200));
        pool.JobStarted(64 * MiB);
        RentAndReturn(pool, 2 * MiB);
        pool.JobEnded();

        // A job that starts within the retention time keeps the blocks, however long it runs.
        pool.JobStarted(64 * MiB);
        await Task.Delay(600);
        Assert.Equal(2 * MiB, pool.IdleBytes);
        pool.JobEnded();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pool.IdleBytes > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, pool.IdleBytes);
    }

    private static unsafe void RentAndReturn(NativePool pool, long bytes)
    {
        var block = pool.Rent(bytes, out var blockBytes);
        pool.Return(block, blockBytes);
    }

    [Fact]
    public void A_buffer_keeps_its_items_through_growth_and_trimming()
    {
        using var buffer = new NativeBuffer<long>(16);
        for (long i = 0; i < 1_000_000; i++)
        {
            buffer.Add(i * 3);
        }

        // Grown by half and rounded up to a block size: at most twice what it holds.
        Assert.True(buffer.Capacity >= 1_000_000 && buffer.Capacity <= 2_000_000, $"{buffer.Capacity} items");
        Assert.Equal(buffer.Capacity * 8, buffer.Bytes);
        Assert.Equal(NativePool.BlockBytes(buffer.Bytes), buffer.Bytes);
        buffer.Count = 300_000;
        buffer.Trim();
        Assert.True(buffer.Capacity >= 300_000 && buffer.Capacity * 2 <= 300_000 * 3, $"trimmed to {buffer.Capacity} items");
        for (long i = 0; i < buffer.Count; i++)
        {
            Assert.Equal(i * 3, buffer[i]);
        }
    }
}

/// <summary>Tests that measure the process-wide pool run alone, so no other test's job takes or gives back blocks meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativePoolCollection
{
    public const string Name = "native-pool";
}

[Collection(NativePoolCollection.Name)]
public class NativePoolJobTests
{
    [Fact]
    public async Task A_workers_second_job_takes_its_native_memory_from_the_pool_and_writes_the_same_bytes()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 1_500_000, series: 4000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        var runner = FreshPoolRunner(kit, 48L << 20);

        var fresh = new long[2];
        var hashes = new string[2];
        for (var job = 0; job < 2; job++)
        {
            var before = NativePool.Shared.FreshBytes;
            var report = await runner.RunAsync(shard, CompactionTestKit.Window);
            fresh[job] = NativePool.Shared.FreshBytes - before;
            Assert.True(report.Spills > 0, "a 48 MiB budget must force spills");
            hashes[job] = Convert.ToHexStringLower(SHA256.HashData(await kit.ReadAsync(report.Parts.Single().Key)));
        }

        Assert.True(fresh[0] > 8L << 20, $"the first job took only {fresh[0]} fresh bytes");
        // Usually a few hundred KB. Which thread reads which split changes from job to job, so a thread's
        // table or column can need a block size the first job never had: once in nine runs of the whole
        // suite the second job took 8.2 MB of 42.8 (two or three such blocks). Without the pool it takes
        // as much as the first.
        Assert.True(fresh[1] * 4 <= fresh[0], $"the second job took {fresh[1]} fresh bytes, the first {fresh[0]}");
        Assert.Equal(hashes[0], hashes[1]);
        Assert.True(NativePool.Shared.IdleBytes <= NativePool.RetainBytes(48L << 20, NativePool.Shared.PeakInUseBytes));
    }

    [Fact]
    public async Task A_first_job_sizes_its_point_columns_once_instead_of_growing_them_through_every_block()
    {
        // The whole input fits the budget: without sizing from the segments' footers, each column passed
        // through every block size up to its last, and the job asked the system for 1.59 times the memory
        // it ever had in use (1.32 with the columns sized; the runs, tables and merge still grow).
        await using var kit = await CompactionTestKit.CreateAsync(points: 1_500_000, series: 4000, sharedShards: 1);
        var runner = FreshPoolRunner(kit, 1L << 30);
        var before = NativePool.Shared.FreshBytes;
        var report = await runner.RunAsync(ShardName.Shared(0), CompactionTestKit.Window);
        var fresh = NativePool.Shared.FreshBytes - before;
        var peak = NativePool.Shared.PeakInUseBytes;
        Assert.Equal(0, report.Spills);
        Assert.True(report.PointsIn > 1_000_000, $"{report.PointsIn} points");
        Assert.True(fresh <= peak * 29 / 20, $"the job asked for {fresh:N0} fresh bytes with at most {peak:N0} in use");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(kit.Reference(ShardName.Shared(0), CompactionTestKit.Window))),
            Convert.ToHexStringLower(SHA256.HashData(await kit.ReadAsync(report.Parts.Single().Key))));
    }

    /// <summary>A two-thread runner over the kit with this budget, after the shared pool let go of every idle block.</summary>
    private static CompactionRunner FreshPoolRunner(CompactionTestKit kit, long memoryBudgetBytes)
    {
        var runner = new CompactionRunner(kit.Store, new CompactionOptions
        {
            WorkDirectory = kit.WorkDirectory,
            Parallelism = 2,
            MemoryBudgetBytes = memoryBudgetBytes,
            Force = true,
        });
        NativePool.Shared.Release();
        return runner;
    }
}
