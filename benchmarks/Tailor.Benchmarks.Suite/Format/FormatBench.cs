using System.Diagnostics;
using System.Text.Json.Serialization;
using Tailor.Benchmarks.Codecs;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Zstd;

namespace Tailor.Benchmarks.Format;

/// <summary>Options of <see cref="FormatBench"/>.</summary>
public sealed class FormatBenchOptions
{
    /// <summary>Points in the segment corpus. Default 2,000,000.</summary>
    public long Points { get; init; } = 2_000_000;

    /// <summary>Timed passes over the corpus; the fastest counts. Default 5.</summary>
    public int Iterations { get; init; } = 5;

    /// <summary>Series in the codec corpus. Default 2,000.</summary>
    public int CodecSeries { get; init; } = 2_000;

    /// <summary>Whether to run the codec comparison (with the Parquet peer) on the synthetic and the real corpus. Default true.</summary>
    public bool Codecs { get; init; } = true;

    /// <summary>The folder of the real-series corpus. Default: <see cref="RealSeriesCorpus.DefaultFolder"/>.</summary>
    public string? RealCorpusFolder { get; init; }
}

/// <summary>The figures of <c>tailor bench format</c>.</summary>
public sealed class FormatBenchResult
{
    /// <summary>Points in the segment corpus.</summary>
    [JsonPropertyName("points")] public long Points { get; set; }

    /// <summary>Payloads in the segment corpus.</summary>
    [JsonPropertyName("payloads")] public int Payloads { get; set; }

    /// <summary>Segment read (decompress and decode every point) on one core.</summary>
    [JsonPropertyName("segment_read_points_per_sec")] public double SegmentReadPointsPerSec { get; set; }

    /// <summary>zstd decompression alone of the same records on one core: the ceiling.</summary>
    [JsonPropertyName("decompress_only_points_per_sec")] public double DecompressOnlyPointsPerSec { get; set; }

    /// <summary>Segment read over the decompression ceiling (target at least 0.7).</summary>
    [JsonPropertyName("segment_read_ratio_to_ceiling")] public double SegmentReadRatioToCeiling { get; set; }

    /// <summary>Managed bytes allocated per payload read in steady state (target 0).</summary>
    [JsonPropertyName("allocated_bytes_per_payload")] public double AllocatedBytesPerPayload { get; set; }

    /// <summary>Segment file bytes per point as stored.</summary>
    [JsonPropertyName("segment_bytes_per_point")] public double SegmentBytesPerPoint { get; set; }

    /// <summary>Decompressed payload bytes per point.</summary>
    [JsonPropertyName("payload_bytes_per_point_uncompressed")] public double PayloadBytesPerPointUncompressed { get; set; }

    /// <summary>The codec comparison on the synthetic workload: every built-in codec and variant, and parquet.</summary>
    [JsonPropertyName("codecs")] public Dictionary<string, CodecFigures>? Codecs { get; set; }

    /// <summary>The same comparison on the real-series corpus (<see cref="RealSeriesCorpus"/>).</summary>
    [JsonPropertyName("codecs_real")] public Dictionary<string, CodecFigures>? CodecsReal { get; set; }

    /// <summary>The whole synthetic comparison: corpus size, the default codec against each other codec, the target ratios.</summary>
    [JsonPropertyName("codec_comparison")] public CodecComparisonResult? CodecComparison { get; set; }

    /// <summary>The whole real-corpus comparison.</summary>
    [JsonPropertyName("codec_comparison_real")] public CodecComparisonResult? CodecComparisonReal { get; set; }

    /// <summary>The default codec's name.</summary>
    [JsonPropertyName("default_codec")] public string? DefaultCodec { get; set; }

    /// <summary>The machine.</summary>
    [JsonPropertyName("machine")] public string Machine { get; set; } = Tailor.Benchmarks.Machine.Describe();
}

/// <summary>
/// Segment read against the decompress-only ceiling on the same bytes, allocations per payload,
/// stored bytes per point, and the codec comparison, measured side by side in one process.
/// </summary>
public static class FormatBench
{
    /// <summary>Runs the benchmark.</summary>
    public static FormatBenchResult Run(FormatBenchOptions options, TextWriter? progress = null)
    {
        progress?.WriteLine($"generating a segment of {options.Points:N0} points of the workload...");
        var corpus = SegmentCorpus.Generate(options.Points);
        var result = new FormatBenchResult
        {
            Points = corpus.Points,
            Payloads = corpus.Payloads,
            SegmentBytesPerPoint = (double)corpus.File.Length / corpus.Points,
            PayloadBytesPerPointUncompressed = (double)corpus.PayloadBytes / corpus.Points,
        };

        using var decoder = new PayloadDecoder();
        using var decompressor = new ZstdFrameDecompressor();
        var body = new byte[16 << 20];
        var ts = new long[1 << 16];
        var values = new double[1 << 16];
        long sink = 0;
        sink += ReadAll(corpus, decoder, ts, values);
        sink += DecompressAll(corpus, decompressor, body);

        // Interleave the two so machine drift hits both alike; keep the fastest of each.
        var bestRead = double.MaxValue;
        var bestDecompress = double.MaxValue;
        for (var i = 0; i < options.Iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            sink += ReadAll(corpus, decoder, ts, values);
            bestRead = Math.Min(bestRead, Stopwatch.GetElapsedTime(start).TotalSeconds);
            start = Stopwatch.GetTimestamp();
            sink += DecompressAll(corpus, decompressor, body);
            bestDecompress = Math.Min(bestDecompress, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        sink += ReadAll(corpus, decoder, ts, values);
        result.AllocatedBytesPerPayload = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / corpus.Payloads;
        result.SegmentReadPointsPerSec = corpus.Points / bestRead;
        result.DecompressOnlyPointsPerSec = corpus.Points / bestDecompress;
        result.SegmentReadRatioToCeiling = bestDecompress / bestRead;
        GC.KeepAlive(sink);
        progress?.WriteLine($"segment read {result.SegmentReadPointsPerSec / 1e6:F1} M points/s, decompress only {result.DecompressOnlyPointsPerSec / 1e6:F1} M points/s");

        if (options.Codecs)
        {
            var every = CodecComparisonOptions.EveryCodec;
            progress?.WriteLine($"comparing codecs ({string.Join(", ", every.Select(c => c.Name))}, parquet) on the synthetic and the real corpus...");
            var codecOptions = new CodecComparisonOptions { SeriesCount = options.CodecSeries, Iterations = options.Iterations, Codecs = every };
            var codecs = CodecComparison.Run(codecOptions, progress);
            result.Codecs = codecs.Codecs;
            result.CodecComparison = codecs;
            result.DefaultCodec = codecs.DefaultCodec;
            var real = CodecComparison.Run(RealSeriesCorpus.Load(options.RealCorpusFolder), codecOptions, progress);
            result.CodecsReal = real.Codecs;
            result.CodecComparisonReal = real;
        }

        return result;
    }

    /// <summary>Reads every record, decompresses it and decodes every point into columnar buffers.</summary>
    public static long ReadAll(SegmentCorpus corpus, PayloadDecoder decoder, long[] ts, double[] values)
    {
        long checksum = 0;
        var reader = SegmentReader.OverFile(corpus.File, corpus.Layout.CreateFileState());
        while (reader.TryReadRecord(out var record))
        {
            if (decoder.TryDecode(record.Frame, out var payload) != PayloadStatus.Ok)
            {
                throw new InvalidOperationException("corrupt corpus");
            }

            while (payload.TryReadSeries(out var series))
            {
                var n = series.PointCount;
                series.TryDecodeTimestamps(ts);
                series.DecodeValues(values);
                checksum += (long)series.ContextKey + ts[n - 1] + BitConverter.DoubleToInt64Bits(values[n - 1]);
            }
        }

        return checksum;
    }

    /// <summary>Decompresses every record of the same segment and does nothing else: the ceiling.</summary>
    public static long DecompressAll(SegmentCorpus corpus, ZstdFrameDecompressor decompressor, byte[] body)
    {
        long checksum = 0;
        var reader = SegmentReader.OverFile(corpus.File, corpus.Layout.CreateFileState());
        while (reader.TryReadRecord(out var record))
        {
            decompressor.Decompress(record.Frame, body, out var written);
            checksum += written + body[written - 1];
        }

        return checksum;
    }
}
