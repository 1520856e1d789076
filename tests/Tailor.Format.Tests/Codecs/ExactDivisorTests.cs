using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

public sealed class ExactDivisorTests
{
    [Fact]
    public void Dividing_multiples_matches_division_for_every_divisor_shape()
    {
        var random = new Random(20261126);
        var divisors = new List<ulong> { 2, 3, 7, 10, 15, 60, 1000, 86_400_000, 1UL << 40, (1UL << 61) - 1 };
        for (var i = 0; i < 200; i++)
        {
            divisors.Add((ulong)random.NextInt64(2, long.MaxValue >> random.Next(0, 62)) | 2);
        }

        foreach (var divisor in divisors)
        {
            var exact = new ExactDivisor(divisor);
            var maxQuotient = (long)Math.Min(1L << 40, (long)((1UL << 62) / divisor));
            for (var j = 0; j < 200; j++)
            {
                var q = random.NextInt64(0, maxQuotient + 1);
                var x = (ulong)q * divisor;
                Assert.Equal(x / divisor, exact.Divide(x));
                Assert.Equal(-q, exact.Divide(-(long)x));
                Assert.Equal(q, exact.Divide((long)x));
            }

            Assert.Equal(0UL, exact.Divide(0UL));
            Assert.Equal(1UL, exact.Divide(divisor));
        }
    }
}
