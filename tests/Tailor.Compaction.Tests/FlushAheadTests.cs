using System.Security.Cryptography;
using Tailor.Compaction.Writing;
using Tailor.Storage;

namespace Tailor.Compaction.Tests;

/// <summary>Parts flushed to disk in the background while they are written, into a local store that flushes its puts.</summary>
public sealed class FlushAheadTests
{
    [Fact]
    public async Task Flushing_a_part_while_writing_it_changes_no_byte_of_it()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 4_000_000, series: 4000, sharedShards: 1);
        Assert.True(kit.Store.FlushToDisk, "the kit's store must flush its puts for parts to be flushed ahead");
        var shard = ShardName.Shared(0);
        var hashes = new List<string>();
        foreach (var every in new[] { long.MaxValue, 64L << 10 })
        {
            var before = Interlocked.Read(ref PartWriter.FlushesStarted);
            var report = await new CompactionRunner(kit.Store, new CompactionOptions
            {
                WorkDirectory = kit.WorkDirectory,
                Force = true,
                FlushAheadBytes = every,
            }).RunAsync(shard, CompactionTestKit.Window);
            var started = Interlocked.Read(ref PartWriter.FlushesStarted) - before;
            if (every == long.MaxValue)
            {
                Assert.Equal(0, started);
            }
            else
            {
                // The part goes to its file 4 MiB at a time: over 5 MB of it reach the file once before the part closes.
                Assert.True(started >= 1, $"{report.BytesOut} bytes written with a flush every {every} bytes started {started} flushes");
            }

            hashes.Add(Convert.ToHexStringLower(SHA256.HashData(await kit.ReadAsync(report.Parts.Single().Key))));
        }

        Assert.Single(hashes.Distinct());
    }
}
