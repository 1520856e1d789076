using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// The quotient search tests candidate denominators four or eight at a time depending on the
/// processor; the format's choices, and so the bytes, must not depend on which.
/// </summary>
public sealed class NearIntegerMaskTests
{
    [Fact]
    public void Eight_lanes_and_four_lanes_set_the_same_bits()
    {
        var random = new Random(20261127);
        var values = new List<double> { 0, -0.0, 1, -1, 0.5, 1.0 / 3, 2.0 / 7, 9007199254740991.0, 9007199254740992.0, 1e300, double.NaN, double.PositiveInfinity, double.Epsilon };
        for (var i = 0; i < 3000; i++)
        {
            // Latency-like quotients (a decimal over a count), their neighbours one ulp away, and noise.
            var q = random.Next(1, 5000);
            var quotient = Math.Round(random.NextDouble() * 1e6) / 1000.0 / q;
            values.Add(quotient * 1000);
            values.Add(Math.BitIncrement(quotient * 1000));
            values.Add((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 16)));
        }

        var starts = new double[] { -40, -31, -3, 0, 1, 2, 97, 1000, 4093, 4_294_967_000 };
        var set = 0;
        foreach (var value in values)
        {
            foreach (var start in starts.Append(random.Next(-64, 100_000)))
            {
                foreach (var vectors in new[] { 2, 16 })
                {
                    var four = TailorCodec.NearIntegerMask256(value, start, vectors);
                    Assert.Equal(four, TailorCodec.NearIntegerMask512(value, start, vectors));
                    set += four != 0 ? 1 : 0;
                }
            }
        }

        Assert.True(set > 1000, $"only {set} masks had a candidate: the inputs do not exercise the test");
    }

    [Fact]
    public void The_nearest_candidate_is_the_closest_set_bit_to_the_hint_and_the_lower_on_a_tie()
    {
        var random = new Random(20261128);
        var masks = new List<ulong> { 1, 1UL << 63, 1UL << 32, 1UL << 31, (1UL << 31) | (1UL << 33), (1UL << 30) | (1UL << 34), ulong.MaxValue, 0x8000_0001_0000_0000 };
        for (var i = 0; i < 20_000; i++)
        {
            // Sparse masks, as the near-integer test gives, and dense ones.
            var mask = i % 2 == 0 ? (1UL << random.Next(64)) | (1UL << random.Next(64)) : (ulong)random.NextInt64() | (1UL << random.Next(64));
            masks.Add(mask);
        }

        foreach (var mask in masks)
        {
            // The model: every set bit's distance from bit 32, the smallest, then the lower bit.
            var expected = Enumerable.Range(0, 64).Where(b => ((mask >> b) & 1) != 0).Select(b => b - 32).OrderBy(Math.Abs).ThenBy(o => o).First();
            Assert.Equal(expected, TailorCodec.NearestOffset(mask));
        }
    }
}
