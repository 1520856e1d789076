using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Workload;

public class SeriesGeneratorTests
{
    private const long Start = SeriesCorpus.DefaultWindowStart;
    private const long End = Start + SeriesCorpus.DefaultWindowSeconds;

    public static TheoryData<SeriesFamily, int> FamiliesAndIntervals()
    {
        var data = new TheoryData<SeriesFamily, int>();
        foreach (SeriesFamily family in Enum.GetValues<SeriesFamily>())
        {
            foreach (int interval in new[] { 10, 15, 60 })
            {
                data.Add(family, interval);
            }
        }

        return data;
    }

    private static (long[] Ts, double[] Vs) Generate(SeriesFamily family, int interval, ulong seed)
    {
        int max = SeriesGenerator.GetMaxPointCount(interval, End - Start);
        var ts = new long[max];
        var vs = new double[max];
        int n = SeriesGenerator.Generate(family, interval, seed, Start, End, ts, vs);
        return (ts[..n], vs[..n]);
    }

    [Theory]
    [MemberData(nameof(FamiliesAndIntervals))]
    public void Same_arguments_give_the_same_points_and_slices_give_the_whole(SeriesFamily family, int interval)
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var (ts, vs) = Generate(family, interval, seed);
            var (ts2, vs2) = Generate(family, interval, seed);
            Assert.Equal(ts, ts2);
            Assert.Equal(vs.Select(BitConverter.DoubleToInt64Bits), vs2.Select(BitConverter.DoubleToInt64Bits));

            // Advance in uneven slices, with small spans that fill up before the slice ends.
            var generator = SeriesGenerator.Create(family, interval, seed, Start);
            var sliced = new List<(long, double)>();
            var rng = new Random((int)seed);
            long cut = Start;
            var smallTs = new long[7];
            var smallVs = new double[7];
            while (cut < End)
            {
                cut = Math.Min(End, cut + rng.Next(1, 900));
                int got;
                while ((got = generator.Fill(cut, smallTs, smallVs)) > 0)
                {
                    for (int k = 0; k < got; k++)
                    {
                        sliced.Add((smallTs[k], smallVs[k]));
                    }
                }
            }

            Assert.Equal(ts, sliced.Select(p => p.Item1));
            Assert.Equal(vs.Select(BitConverter.DoubleToInt64Bits), sliced.Select(p => BitConverter.DoubleToInt64Bits(p.Item2)));

            // Next() agrees with Fill.
            var one = SeriesGenerator.Create(family, interval, seed, Start);
            for (int k = 0; k < Math.Min(ts.Length, 50); k++)
            {
                Assert.Equal(ts[k], one.NextTimestamp);
                var point = one.Next();
                Assert.Equal(ts[k], point.TimestampSeconds);
                Assert.Equal(BitConverter.DoubleToInt64Bits(vs[k]), BitConverter.DoubleToInt64Bits(point.Value));
            }
        }
    }

    [Theory]
    [MemberData(nameof(FamiliesAndIntervals))]
    public void Timestamps_are_strictly_increasing_inside_the_range_and_values_finite(SeriesFamily family, int interval)
    {
        for (ulong seed = 100; seed < 140; seed++)
        {
            var (ts, vs) = Generate(family, interval, seed);
            Assert.True(ts.Length <= SeriesGenerator.GetMaxPointCount(interval, End - Start));
            for (int i = 0; i < ts.Length; i++)
            {
                Assert.InRange(ts[i], Start, End - 1);
                Assert.True(double.IsFinite(vs[i]), $"{family} value {vs[i]}");
                if (i > 0)
                {
                    Assert.True(ts[i] > ts[i - 1], $"{family}: {ts[i - 1]} then {ts[i]}");
                }
            }

            if (family != SeriesFamily.Sparse)
            {
                // Dense families have about one point per interval.
                Assert.InRange(ts.Length, (End - Start) / interval * 9 / 10, (End - Start) / interval + 2);
            }
        }
    }

    [Fact]
    public void Families_look_like_what_they_claim_to_be()
    {
        bool sawReset = false, sawFullPrecisionRatio = false, sawOneDecimal = false, sawTwoDecimals = false, sawGap = false, sawJitter = false, sawChange = false, sawPageMultiple = false;
        for (ulong seed = 0; seed < 300; seed++)
        {
            var (_, counter) = Generate(SeriesFamily.Counter, 10, seed);
            for (int i = 1; i < counter.Length; i++)
            {
                Assert.Equal(Math.Floor(counter[i]), counter[i]);
                sawReset |= counter[i] < counter[i - 1];
            }

            var (_, gauge) = Generate(SeriesFamily.IntegerGauge, 15, seed);
            Assert.All(gauge, v => Assert.True(v >= 0 && Math.Floor(v) == v));
            sawPageMultiple |= gauge.All(v => v % 4096 == 0) && gauge.Any(v => v > 1e6);

            var (_, rounded) = Generate(SeriesFamily.RoundedPercent, 15, seed);
            Assert.All(rounded, v => Assert.InRange(v, 0, 100));
            Assert.All(rounded, v => Assert.Equal(v, Math.Round(v, 2)));
            sawOneDecimal |= rounded.All(v => v == Math.Round(v, 1));
            sawTwoDecimals |= rounded.Any(v => v != Math.Round(v, 1));

            var (_, ratio) = Generate(SeriesFamily.RatioPercent, 15, seed);
            Assert.All(ratio, v => Assert.InRange(v, 0, 100));
            sawFullPrecisionRatio |= ratio.Any(v => v != Math.Round(v, 6));

            var (_, constant) = Generate(SeriesFamily.Constant, 60, seed);
            Assert.All(constant, v => Assert.Equal(constant[0], v));

            var (_, step) = Generate(SeriesFamily.Step, 10, seed);
            int changes = 0;
            for (int i = 1; i < step.Length; i++)
            {
                changes += step[i] != step[i - 1] ? 1 : 0;
            }

            Assert.True(changes < step.Length / 20, $"step series changed {changes} times in {step.Length} points");
            sawChange |= changes > 0;

            var (sparseTs, _) = Generate(SeriesFamily.Sparse, 10, seed);
            for (int i = 1; i < sparseTs.Length; i++)
            {
                Assert.Equal(0, (sparseTs[i] - sparseTs[i - 1]) % 10);
                sawGap |= sparseTs[i] - sparseTs[i - 1] >= 600;
            }

            var (jitterTs, _) = Generate(SeriesFamily.Jittered, 60, seed);
            sawJitter |= jitterTs.Zip(jitterTs.Skip(1)).Select(p => p.Second - p.First).Distinct().Count() > 5;
        }

        Assert.True(sawReset, "some counter reset");
        Assert.True(sawPageMultiple, "some byte gauge counts whole pages");
        Assert.True(sawOneDecimal && sawTwoDecimals, "percentages with one and with two decimals");
        Assert.True(sawFullPrecisionRatio, "computed ratios are full precision");
        Assert.True(sawChange, "step series change sometimes");
        Assert.True(sawGap, "sparse series have gaps");
        Assert.True(sawJitter, "jittered series are irregular");
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesGenerator.Create((SeriesFamily)99, 10, 1, Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesGenerator.Create(SeriesFamily.Counter, 0, 1, Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesGenerator.Create(SeriesFamily.Counter, 10, 1, long.MaxValue));
    }
}
