using System.Buffers;
using BenchmarkDotNet.Attributes;
using Tailor.Format.Codecs;
using Tailor.Format.Series;
using Tailor.Format.Workload;

namespace Tailor.Benchmarks.Series;

/// <summary>The standard corpus (2,000 series, seed 42, one 4 h window) as sorted S-file input with tag-like metadata.</summary>
public abstract class SFileBenchmarkBase
{
    private int[] _order = [];
    private SeriesKey[] _keys = [];
    private byte[][] _metadata = [];

    /// <summary>Series in the corpus.</summary>
    [Params(2000)]
    public int Series { get; set; }

    /// <summary>The corpus.</summary>
    protected SeriesCorpus Corpus { get; private set; } = null!;

    /// <summary>The corpus written with the default codec.</summary>
    protected byte[] TailorFile { get; private set; } = [];

    /// <summary>The corpus written with the Gorilla codec.</summary>
    protected byte[] GorillaFile { get; private set; } = [];

    /// <summary>The keys of the file, in key order.</summary>
    protected SeriesKey[] Keys => _keys;

    /// <summary>Decode destinations large enough for any series.</summary>
    protected long[] Timestamps { get; private set; } = [];

    /// <summary>Decode destinations large enough for any series.</summary>
    protected double[] Values { get; private set; } = [];

    /// <summary>An output buffer reused by every write.</summary>
    protected ArrayBufferWriter<byte> Output { get; } = new(8 << 20);

    /// <summary>Builds the corpus and the two files.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Corpus = SeriesCorpus.Generate(SeriesMix.Default, 42, Series);
        var all = Enumerable.Range(0, Corpus.SeriesCount).Where(i => Corpus.GetTimestamps(i).Length > 0).ToArray();
        _keys = all.Select(Key).ToArray();
        _order = all;
        Array.Sort(_keys, _order);
        _metadata = _order.Select(Metadata).ToArray();
        Timestamps = new long[Corpus.MaxSeriesPointCount];
        Values = new double[Corpus.MaxSeriesPointCount];
        TailorFile = Write(SeriesCodecs.Default).ToArray();
        GorillaFile = Write(SeriesCodecs.Gorilla).ToArray();
    }

    /// <summary>Writes the corpus as one S-file into <see cref="Output"/>.</summary>
    protected ReadOnlySpan<byte> Write(ISeriesCodec codec)
    {
        Output.ResetWrittenCount();
        using var writer = new SFileWriter(Output, new SFileWriterOptions { Codec = codec, Shard = "org-mod-7", WindowStart = Corpus.WindowStart, WindowSeconds = Corpus.WindowSeconds });
        for (var i = 0; i < _order.Length; i++)
        {
            writer.AddSeries(_keys[i], _metadata[i], Corpus.GetTimestamps(_order[i]), Corpus.GetValues(_order[i]));
        }

        writer.Complete();
        return Output.WrittenSpan;
    }

    /// <summary>Scans a whole file; decodes every block when <paramref name="decode"/>; returns the points seen.</summary>
    protected long Scan(byte[] file, bool decode)
    {
        var scanner = new SFileScanner(file);
        try
        {
            long points = 0;
            while (scanner.MoveNext())
            {
                points += decode ? scanner.ReadPoints(Timestamps, Values) : scanner.Current.PointCount;
            }

            return points;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    private static SeriesKey Key(int i)
    {
        var h = (ulong)i * 0x9E3779B97F4A7C15UL;
        return new SeriesKey((uint)(1 + (i / 300)), 1000 + (ulong)((i / 7) % 40), h ^ (h >> 29));
    }

    private static byte[] Metadata(int i) => System.Text.Encoding.UTF8.GetBytes(
        $"host:web-{i % 97:D3},env:{(i % 3 == 0 ? "prod" : "staging")},service:svc-{i % 13},region:us-east-{1 + (i % 2)},pod:pod-{(uint)(i * 2654435761u):x8}"
        + (i % 4 == 0 ? ",type:gauge,unit:bytes,team:storage-platform,version:1.2." + (i % 50) : string.Empty));
}

/// <summary>Writing the corpus as one S-file (blocks, index pages, footer): Gorilla (baseline) against the default codec.</summary>
[MemoryDiagnoser]
public class SFileWriteBenchmarks : SFileBenchmarkBase
{
    /// <summary>The whole file with Gorilla blocks.</summary>
    [Benchmark(Baseline = true)]
    public int Gorilla() => Write(SeriesCodecs.Gorilla).Length;

    /// <summary>The whole file with default-codec blocks.</summary>
    [Benchmark]
    public int Tailor() => Write(SeriesCodecs.Default).Length;
}

/// <summary>A full scan of the file as the compaction verifier makes it: every page and block checked, every block decoded.</summary>
[MemoryDiagnoser]
public class SFileScanBenchmarks : SFileBenchmarkBase
{
    /// <summary>Pages and block checksums only, no decoding: the floor of a scan.</summary>
    [Benchmark(Baseline = true)]
    public long ChecksumsOnly() => Scan(TailorFile, decode: false);

    /// <summary>Full scan of the default-codec file, decoding every block.</summary>
    [Benchmark]
    public long Tailor() => Scan(TailorFile, decode: true);

    /// <summary>Full scan of the Gorilla file, decoding every block.</summary>
    [Benchmark]
    public long Gorilla() => Scan(GorillaFile, decode: true);
}

/// <summary>Looking up one series (page and block read from memory, checked and decoded), 256 random series per operation.</summary>
[MemoryDiagnoser]
public class SFileLookupBenchmarks : SFileBenchmarkBase
{
    private const int Lookups = 256;
    private SeriesKey[] _probes = [];
    private IRangeSource _source = null!;
    private SFileLayout _layout = null!;

    /// <summary>Picks the series to look up.</summary>
    [GlobalSetup(Targets = [nameof(Cold), nameof(CachedFooter)])]
    public void SetupLookups()
    {
        Setup();
        var rng = new Random(7);
        _probes = Enumerable.Range(0, Lookups).Select(_ => Keys[rng.Next(Keys.Length)]).ToArray();
        _source = RangeSource.FromMemory(TailorFile);
        _layout = SFileLayout.Read(TailorFile);
    }

    /// <summary>A new reader per lookup: tail, page and block (three reads), as for a file seen for the first time.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public async Task<long> Cold()
    {
        long points = 0;
        foreach (var key in _probes)
        {
            using var reader = await SFileReader.OpenAsync(_source);
            var found = await reader.FindAsync(key);
            points += await reader.ReadPointsAsync(found!.Value.Entry, Timestamps, Values);
        }

        return points;
    }

    /// <summary>A reader per lookup over a cached footer: page and block (two reads).</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public async Task<long> CachedFooter()
    {
        long points = 0;
        foreach (var key in _probes)
        {
            using var reader = SFileReader.Create(_source, _layout);
            var found = await reader.FindAsync(key);
            points += await reader.ReadPointsAsync(found!.Value.Entry, Timestamps, Values);
        }

        return points;
    }
}
