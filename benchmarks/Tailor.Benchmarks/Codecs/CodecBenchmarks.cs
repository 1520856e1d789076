using BenchmarkDotNet.Attributes;
using Tailor.Format.Codecs;
using Tailor.Format.Workload;

namespace Tailor.Benchmarks.Codecs;

/// <summary>The standard corpus, encoded once per codec, shared by the codec benchmarks.</summary>
public abstract class CodecBenchmarkBase
{
    private readonly Dictionary<byte, (byte[] Blocks, int[] Offsets)> _encoded = [];

    /// <summary>Series in the corpus (one benchmark operation encodes or decodes all of them).</summary>
    [Params(500)]
    public int Series { get; set; }

    /// <summary>The corpus.</summary>
    protected SeriesCorpus Corpus { get; private set; } = null!;

    /// <summary>A block buffer large enough for any series.</summary>
    protected byte[] Buffer { get; private set; } = [];

    /// <summary>Decode destination for timestamps.</summary>
    protected long[] Timestamps { get; private set; } = [];

    /// <summary>Decode destination for values.</summary>
    protected double[] Values { get; private set; } = [];

    /// <summary>Builds the corpus and the encoded blocks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Corpus = SeriesCorpus.Generate(SeriesMix.Default, 42, Series);
        int max = Corpus.MaxSeriesPointCount;
        Buffer = new byte[SeriesCodecs.Gorilla.GetMaxEncodedLength(max)];
        Timestamps = new long[max];
        Values = new double[max];
        foreach (var codec in new ISeriesCodec[] { SeriesCodecs.Gorilla, SeriesCodecs.Tailor, SeriesCodecs.Tailor2 })
        {
            _encoded[codec.Id] = EncodeAll(codec);
        }
    }

    /// <summary>Encodes every series with <paramref name="codec"/>; returns the bytes written.</summary>
    protected long EncodeCorpus(ISeriesCodec codec)
    {
        long bytes = 0;
        for (int i = 0; i < Corpus.SeriesCount; i++)
        {
            bytes += codec.Encode(Corpus.GetTimestamps(i), Corpus.GetValues(i), Buffer);
        }

        return bytes;
    }

    /// <summary>Decodes every block of <paramref name="codec"/>; returns the points decoded.</summary>
    protected long DecodeCorpus(ISeriesCodec codec)
    {
        var (blocks, offsets) = _encoded[codec.Id];
        long points = 0;
        for (int i = 0; i < offsets.Length - 1; i++)
        {
            codec.Decode(blocks.AsSpan(offsets[i], offsets[i + 1] - offsets[i]), Timestamps, Values, out int n, out _);
            points += n;
        }

        return points;
    }

    private (byte[] Blocks, int[] Offsets) EncodeAll(ISeriesCodec codec)
    {
        var offsets = new int[Corpus.SeriesCount + 1];
        var blocks = new byte[Corpus.SeriesCount * (long)codec.GetMaxEncodedLength(Corpus.MaxSeriesPointCount) / 8];
        int at = 0;
        for (int i = 0; i < Corpus.SeriesCount; i++)
        {
            offsets[i] = at;
            int needed = codec.GetMaxEncodedLength(Corpus.GetTimestamps(i).Length);
            if (blocks.Length - at < needed)
            {
                Array.Resize(ref blocks, Math.Max(blocks.Length * 2, at + needed));
            }

            at += codec.Encode(Corpus.GetTimestamps(i), Corpus.GetValues(i), blocks.AsSpan(at));
        }

        offsets[^1] = at;
        return (blocks, offsets);
    }
}

/// <summary>Encoding the standard corpus: Gorilla (baseline) against both versions of Tailor's codec.</summary>
[MemoryDiagnoser]
public class CodecEncodeBenchmarks : CodecBenchmarkBase
{
    /// <summary>Gorilla encode of the whole corpus.</summary>
    [Benchmark(Baseline = true)]
    public long Gorilla() => EncodeCorpus(SeriesCodecs.Gorilla);

    /// <summary>Version 1 (<c>tailor</c>) encode of the whole corpus.</summary>
    [Benchmark]
    public long Tailor() => EncodeCorpus(SeriesCodecs.Tailor);

    /// <summary>Default codec (<c>tailor2</c>) encode of the whole corpus.</summary>
    [Benchmark]
    public long Tailor2() => EncodeCorpus(SeriesCodecs.Tailor2);
}

/// <summary>Decoding the standard corpus: Gorilla (baseline) against both versions of Tailor's codec.</summary>
[MemoryDiagnoser]
public class CodecDecodeBenchmarks : CodecBenchmarkBase
{
    /// <summary>Gorilla decode of the whole corpus.</summary>
    [Benchmark(Baseline = true)]
    public long Gorilla() => DecodeCorpus(SeriesCodecs.Gorilla);

    /// <summary>Version 1 (<c>tailor</c>) decode of the whole corpus.</summary>
    [Benchmark]
    public long Tailor() => DecodeCorpus(SeriesCodecs.Tailor);

    /// <summary>Default codec (<c>tailor2</c>) decode of the whole corpus.</summary>
    [Benchmark]
    public long Tailor2() => DecodeCorpus(SeriesCodecs.Tailor2);
}
