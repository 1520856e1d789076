using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Workload;

public class SeriesMixTests
{
    [Fact]
    public void Picks_are_deterministic_and_follow_the_weights()
    {
        var mix = SeriesMix.Default;
        var counts = new int[SeriesFamilies.Count];
        var intervals = new Dictionary<int, int>();
        const int population = 100_000;
        for (int i = 0; i < population; i++)
        {
            var spec = mix.Pick(42, i);
            Assert.Equal(spec, mix.Pick(42, i));
            counts[(int)spec.Family]++;
            intervals[spec.IntervalSeconds] = intervals.GetValueOrDefault(spec.IntervalSeconds) + 1;
            if (spec.Family == SeriesFamily.Sparse)
            {
                Assert.Equal(10, spec.IntervalSeconds);
            }
        }

        for (int f = 0; f < SeriesFamilies.Count; f++)
        {
            double share = counts[f] / (double)population;
            Assert.InRange(share, mix.GetShare((SeriesFamily)f) - 0.01, mix.GetShare((SeriesFamily)f) + 0.01);
        }

        Assert.Equal([10, 15, 60], intervals.Keys.Order());
        Assert.NotEqual(mix.Pick(42, 1), mix.Pick(43, 1));
    }

    [Fact]
    public void Custom_mixes_are_validated()
    {
        var only = new SeriesMix([new(SeriesFamily.Latency, 1)], [new(60, 1)]);
        Assert.Equal(new SeriesSpec(SeriesFamily.Latency, 60, only.Pick(1, 2).Seed), only.Pick(1, 2));
        Assert.Throws<ArgumentException>(() => new SeriesMix([new(SeriesFamily.Counter, -1)], [new(10, 1)]));
        Assert.Throws<ArgumentException>(() => new SeriesMix([new(SeriesFamily.Counter, 0)], [new(10, 1)]));
        Assert.Throws<ArgumentException>(() => new SeriesMix([new(SeriesFamily.Counter, 1)], [new(0, 1)]));
    }

    [Fact]
    public void The_corpus_is_reproducible_and_has_churn()
    {
        var a = SeriesCorpus.Generate(SeriesMix.Default, 9, 300);
        var b = SeriesCorpus.Generate(SeriesMix.Default, 9, 300);
        Assert.Equal(a.PointCount, b.PointCount);
        int partial = 0;
        for (int i = 0; i < a.SeriesCount; i++)
        {
            Assert.True(a.GetTimestamps(i).SequenceEqual(b.GetTimestamps(i)));
            var ts = a.GetTimestamps(i);
            if (ts.Length > 0 && a.GetSpec(i).Family != SeriesFamily.Sparse
                && (ts[0] - a.WindowStart > 600 || a.WindowStart + a.WindowSeconds - ts[^1] > 600))
            {
                partial++;
            }
        }

        Assert.InRange(partial, 10, 60); // about 10% of 300
    }
}
