using BenchmarkDotNet.Attributes;
using Tailor.Benchmarks.Format;
using Tailor.Format.Payloads;
using Tailor.Format.Zstd;

namespace Tailor.Benchmarks.Segments;

/// <summary>
/// Reading one segment of the realistic workload: decompress and decode every point, against zstd's
/// decompress-only ceiling on the same records (the baseline). Allocations per operation must be 0.
/// </summary>
[MemoryDiagnoser]
public class SegmentReadBenchmarks
{
    private SegmentCorpus _corpus = null!;
    private PayloadDecoder _decoder = null!;
    private ZstdFrameDecompressor _decompressor = null!;
    private readonly byte[] _body = new byte[16 << 20];
    private readonly long[] _timestamps = new long[1 << 16];
    private readonly double[] _values = new double[1 << 16];

    /// <summary>Points in the corpus.</summary>
    [Params(1_000_000)]
    public long Points { get; set; }

    /// <summary>Builds the corpus once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _corpus = SegmentCorpus.Generate(Points);
        _decoder = new PayloadDecoder();
        _decompressor = new ZstdFrameDecompressor();
    }

    /// <summary>Frees the contexts.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _decoder.Dispose();
        _decompressor.Dispose();
    }

    /// <summary>zstd decompression of every record, nothing else: the ceiling.</summary>
    [Benchmark(Baseline = true)]
    public long DecompressOnly() => FormatBench.DecompressAll(_corpus, _decompressor, _body);

    /// <summary>Decompress and decode every point into columns.</summary>
    [Benchmark]
    public long ReadEveryPoint() => FormatBench.ReadAll(_corpus, _decoder, _timestamps, _values);
}
