using Tailor.Format.Codecs;
using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Codecs;

public class CodecWorkloadTests
{
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

    [Theory]
    [MemberData(nameof(FamiliesAndIntervals))]
    public void Every_family_round_trips_bit_exactly(SeriesFamily family, int interval)
    {
        var ts = new long[2000];
        var vs = new double[2000];
        for (ulong seed = 0; seed < 25; seed++)
        {
            int n = SeriesGenerator.Generate(family, interval, seed, SeriesCorpus.DefaultWindowStart, SeriesCorpus.DefaultWindowStart + SeriesCorpus.DefaultWindowSeconds, ts, vs);
            foreach (var codec in CodecTestData.AllCodecs)
            {
                Assert.Null(CodecTestData.RoundTrip(codec, ts[..n], vs[..n]));
            }
        }
    }

    [Fact]
    public void Tailor_is_smaller_than_gorilla_on_every_family()
    {
        var corpus = SeriesCorpus.Generate(SeriesMix.Default, 11, 400);
        var gorilla = new long[SeriesFamilies.Count];
        var tailor = new long[SeriesFamilies.Count];
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            int f = (int)corpus.GetSpec(i).Family;
            gorilla[f] += CodecTestData.Encode(SeriesCodecs.Gorilla, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
            tailor[f] += CodecTestData.Encode(SeriesCodecs.Tailor, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
        }

        for (int f = 0; f < SeriesFamilies.Count; f++)
        {
            Assert.True(tailor[f] < gorilla[f], $"{(SeriesFamily)f}: tailor {tailor[f]} bytes, gorilla {gorilla[f]}");
        }
    }
}
