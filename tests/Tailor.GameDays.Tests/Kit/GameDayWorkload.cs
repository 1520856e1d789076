using System.Buffers;
using System.Security.Cryptography;
using Tailor.Compaction;
using Tailor.Format.Payloads;
using Tailor.Format.Series;
using Tailor.Format.Workload;
using Tailor.Storage;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>One generated payload: its index in the workload, org, zstd frame, a hash that names the frame, and its point count.</summary>
internal sealed record GeneratedFrame(int Index, uint Org, byte[] Frame, string Hash, int Points);

/// <summary>One point as a payload carries it.</summary>
internal readonly record struct PayloadPoint(SeriesKey Key, long Timestamp, double Value, long IntakeTime);

/// <summary>
/// The payloads of one game day, generated up front by the realistic workload generator (Zipf orgs, late
/// points, resent values, byte-identical duplicate deliveries), so a scenario knows every payload it sent
/// and can build the S-files compaction must produce without going through Kafka or the sink.
/// </summary>
/// <remarks>
/// Timestamps start an hour before now and stop half an hour after it: the sink names segments by the
/// hour they were opened (now), and the planner looks for a window's segments from an hour before its
/// start to two hours after its end, so every window with points finds the segments written today.
/// </remarks>
internal sealed class GameDayWorkload
{
    private GameDayWorkload(List<GeneratedFrame> frames, long points, long minTimestamp, long maxTimestamp, ulong seed)
    {
        Frames = frames;
        Points = points;
        MinTimestamp = minTimestamp;
        MaxTimestamp = maxTimestamp;
        Seed = seed;
        ProducedCopies = frames.GroupBy(f => f.Hash).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Bytes = frames.Sum(f => (long)f.Frame.Length);
        var windows = new List<CompactionWindow>();
        for (var w = CompactionWindow.Containing(minTimestamp, CompactionWindow.DefaultLength); w.StartSeconds <= maxTimestamp; w = new CompactionWindow(w.End, w.Length))
        {
            windows.Add(w);
        }

        Windows = windows;
    }

    /// <summary>Every payload, in the order it is produced.</summary>
    public IReadOnlyList<GeneratedFrame> Frames { get; }

    /// <summary>Points in all payloads (duplicates and resends included).</summary>
    public long Points { get; }

    /// <summary>Bytes of all frames.</summary>
    public long Bytes { get; }

    /// <summary>The earliest timestamp of any point.</summary>
    public long MinTimestamp { get; }

    /// <summary>The latest timestamp of any point.</summary>
    public long MaxTimestamp { get; }

    /// <summary>The generator's seed.</summary>
    public ulong Seed { get; }

    /// <summary>How many times each distinct frame (by hash) is in the workload: the generator sends some payloads twice, byte for byte.</summary>
    public IReadOnlyDictionary<string, int> ProducedCopies { get; }

    /// <summary>The 4-hour windows that hold points.</summary>
    public IReadOnlyList<CompactionWindow> Windows { get; }

    /// <summary>Generates a workload of about <paramref name="points"/> points.</summary>
    /// <param name="seed">The generator's seed.</param>
    /// <param name="points">Points to generate (the payload being built is finished).</param>
    /// <param name="series">Series in the population; more series means a shorter stretch of time for the same points.</param>
    /// <param name="orgs">Orgs (Zipf-sized).</param>
    /// <param name="seriesPerPayload">The most series entries per payload; small values give many small payloads (more Kafka offsets).</param>
    /// <param name="startTime">The first timestamp; default an hour before now.</param>
    public static GameDayWorkload Generate(ulong seed, long points, int series = 10_000, int orgs = 100, int seriesPerPayload = 25, long? startTime = null)
    {
        var start = startTime ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600;
        using var generator = new WorkloadGenerator(new WorkloadOptions
        {
            Seed = seed,
            Series = series,
            Orgs = orgs,
            TargetPoints = points,
            StartTime = start,
            EndTime = start + 5400,
            PayloadSpanSeconds = 60,
            MaxSeriesPerPayload = seriesPerPayload,
        });
        var frames = new List<GeneratedFrame>();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        long total = 0, min = long.MaxValue, max = long.MinValue;
        using var decoder = new PayloadDecoder();
        while (generator.TryNext(buffer, out var info))
        {
            var frame = buffer.WrittenSpan.ToArray();
            buffer.ResetWrittenCount();
            if (decoder.TryDecode(frame, out var payload) != PayloadStatus.Ok)
            {
                throw new InvalidOperationException("The workload generator wrote a payload its own decoder refuses.");
            }

            while (payload.TryReadSeries(out var s))
            {
                if (s.TryGetTimeRange(out var first, out var last))
                {
                    min = Math.Min(min, first);
                    max = Math.Max(max, last);
                }
            }

            frames.Add(new GeneratedFrame(frames.Count, info.OrgId, frame, HashOf(frame), info.PointCount));
            total += info.PointCount;
        }

        return new GameDayWorkload(frames, total, min, max, seed);
    }

    /// <summary>The name of a frame's bytes.</summary>
    public static string HashOf(ReadOnlySpan<byte> frame) => Convert.ToHexString(SHA256.HashData(frame));

    /// <summary>Every point of a frame.</summary>
    public static List<PayloadPoint> PointsOf(ReadOnlySpan<byte> frame)
    {
        using var decoder = new PayloadDecoder();
        if (decoder.TryDecode(frame, out var payload) != PayloadStatus.Ok)
        {
            throw new InvalidOperationException("Not a valid payload.");
        }

        var points = new List<PayloadPoint>();
        var ts = new long[1024];
        var values = new double[1024];
        while (payload.TryReadSeries(out var s))
        {
            if (ts.Length < s.PointCount)
            {
                ts = new long[s.PointCount];
                values = new double[s.PointCount];
            }

            if (!s.TryDecodeTimestamps(ts))
            {
                throw new InvalidOperationException("Timestamps do not decode.");
            }

            s.DecodeValues(values);
            var key = new SeriesKey(payload.Header.OrgId, s.MetricId, s.ContextKey);
            for (var i = 0; i < s.PointCount; i++)
            {
                points.Add(new PayloadPoint(key, ts[i], values[i], payload.Header.IntakeTime));
            }
        }

        return points;
    }

    /// <summary>The (shard, window) pairs that hold points under a shard map.</summary>
    public IReadOnlyList<(ShardName Shard, CompactionWindow Window)> Jobs(ShardMap map)
    {
        var jobs = new HashSet<(string, long)>();
        var result = new List<(ShardName, CompactionWindow)>();
        using var decoder = new PayloadDecoder();
        foreach (var frame in Frames)
        {
            var shard = map.Route(frame.Org);
            if (decoder.TryDecode(frame.Frame, out var payload) != PayloadStatus.Ok)
            {
                continue;
            }

            while (payload.TryReadSeries(out var s))
            {
                if (!s.TryGetTimeRange(out var first, out var last))
                {
                    continue;
                }

                foreach (var window in Windows)
                {
                    if (first < window.EndSeconds && last >= window.StartSeconds && jobs.Add((shard.Value, window.StartSeconds)))
                    {
                        result.Add((shard, window));
                    }
                }
            }
        }

        return [.. result.OrderBy(j => j.Item1.Value, StringComparer.Ordinal).ThenBy(j => j.Item2.StartSeconds)];
    }

    /// <summary>
    /// The S-file an independent builder (no Kafka, no sink, no compaction engine) makes of the points of
    /// the frames routed to <paramref name="shard"/> in <paramref name="window"/>, after the duplicate rule.
    /// </summary>
    /// <param name="map">The shard map.</param>
    /// <param name="shard">The shard.</param>
    /// <param name="window">The window.</param>
    /// <param name="include">Which frames (by index) to use; default all.</param>
    public byte[] Reference(ShardMap map, ShardName shard, CompactionWindow window, Func<GeneratedFrame, bool>? include = null)
    {
        var builder = new InMemorySFileBuilder(new SFileWriterOptions
        {
            Shard = shard.Value,
            WindowStart = window.StartSeconds,
            WindowSeconds = (long)window.Length.TotalSeconds,
        });
        using var decoder = new PayloadDecoder();
        var ts = new long[1024];
        var values = new double[1024];
        foreach (var frame in Frames)
        {
            if (map.Route(frame.Org) != shard || (include is not null && !include(frame)))
            {
                continue;
            }

            if (decoder.TryDecode(frame.Frame, out var payload) != PayloadStatus.Ok)
            {
                throw new InvalidOperationException($"Frame {frame.Index} does not decode.");
            }

            while (payload.TryReadSeries(out var s))
            {
                if (ts.Length < s.PointCount)
                {
                    ts = new long[s.PointCount];
                    values = new double[s.PointCount];
                }

                if (!s.TryDecodeTimestamps(ts))
                {
                    throw new InvalidOperationException($"Frame {frame.Index}: timestamps do not decode.");
                }

                s.DecodeValues(values);
                var key = new SeriesKey(payload.Header.OrgId, s.MetricId, s.ContextKey);
                for (var i = 0; i < s.PointCount; i++)
                {
                    if (window.Contains(ts[i]))
                    {
                        builder.Add(key, s.Metadata, ts[i], values[i], payload.Header.IntakeTime);
                    }
                }
            }
        }

        return builder.Build();
    }
}
