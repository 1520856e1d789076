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
}
