using System.Numerics;
using Tailor.Format.Codecs;
using Tailor.Format.Encoding;

namespace Tailor.Format.Tests.Codecs;

/// <summary>
/// The integer column's planner against a plain model of its rule: every width priced value by value,
/// the cheapest kept (ties to the wider), the minimum and the sampled median both tried. The planner
/// prunes, interleaves counters and sums exception costs by recurrence; it must choose exactly what the
/// model chooses, since the plan decides the bytes of every block.
/// </summary>
public sealed class IntegerColumnPlanTests
{
    [Fact]
    public void The_plan_is_the_cheapest_layout_by_the_written_rule()
    {
        var random = new Random(20261126);
        for (var round = 0; round < 3000; round++)
        {
            var values = Column(random, round);
            var plan = IntegerColumn.Plan(values);
            var model = Model(values);
            AssertSame(model, plan, $"round {round}, {values.Length} values");

            // Both ways of counting widths choose the same plan: value by value everywhere, and eight at
            // a time where the processor can (the way Plan counts on this machine when it can).
            AssertSame(model, IntegerColumn.Plan(values, vectorWidths: false), $"round {round}, value by value");
            if (IntegerColumn.VectorWidthsSupported)
            {
                AssertSame(model, IntegerColumn.Plan(values, vectorWidths: true), $"round {round}, eight at a time");
            }

            // And the plan writes what it promised, and reads back.
            var buffer = new byte[plan.MaxBytes + (plan.ExceptionCount * 10) + 16];
            var position = 0;
            IntegerColumn.Write(values, plan, buffer, ref position);
            Assert.InRange(position, 1, plan.MaxBytes);
            var read = new long[values.Length];
            var at = 0;
            Assert.True(IntegerColumn.TryRead(buffer, ref at, read));
            Assert.Equal(values, read);
        }
    }

    [Fact]
    public void Differences_wrap_like_the_scalar_loop_at_every_length_and_lane_remainder()
    {
        var random = new Random(20261127);
        for (var n = 0; n <= 41; n++)
        {
            var values = new long[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = (i % 5) switch
                {
                    0 => long.MinValue + random.Next(0, 3),
                    1 => long.MaxValue - random.Next(0, 3),
                    _ => random.NextInt64(),
                };
            }

            // Every prefix length, so each count of whole vectors and each remainder is met.
            for (var count = 0; count <= Math.Max(0, n - 1); count++)
            {
                var deltas = new long[count + 1];
                deltas[count] = 12345; // past the requested count: must stay as it is
                IntegerColumn.Differences(values, deltas.AsSpan(0, count));
                for (var i = 0; i < count; i++)
                {
                    Assert.Equal(unchecked(values[i + 1] - values[i]), deltas[i]);
                }

                Assert.Equal(12345, deltas[count]);
            }
        }

        Assert.Throws<ArgumentException>(() => IntegerColumn.Differences(new long[3], new long[3]));
        Assert.Throws<ArgumentException>(() => IntegerColumn.Differences(ReadOnlySpan<long>.Empty, new long[1]));
    }

    [Fact]
    public void Counting_widths_eight_at_a_time_needs_the_processor_for_it()
    {
        if (IntegerColumn.VectorWidthsSupported)
        {
            Assert.Equal(IntegerColumn.Plan([1, 5, 9], vectorWidths: false).MaxBytes, IntegerColumn.Plan([1, 5, 9], vectorWidths: true).MaxBytes);
        }
        else
        {
            Assert.Throws<PlatformNotSupportedException>(() => IntegerColumn.Plan([1, 5, 9], vectorWidths: true));
        }
    }

    private static void AssertSame(ColumnPlan model, ColumnPlan plan, string what) =>
        Assert.True(
            (model.Reference, model.Divisor, model.ZigZag, model.Width, model.ExceptionCount, model.MaxBytes)
            == (plan.Reference, plan.Divisor, plan.ZigZag, plan.Width, plan.ExceptionCount, plan.MaxBytes),
            $"{what}: model {model.Width} bits, {model.ExceptionCount} exceptions, {model.MaxBytes} bytes, " +
            $"plan {plan.Width} bits, {plan.ExceptionCount} exceptions, {plan.MaxBytes} bytes");

    private static long[] Column(Random random, int round)
    {
        // Mostly series-sized columns; every 50th longer than the stack buffer of the vector count (2,048).
        var n = round % 7 == 0 ? random.Next(1, 8) : round % 50 == 1 ? random.Next(2040, 9000) : random.Next(8, 1200);
        var values = new long[n];
        var shape = round % 6;
        var spread = 1L << random.Next(0, 40);
        var step = shape == 3 ? random.Next(2, 5000) : 1;
        var baseline = random.NextInt64(-1L << 50, 1L << 50);
        for (var i = 0; i < n; i++)
        {
            values[i] = shape switch
            {
                0 => baseline + random.NextInt64(0, spread),                                   // narrow, from a minimum
                1 => baseline + random.NextInt64(-spread, spread),                             // around a median
                2 => random.Next(100) < 3 ? random.NextInt64() : baseline + random.Next(0, 40), // narrow with wide outliers
                3 => baseline + (step * random.NextInt64(0, 1000)),                            // multiples of a divisor
                4 => random.Next(50) == 0 ? baseline - random.NextInt64(0, 1L << 45) : baseline + random.Next(0, 16), // low outliers
                _ => i % 97 == 0 ? long.MinValue + i : long.MaxValue - random.Next(0, 1000),   // the whole range
            };
        }

        return values;
    }

    private static ColumnPlan Model(long[] values)
    {
        long min = values.Min();
        long max = values.Max();
        if (min == max)
        {
            return new ColumnPlan { Reference = min, Divisor = 1, MaxBytes = 2 + VarInt.GetLength(VarInt.ZigZag(min)) };
        }

        ulong divisor = 1;
        if (unchecked((ulong)(max - min)) < 1UL << 62)
        {
            divisor = 0;
            foreach (var x in values)
            {
                divisor = BigGcd(divisor, (ulong)(x - min));
            }
        }

        var best = Price(values, min, divisor, zigzag: false);
        var sorted = Enumerable.Range(0, Math.Min(15, values.Length)).Select(j => values[(int)((long)j * values.Length / Math.Min(15, values.Length))]).Order().ToArray();
        var median = sorted[sorted.Length / 2];
        if (median != min)
        {
            var candidate = Price(values, median, divisor, zigzag: true);
            if (candidate.MaxBytes < best.MaxBytes)
            {
                best = candidate;
            }
        }

        return best;
    }

    private static ColumnPlan Price(long[] values, long reference, ulong divisor, bool zigzag)
    {
        var mapped = values.Select(x =>
        {
            var d = unchecked(x - reference);
            return zigzag ? VarInt.ZigZag(d / (long)divisor) : (ulong)d / divisor;
        }).ToArray();
        var widths = mapped.Select(u => 64 - BitOperations.LeadingZeroCount(u)).ToArray();
        var top = widths.Max();
        var m = values.Length;
        var gapBytes = VarInt.GetLength((ulong)m);
        long bestBytes = long.MaxValue;
        int bestWidth = 0, bestExceptions = 0;
        for (var w = top; w >= 0; w--)
        {
            var wider = widths.Where(b => b > w).ToArray();
            long bytes = (((long)m * w) + 7) >> 3;
            if (wider.Length > 0)
            {
                bytes += wider.Sum(b => (long)gapBytes + ((b - w + 6) / 7)) + VarInt.GetLength((ulong)wider.Length);
            }

            if (bytes < bestBytes)
            {
                (bestBytes, bestWidth, bestExceptions) = (bytes, w, wider.Length);
            }
        }

        return new ColumnPlan
        {
            Reference = reference,
            Divisor = divisor,
            ZigZag = zigzag,
            Width = bestWidth,
            ExceptionCount = bestExceptions,
            MaxBytes = (int)(2 + VarInt.GetLength(VarInt.ZigZag(reference)) + (divisor > 1 ? VarInt.GetLength(divisor) : 0) + bestBytes),
        };
    }

    private static ulong BigGcd(ulong a, ulong b) => (ulong)BigInteger.GreatestCommonDivisor(a, b);
}
