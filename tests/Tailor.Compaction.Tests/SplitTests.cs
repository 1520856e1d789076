using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Tests;

/// <summary>How a job's segments are cut into the splits its reading threads take.</summary>
public sealed class SplitTests
{
    private const long MiB = 1 << 20;

    [Theory]
    [InlineData(2, 64 * MiB, 12_768_701)]    // 12 readable segments of 17 MB, two threads: a sixteenth of 204 MB
    [InlineData(8, 64 * MiB, 4 * MiB)]       // many threads: no smaller than 4 MiB
    [InlineData(2, 16 << 10, 16 << 10)]      // a smaller setting is kept
    [InlineData(1, 8 * MiB, 8 * MiB)]        // one thread: never above the setting
    public void Splits_cover_every_byte_once_at_most_the_size_chosen_largest_first(int parallelism, long splitBytes, long expectedSize)
    {
        var ends = Enumerable.Range(0, 13).Select(i => (17L * 1000 * 1000) + (i * 4099L)).ToList();
        ends[5] = -1; // unreadable: no splits
        var splits = JobInput.CutSplits(ends, parallelism, splitBytes);

        Assert.Equal(expectedSize, splits.Max(s => s.End - s.Start));
        for (var f = 0; f < ends.Count; f++)
        {
            var covered = splits.Where(s => s.File == f).OrderBy(s => s.Start).ToList();
            long next = 0;
            foreach (var split in covered)
            {
                Assert.Equal(next, split.Start);
                Assert.True(split.End > split.Start);
                next = split.End;
            }

            Assert.Equal(Math.Max(0, ends[f]), next);
        }

        for (var i = 1; i < splits.Count; i++)
        {
            Assert.True(splits[i - 1].End - splits[i - 1].Start >= splits[i].End - splits[i].Start, "splits must come largest first");
        }
    }
}
