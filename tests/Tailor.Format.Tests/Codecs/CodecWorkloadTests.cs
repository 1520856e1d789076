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
        var tailor2 = new long[SeriesFamilies.Count];
        var tailorPlain = new long[SeriesFamilies.Count];
        var version1Plain = new TailorCodec(new TailorCodecOptions { UseZstd = false });
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            int f = (int)corpus.GetSpec(i).Family;
            gorilla[f] += CodecTestData.Encode(SeriesCodecs.Gorilla, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
            tailor[f] += CodecTestData.Encode(SeriesCodecs.Tailor, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
            tailor2[f] += CodecTestData.Encode(SeriesCodecs.Tailor2, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
            tailorPlain[f] += CodecTestData.Encode(version1Plain, corpus.GetTimestamps(i), corpus.GetValues(i)).Length;
        }

        for (int f = 0; f < SeriesFamilies.Count; f++)
        {
            Assert.True(tailor[f] < gorilla[f], $"{(SeriesFamily)f}: tailor {tailor[f]} bytes, gorilla {gorilla[f]}");
            Assert.True(tailor2[f] < gorilla[f], $"{(SeriesFamily)f}: tailor2 {tailor2[f]} bytes, gorilla {gorilla[f]}");

            // Both without zstd (the default of version 2): the quotient kind is only ever chosen when smaller.
            Assert.True(tailor2[f] <= tailorPlain[f], $"{(SeriesFamily)f}: tailor2 {tailor2[f]} bytes, tailor without zstd {tailorPlain[f]}");
        }

        // The default codec's size target, on this smaller corpus of the same mix (docs/codecs.md has
        // the full one): at most half of Gorilla's bytes.
        Assert.True(tailor2.Sum() * 2 <= gorilla.Sum(), $"tailor2 {tailor2.Sum()} bytes, gorilla {gorilla.Sum()}");
        Assert.True(tailor.Sum() * 2 > gorilla.Sum(), "version 1 was measured above half; if it is now below, the docs are stale");
    }

    [Theory]
    [InlineData(SeriesFamily.RatioPercent)]
    [InlineData(SeriesFamily.Latency)]
    public void Quotient_families_are_stored_as_quotients(SeriesFamily family)
    {
        var ts = new long[2000];
        var vs = new double[2000];
        int quotientBlocks = 0;
        for (ulong seed = 0; seed < 20; seed++)
        {
            int n = SeriesGenerator.Generate(family, 15, seed, SeriesCorpus.DefaultWindowStart, SeriesCorpus.DefaultWindowStart + SeriesCorpus.DefaultWindowSeconds, ts, vs);
            var v2 = CodecTestData.Encode(new TailorCodec(new TailorCodecOptions { UseZstd = false }, 2), ts.AsSpan(0, n), vs.AsSpan(0, n));
            var v1 = CodecTestData.Encode(new TailorCodec(new TailorCodecOptions { UseZstd = false }), ts.AsSpan(0, n), vs.AsSpan(0, n));
            Assert.True(v2.Length <= v1.Length, $"seed {seed}: version 2 {v2.Length} bytes, version 1 {v1.Length}");
            if (ValuesKind(v2, n) == 3)
            {
                quotientBlocks++;

                // Version 1 reads the same header but refuses the quotient kind, never misreads it.
                Assert.Equal(System.Buffers.OperationStatus.InvalidData, SeriesCodecs.Tailor.Decode(v2, new long[n], new double[n], out _, out _));
            }

            Assert.Null(CodecTestData.RoundTrip(SeriesCodecs.Tailor2, ts[..n], vs[..n]));
        }

        Assert.True(quotientBlocks >= 10, $"{family}: {quotientBlocks} of 20 blocks used the quotient kind");
    }

    /// <summary>The values kind (low two bits of the values mode byte) of a plain block.</summary>
    private static int ValuesKind(byte[] block, int n)
    {
        Assert.Equal(0, block[0]); // plain
        int position = 1;
        Assert.True(Tailor.Format.Encoding.VarInt.TryRead(block, ref position, out ulong count));
        Assert.Equal((ulong)n, count);
        Assert.True(Tailor.Format.Encoding.VarInt.TryRead(block, ref position, out _)); // t0
        var deltas = new long[n - 1];
        Assert.True(IntegerColumn.TryRead(block, ref position, deltas));
        return block[position] & 3;
    }
}
