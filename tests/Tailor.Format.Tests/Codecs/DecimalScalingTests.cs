using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// The decimal mode scales values to integers eight at a time where the processor has 512-bit
/// vectors and one at a time elsewhere; which values are decimal, and their digits, decide the bytes
/// of every block, so both must agree on every value, edge cases included.
/// </summary>
public sealed class DecimalScalingTests
{
    [Fact]
    public void Eight_at_a_time_agrees_with_one_at_a_time_lane_by_lane()
    {
        // The codec scales eight at a time only where 512-bit vectors are native; elsewhere the runtime
        // emulates them, and the comparison holds there too.
        var random = new Random(20261127);
        var edges = new[]
        {
            0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 1.0 / 3, 0.1, 0.7, 12.345, -12.345, 9007199254740991.0, 9007199254740992.0,
            -9007199254740993.0, 900719925474099.1, 1e300, -1e-300, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
            double.Epsilon, double.MaxValue, double.MinValue, 4.35, 4.45, 1e-7, 123456789.012345678,
        };
        var values = new List<double>(edges);
        for (var i = 0; i < 20_000; i++)
        {
            var decimals = random.Next(0, 7);
            var digits = random.NextInt64(-1L << random.Next(1, 54), 1L << random.Next(1, 54));
            var value = digits / Math.Pow(10, decimals);
            values.Add(value);
            values.Add(Math.BitIncrement(value));
            values.Add((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 18)));
            values.Add(Math.Round(random.NextDouble() * 1e6) / 1000.0 / random.Next(1, 5000));
        }

        // Shuffled into groups of eight, so edges meet every lane.
        var all = values.OrderBy(_ => random.Next()).ToArray();
        var exceptions = 0;
        for (var exponent = 0; exponent <= TailorCodec.MaxDecimalExponent; exponent++)
        {
            var scale = Math.Pow(10, exponent);
            var digitsEight = new long[all.Length];
            for (var at = 0; at + 8 <= all.Length; at += 8)
            {
                var bad = TailorCodec.ScaleEight(all, at, scale, digitsEight);
                for (var lane = 0; lane < 8; lane++)
                {
                    var decimalOne = TailorCodec.TryScale(all[at + lane], scale, out var digit);
                    Assert.True(decimalOne == (((bad >> lane) & 1) == 0), $"{all[at + lane]:R} at 10^{exponent}: one at a time says {decimalOne}");
                    if (decimalOne)
                    {
                        Assert.Equal(digit, digitsEight[at + lane]);
                    }
                    else
                    {
                        exceptions++;
                    }
                }
            }
        }

        Assert.InRange(exceptions, 1000, (all.Length / 8 * 8 * (TailorCodec.MaxDecimalExponent + 1)) - 1000);
    }

    [Fact]
    public void The_exponent_chosen_eight_at_a_time_is_the_one_chosen_value_by_value()
    {
        var random = new Random(20261129);
        var chosen = new HashSet<int>();
        for (var round = 0; round < 6000; round++)
        {
            // Series of every length up to past the sample of 32, decimals of one or mixed exponents,
            // with a share of values that are not decimal (full precision, NaN, -0.0, huge).
            var n = round % 3 == 0 ? random.Next(1, 40) : random.Next(40, 2000);
            var decimals = random.Next(0, 12);
            var noise = round % 4 switch { 0 => 0.0, 1 => 0.1, 2 => 0.3, _ => 0.6 };
            var values = new double[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = random.NextDouble() < noise
                    ? (random.Next(5) switch { 0 => double.NaN, 1 => -0.0, 2 => 1e300, _ => random.NextDouble() * 1000 })
                    : random.NextInt64(-1_000_000_000, 1_000_000_000) / Math.Pow(10, random.Next(0, decimals + 1));
            }

            foreach (var limit in new[] { 0, 6, TailorCodec.MaxDecimalExponent })
            {
                var one = TailorCodec.ChooseExponent(values, limit, eightAtATime: false);
                Assert.Equal(one, TailorCodec.ChooseExponent(values, limit, eightAtATime: true));
                chosen.Add(one);
            }
        }

        // The inputs reach "not decimal" and a spread of exponents, or the comparison proves little.
        Assert.Contains(-1, chosen);
        Assert.True(chosen.Count >= 10, $"only exponents {string.Join(", ", chosen.Order())} were chosen");
    }
}
