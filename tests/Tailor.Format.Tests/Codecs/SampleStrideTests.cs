using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

/// <summary>The samplers' positions without divisions are the positions they took with them.</summary>
public sealed class SampleStrideTests
{
    [Fact]
    public void Every_position_is_the_floor_of_j_times_n_over_count()
    {
        foreach (var n in Enumerable.Range(1, 400).Concat([4095, 4096, 4097, 65535, 65536, 1_000_003]))
        {
            for (var count = 1; count <= Math.Min(40, n); count++)
            {
                var stride = new SampleStride(n, count);
                for (var j = 0; j < count; j++)
                {
                    var expected = (int)((long)j * n / count);
                    var actual = stride.Next();
                    Assert.True(expected == actual, $"n {n}, count {count}, j {j}: expected {expected}, got {actual}");
                }
            }
        }
    }
}
