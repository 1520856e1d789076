using System.Buffers;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Tailor.Format.Codecs;
using Tailor.Format.Workload;

namespace Tailor.Benchmarks.Codecs;

/// <summary>Options of <see cref="CodecComparison.Run(CodecComparisonOptions, TextWriter?)"/>.</summary>
public sealed class CodecComparisonOptions
{
    /// <summary>Series in the corpus. Default: 2,000 (about 1.7 million points over 4 hours).</summary>
    public int SeriesCount { get; init; } = 2_000;

    /// <summary>Population seed of the corpus. Default: 42.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Timed repetitions of each measurement; the fastest is kept. Default: 5.</summary>
    public int Iterations { get; init; } = 5;

    /// <summary>Whether to measure the Parquet peer. Default: true.</summary>
    public bool IncludeParquet { get; init; } = true;

    /// <summary>Codecs to measure; the first is the baseline. Default: gorilla, then the default codec.</summary>
    public IReadOnlyList<ISeriesCodec> Codecs { get; init; } = [SeriesCodecs.Gorilla, SeriesCodecs.Default];

    /// <summary>
    /// Every built-in codec and variant: gorilla, the default codec, the other registered built-in codecs
    /// in id order, and <c>tailor2-zstd</c> (version 2 with zstd kept where it saves 12.5%).
    /// </summary>
    public static IReadOnlyList<ISeriesCodec> EveryCodec { get; } =
    [
        SeriesCodecs.Gorilla,
        SeriesCodecs.Default,
        .. SeriesCodecRegistry.Shared.Codecs.Where(c => c.Id < SeriesCodecs.FirstUserCodecId && c.Id != SeriesCodecs.Gorilla.Id && c.Id != SeriesCodecs.Default.Id),
        new RenamedCodec(new TailorCodec(new TailorCodecOptions { UseZstd = true }, 2), "tailor2-zstd"),
    ];
}

/// <summary>Figures of one family (or of the whole corpus) for one codec.</summary>
public sealed class FamilyFigures
{
    /// <summary>Series measured.</summary>
    [JsonPropertyName("series")]
    public int Series { get; set; }

    /// <summary>Points measured.</summary>
    [JsonPropertyName("points")]
    public long Points { get; set; }

    /// <summary>Encoded bytes (for Parquet: without the series id column).</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; set; }

    /// <summary>Encoded bytes per point.</summary>
    [JsonPropertyName("bytes_per_point")]
    public double BytesPerPoint { get; set; }

    /// <summary>Points encoded per second on one thread (for Parquet: written).</summary>
    [JsonPropertyName("encode_points_per_sec")]
    public double EncodePointsPerSec { get; set; }

    /// <summary>Points decoded per second on one thread (for Parquet: read).</summary>
    [JsonPropertyName("decode_points_per_sec")]
    public double DecodePointsPerSec { get; set; }
}

/// <summary>Figures of one codec (or of Parquet) over the corpus, with the per-family breakdown.</summary>
public sealed class CodecFigures
{
    /// <summary>Encoded bytes per point over the whole corpus (Parquet: file bytes without the series id column).</summary>
    [JsonPropertyName("bytes_per_point")]
    public double BytesPerPoint { get; set; }

    /// <summary>Points encoded (written) per second on one thread.</summary>
    [JsonPropertyName("encode_points_per_sec")]
    public double EncodePointsPerSec { get; set; }

    /// <summary>Points decoded (read) per second on one thread.</summary>
    [JsonPropertyName("decode_points_per_sec")]
    public double DecodePointsPerSec { get; set; }

    /// <summary>Total encoded bytes (Parquet: without the series id column).</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; set; }

    /// <summary>Parquet only: bytes per point of the whole file, series id column included.</summary>
    [JsonPropertyName("bytes_per_point_with_series_key")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? BytesPerPointWithSeriesKey { get; set; }

    /// <summary>Per-family figures, keyed by family name.</summary>
    [JsonPropertyName("families")]
    public Dictionary<string, FamilyFigures> Families { get; } = [];

    /// <summary>Series codecs only: this codec against each other codec measured (Parquet aside), in total and block by block.</summary>
    [JsonPropertyName("versus")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, CodecVersus>? Versus { get; set; }

    /// <summary>Series codecs only: this codec's bytes over Gorilla's, over the whole corpus.</summary>
    [JsonPropertyName("to_gorilla_bytes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ToGorillaBytes { get; set; }

    /// <summary>Series codecs only: this codec's bytes over Parquet's (without the series key), over the whole corpus.</summary>
    [JsonPropertyName("to_parquet_bytes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ToParquetBytes { get; set; }

    /// <summary>Series codecs only: the lowest, over the families, of this codec's decode speed over Gorilla's.</summary>
    [JsonPropertyName("decode_to_gorilla_min_family")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DecodeToGorillaMinFamily { get; set; }

    /// <summary>The family where <see cref="DecodeToGorillaMinFamily"/> was found.</summary>
    [JsonPropertyName("decode_to_gorilla_min_family_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DecodeToGorillaMinFamilyName { get; set; }
}

/// <summary>The result of a side-by-side codec comparison.</summary>
public sealed class CodecComparisonResult
{
    /// <summary>The name of the default codec (<see cref="SeriesCodecs.Default"/>).</summary>
    [JsonPropertyName("default_codec")]
    public string DefaultCodec { get; set; } = SeriesCodecs.Default.Name;

    /// <summary>Series in the corpus.</summary>
    [JsonPropertyName("series")]
    public int Series { get; set; }

    /// <summary>Points in the corpus.</summary>
    [JsonPropertyName("points")]
    public long Points { get; set; }

    /// <summary>The corpus seed.</summary>
    [JsonPropertyName("seed")]
    public ulong Seed { get; set; }

    /// <summary>The corpus: <c>"synthetic"</c> (the workload generator) or <c>"real"</c> (<see cref="RealSeriesCorpus"/>).</summary>
    [JsonPropertyName("corpus")]
    public string Corpus { get; set; } = "synthetic";

    /// <summary>Figures per codec name, plus <c>"parquet"</c>.</summary>
    [JsonPropertyName("codecs")]
    public Dictionary<string, CodecFigures> Codecs { get; } = [];

    /// <summary>Processor count, OS and runtime the figures come from.</summary>
    [JsonPropertyName("machine")]
    public string Machine { get; set; } = "";
}

/// <summary>
/// Measures every codec and a Parquet peer on the standard workload corpus, side by side in one
/// process: bytes per point, encode and decode points per second, overall and per family.
/// </summary>
/// <remarks>
/// Timings are single-threaded and keep the fastest of <see cref="CodecComparisonOptions.Iterations"/>
/// repetitions. Every block is decoded and compared bit for bit before anything is timed. The
/// <c>tailor bench format --json</c> command reuses <see cref="Run(ICodecCorpus, CodecComparisonOptions, TextWriter?)"/>.
/// </remarks>
public static class CodecComparison
{
    /// <summary>Runs the comparison on the generated workload corpus (<see cref="CodecComparisonOptions.SeriesCount"/>, <see cref="CodecComparisonOptions.Seed"/>).</summary>
    /// <param name="options">What to measure.</param>
    /// <param name="progress">Where progress lines go (stderr for a command), or null.</param>
    /// <returns>The figures.</returns>
    public static CodecComparisonResult Run(CodecComparisonOptions options, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var corpus = SeriesCorpus.Generate(SeriesMix.Default, options.Seed, options.SeriesCount);
        progress?.WriteLine($"corpus: {corpus.SeriesCount} series, {corpus.PointCount} points ({clock.ElapsedMilliseconds} ms)");
        var result = Run(new SyntheticCodecCorpus(corpus), options, progress);
        result.Seed = options.Seed;
        return result;
    }

    /// <summary>Runs the comparison on the given corpus (its <see cref="CodecComparisonResult.Corpus"/> is <c>"real"</c> unless it is the synthetic one).</summary>
    /// <param name="corpus">The series to measure.</param>
    /// <param name="options">What to measure; <see cref="CodecComparisonOptions.SeriesCount"/> and <see cref="CodecComparisonOptions.Seed"/> are not used.</param>
    /// <param name="progress">Where progress lines go (stderr for a command), or null.</param>
    /// <returns>The figures.</returns>
    public static CodecComparisonResult Run(ICodecCorpus corpus, CodecComparisonOptions options, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var byFamily = new List<int>[corpus.Families.Count];
        for (int f = 0; f < byFamily.Length; f++)
        {
            byFamily[f] = [];
        }

        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            byFamily[corpus.GetFamily(i)].Add(i);
        }

        var result = new CodecComparisonResult
        {
            Corpus = corpus is SyntheticCodecCorpus ? "synthetic" : "real",
            Series = corpus.SeriesCount,
            Points = corpus.PointCount,
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
        };

        var sizes = new Dictionary<string, int[]>();
        foreach (var codec in options.Codecs)
        {
            result.Codecs[codec.Name] = MeasureCodec(codec, corpus, byFamily, options.Iterations, out var offsets);
            sizes[codec.Name] = offsets;
            progress?.WriteLine($"{result.Corpus} {codec.Name}: done ({clock.ElapsedMilliseconds} ms)");
        }

        if (options.IncludeParquet)
        {
            result.Codecs["parquet"] = ParquetPeer.Measure(corpus, byFamily, options.Iterations);
            progress?.WriteLine($"{result.Corpus} parquet: done ({clock.ElapsedMilliseconds} ms)");
        }

        Compare(result, sizes);
        return result;
    }

    /// <summary>Each series codec against the others (total bytes, blocks no larger) and its ratios to Gorilla and Parquet.</summary>
    private static void Compare(CodecComparisonResult result, Dictionary<string, int[]> offsets)
    {
        var codecs = result.Codecs;
        codecs.TryGetValue(SeriesCodecs.Gorilla.Name, out var gorilla);
        codecs.TryGetValue("parquet", out var parquet);
        foreach (var (name, mine) in offsets)
        {
            var figures = codecs[name];
            figures.Versus = [];
            int series = mine.Length - 1;
            foreach (var (other, theirs) in offsets)
            {
                if (other == name)
                {
                    continue;
                }

                int noLarger = 0;
                int withinOnePercent = 0;
                for (int i = 0; i < series; i++)
                {
                    long a = mine[i + 1] - mine[i];
                    long b = theirs[i + 1] - theirs[i];
                    noLarger += a <= b ? 1 : 0;
                    withinOnePercent += a * 100 <= b * 101 ? 1 : 0;
                }

                figures.Versus[other] = new CodecVersus
                {
                    BytesRatio = mine[series] / (double)theirs[series],
                    SeriesNoLarger = noLarger / (double)series,
                    SeriesWithinOnePercent = withinOnePercent / (double)series,
                };
            }

            if (gorilla is not null)
            {
                figures.ToGorillaBytes = figures.Bytes / (double)gorilla.Bytes;
                foreach (var (family, f) in figures.Families)
                {
                    double ratio = f.DecodePointsPerSec / gorilla.Families[family].DecodePointsPerSec;
                    if (figures.DecodeToGorillaMinFamily is null || ratio < figures.DecodeToGorillaMinFamily)
                    {
                        figures.DecodeToGorillaMinFamily = ratio;
                        figures.DecodeToGorillaMinFamilyName = family;
                    }
                }
            }

            if (parquet is not null)
            {
                figures.ToParquetBytes = figures.Bytes / (double)parquet.Bytes;
            }
        }
    }

    private static CodecFigures MeasureCodec(ISeriesCodec codec, ICodecCorpus corpus, List<int>[] byFamily, int iterations, out int[] offsets)
    {
        int maxPoints = corpus.MaxSeriesPointCount;
        // Blocks are stored back to back, as in an S-file.
        offsets = new int[corpus.SeriesCount + 1];
        long capacity = 0;
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            capacity += codec.GetMaxEncodedLength(corpus.GetTimestamps(i).Length);
        }

        var blocks = new byte[capacity];
        var ts = new long[maxPoints];
        var vs = new double[maxPoints];
        var figures = new CodecFigures();

        // Encode once for sizes and a bit-exact check.
        int at = 0;
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            offsets[i] = at;
            at += codec.Encode(corpus.GetTimestamps(i), corpus.GetValues(i), blocks.AsSpan(at));
        }

        offsets[corpus.SeriesCount] = at;
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            var status = codec.Decode(blocks.AsSpan(offsets[i], offsets[i + 1] - offsets[i]), ts, vs, out int points, out _);
            var expectedTs = corpus.GetTimestamps(i);
            var expectedVs = corpus.GetValues(i);
            if (status != OperationStatus.Done || points != expectedTs.Length || !ts.AsSpan(0, points).SequenceEqual(expectedTs)
                || !System.Runtime.InteropServices.MemoryMarshal.AsBytes(vs.AsSpan(0, points)).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expectedVs)))
            {
                throw new InvalidOperationException($"{codec.Name} failed to round-trip series {i} ({corpus.Describe(i)}).");
            }
        }

        // Warm up until tiered compilation has settled (tier-0 code would make the first family look slow).
        var warmup = Stopwatch.StartNew();
        var warmBuffer = new byte[codec.GetMaxEncodedLength(maxPoints)];
        for (int pass = 0; pass < 3 || warmup.ElapsedMilliseconds < 500; pass++)
        {
            for (int i = 0; i < corpus.SeriesCount; i++)
            {
                codec.Encode(corpus.GetTimestamps(i), corpus.GetValues(i), warmBuffer);
                codec.Decode(blocks.AsSpan(offsets[i], offsets[i + 1] - offsets[i]), ts, vs, out _, out _);
            }

            if (pass == 1)
            {
                Thread.Sleep(200); // lets the background JIT install optimized code
            }
        }

        double encodeSeconds = 0;
        double decodeSeconds = 0;
        long totalPoints = 0;
        for (int f = 0; f < byFamily.Length; f++)
        {
            var members = byFamily[f];
            if (members.Count == 0)
            {
                continue;
            }

            long points = 0;
            long bytes = 0;
            foreach (int i in members)
            {
                points += corpus.GetTimestamps(i).Length;
                bytes += offsets[i + 1] - offsets[i];
            }

            double bestEncode = double.MaxValue;
            double bestDecode = double.MaxValue;
            var scratch = new byte[codec.GetMaxEncodedLength(maxPoints)];
            for (int r = 0; r < iterations + 1; r++)
            {
                long start = Stopwatch.GetTimestamp();
                foreach (int i in members)
                {
                    codec.Encode(corpus.GetTimestamps(i), corpus.GetValues(i), scratch);
                }

                double encode = Stopwatch.GetElapsedTime(start).TotalSeconds;
                start = Stopwatch.GetTimestamp();
                foreach (int i in members)
                {
                    codec.Decode(blocks.AsSpan(offsets[i], offsets[i + 1] - offsets[i]), ts, vs, out _, out _);
                }

                double decode = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (r > 0) // the first round warms up
                {
                    bestEncode = Math.Min(bestEncode, encode);
                    bestDecode = Math.Min(bestDecode, decode);
                }
            }

            figures.Families[corpus.Families[f]] = new FamilyFigures
            {
                Series = members.Count,
                Points = points,
                Bytes = bytes,
                BytesPerPoint = bytes / (double)points,
                EncodePointsPerSec = points / bestEncode,
                DecodePointsPerSec = points / bestDecode,
            };
            encodeSeconds += bestEncode;
            decodeSeconds += bestDecode;
            totalPoints += points;
        }

        figures.Bytes = offsets[corpus.SeriesCount];
        figures.BytesPerPoint = figures.Bytes / (double)totalPoints;
        figures.EncodePointsPerSec = totalPoints / encodeSeconds;
        figures.DecodePointsPerSec = totalPoints / decodeSeconds;
        return figures;
    }
}
