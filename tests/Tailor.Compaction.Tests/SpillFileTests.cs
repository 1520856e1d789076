using Tailor.Compaction.Spill;

namespace Tailor.Compaction.Tests;

public sealed class SpillFileTests
{
    [Theory]
    [InlineData(new long[] { 100 }, true)]
    [InlineData(new long[] { 100, 110 }, true)]
    [InlineData(new long[] { 100, 115, 130, 145 }, true)]
    [InlineData(new long[] { long.MinValue + 1, long.MinValue + 2 }, true)]
    [InlineData(new long[] { }, false)]
    [InlineData(new long[] { 100, 100 }, false)]
    [InlineData(new long[] { 130, 115, 100 }, false)]
    [InlineData(new long[] { 100, 110, 121 }, false)]
    [InlineData(new long[] { 100, 110, 130, 140 }, false)]
    public void Only_timestamps_first_last_and_count_rebuild_are_left_out(long[] timestamps, bool regular)
    {
        Assert.Equal(regular, SpillFile.IsRegular(timestamps));
        if (regular && timestamps.Length > 1)
        {
            var step = (timestamps[^1] - timestamps[0]) / (timestamps.Length - 1);
            Assert.Equal(timestamps, Enumerable.Range(0, timestamps.Length).Select(i => timestamps[0] + (i * step)));
        }
    }
}
