using System.Buffers;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Tailor.Compaction;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Workload;
using Tailor.Format.Zstd;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.Benchmarks.Compaction;

/// <summary>Options of <see cref="CompactionBench"/>.</summary>
public sealed class CompactionBenchOptions
{
    /// <summary>The job's memory budget. Default 128 MiB.</summary>
    public long MemoryBudgetBytes { get; init; } = 128L << 20;

    /// <summary>Points generated for the window; default: enough that the decoded input (16 bytes a point) is 4.5 times the budget.</summary>
    public long? Points { get; init; }

    /// <summary>Points handed to the DuckDB peer, the first of the segments. Default null: every point of the job, as Tailor's.</summary>
    public int? DuckDbPoints { get; init; }

    /// <summary>Where the store and work files go. Default: a temporary folder, deleted after.</summary>
    public string? Folder { get; init; }

    /// <summary>
    /// Jobs measured after the process's first; the speed reported is their median, the allocations,
    /// GC pauses and peak working set the largest of them. Default 3.
    /// </summary>
    public int MeasuredJobs { get; init; } = 3;
}

/// <summary>The figures of <c>tailor bench compaction</c>.</summary>
public sealed class CompactionBenchResult
{
    /// <summary>Points read by the job.</summary>
    [JsonPropertyName("points")] public long Points { get; set; }

    /// <summary>Points per second, end to end (segments on a local store to S-files and manifest): the median of the measured jobs.</summary>
    [JsonPropertyName("points_per_sec")] public double PointsPerSec { get; set; }

    /// <summary>Points per second of each measured job, in the order they ran.</summary>
    [JsonPropertyName("measured_jobs_points_per_sec")] public double[] MeasuredJobsPointsPerSec { get; set; } = [];

    /// <summary>Points per second per core.</summary>
    [JsonPropertyName("points_per_sec_per_core")] public double PointsPerSecPerCore { get; set; }

    /// <summary>zstd decompression alone of the same segments, one core.</summary>
    [JsonPropertyName("decompress_only_points_per_sec")] public double DecompressOnlyPointsPerSec { get; set; }

    /// <summary>Points/s/core over the one-core decompression ceiling.</summary>
    [JsonPropertyName("ratio_to_decompress_ceiling")] public double RatioToDecompressCeiling { get; set; }

    /// <summary>DuckDB's points per second for the same job on points already in its memory.</summary>
    [JsonPropertyName("duckdb_points_per_sec")] public double DuckDbPointsPerSec { get; set; }

    /// <summary>Tailor's points/s over DuckDB's.</summary>
    [JsonPropertyName("ratio_to_duckdb")] public double RatioToDuckDb { get; set; }

    /// <summary>GC pause time over the job's wall time (the largest of the measured jobs).</summary>
    [JsonPropertyName("gc_pause_fraction")] public double GcPauseFraction { get; set; }

    /// <summary>Managed bytes allocated per point during a measured job (the largest of them).</summary>
    [JsonPropertyName("allocated_bytes_per_point")] public double AllocatedBytesPerPoint { get; set; }

    /// <summary>Managed bytes allocated per point during the process's first job, which fills the buffer pools.</summary>
    [JsonPropertyName("first_job_allocated_bytes_per_point")] public double FirstJobAllocatedBytesPerPoint { get; set; }

    /// <summary>Points/s of the process's first job (cold pools, code not yet optimized).</summary>
    [JsonPropertyName("first_job_points_per_sec")] public double FirstJobPointsPerSec { get; set; }

    /// <summary>The process's peak working set during a measured job (the largest of them).</summary>
    [JsonPropertyName("peak_working_set_bytes")] public long PeakWorkingSetBytes { get; set; }

    /// <summary>The memory budget.</summary>
    [JsonPropertyName("memory_budget_bytes")] public long MemoryBudgetBytes { get; set; }

    /// <summary>S-file bytes per point written.</summary>
    [JsonPropertyName("bytes_per_point_out")] public double BytesPerPointOut { get; set; }

    /// <summary>Decoded input bytes (16 a point) over the budget.</summary>
    [JsonPropertyName("input_to_budget")] public double InputToBudget { get; set; }

    /// <summary>Points DuckDB processed (every point of the job unless the options say fewer).</summary>
    [JsonPropertyName("duckdb_points")] public long DuckDbPoints { get; set; }

    /// <summary>Points DuckDB wrote after the duplicate rule (equal to the job's points out when it had every point).</summary>
    [JsonPropertyName("duckdb_rows")] public long DuckDbRows { get; set; }

    /// <summary>The run report of the median measured job.</summary>
    [JsonPropertyName("report")] public CompactionReport? Report { get; set; }

    /// <summary>The machine.</summary>
    [JsonPropertyName("machine")] public string Machine { get; set; } = Tailor.Benchmarks.Machine.Describe();
}

/// <summary>
/// End-to-end compaction of generated segments in a local store with input several times the memory
/// budget, against zstd's decompress-only ceiling and DuckDB doing the same job, in one process.
/// </summary>
public static class CompactionBench
{
    private static readonly CompactionWindow Window = CompactionWindow.Parse("2026-11-26T00:00Z/4h");

    /// <summary>Runs the benchmark.</summary>
    public static async Task<CompactionBenchResult> RunAsync(CompactionBenchOptions options, TextWriter? progress = null)
    {
        var points = options.Points ?? (long)(options.MemoryBudgetBytes * 4.5 / 16);
        var root = options.Folder ?? Path.Combine(Path.GetTempPath(), $"tailor-bench-compaction-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, "store"));
        try
        {
            await using var store = new LocalObjectStore(Path.Combine(root, "store"));
            progress?.WriteLine($"generating {points:N0} points of the workload into {root}...");
            await GenerateAsync(store, points, Window.StartSeconds, seed: 11);
            var compactionOptions = new CompactionOptions { MemoryBudgetBytes = options.MemoryBudgetBytes, WorkDirectory = Path.Combine(root, "work"), Force = true };
            var runner = new CompactionRunner(store, compactionOptions);
            // The first job of a process fills the buffer pools (sized by the job) and JITs the code: it is
            // reported on its own. The measured jobs come next, as in a worker that has run before; the
            // second job of a process still shares the cores with the JIT's last optimizations, and single
            // jobs on a shared machine vary, so the speed is the median of several.
            progress?.WriteLine("compacting (first job of the process)...");
            var first = await runner.RunAsync(ShardName.Shared(0), Window);
            var measured = new List<CompactionReport>();
            for (var job = 0; job < Math.Max(1, options.MeasuredJobs); job++)
            {
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                progress?.WriteLine($"compacting (measured job {job + 1})...");
                measured.Add(await runner.RunAsync(ShardName.Shared(0), Window));
            }

            static double Speed(CompactionReport r) => r.PointsIn / r.StageSeconds["total"];
            var speeds = measured.Select(Speed).ToArray();
            var report = measured.OrderBy(Speed).ElementAt(measured.Count / 2);
            var seconds = report.StageSeconds["total"];
            var result = new CompactionBenchResult
            {
                Points = report.PointsIn,
                PointsPerSec = report.PointsIn / seconds,
                MeasuredJobsPointsPerSec = speeds,
                PointsPerSecPerCore = report.PointsIn / seconds / Environment.ProcessorCount,
                GcPauseFraction = measured.Max(r => r.GcPauseFraction),
                AllocatedBytesPerPoint = measured.Max(r => r.AllocatedBytesPerPoint),
                FirstJobAllocatedBytesPerPoint = first.AllocatedBytesPerPoint,
                FirstJobPointsPerSec = first.PointsIn / first.StageSeconds["total"],
                PeakWorkingSetBytes = measured.Max(r => r.PeakWorkingSetBytes),
                MemoryBudgetBytes = options.MemoryBudgetBytes,
                BytesPerPointOut = report.BytesPerPointOut,
                InputToBudget = report.PointsIn * 16.0 / options.MemoryBudgetBytes,
                Report = report,
            };

            progress?.WriteLine("measuring the decompress-only ceiling...");
            var files = Directory.GetFiles(Path.Combine(root, "store", "segments"), "*" + SegmentFormat.FileExtension, SearchOption.AllDirectories);
            result.DecompressOnlyPointsPerSec = DecompressOnly(files);
            result.RatioToDecompressCeiling = result.PointsPerSecPerCore / result.DecompressOnlyPointsPerSec;

            var sample = Sample(files, options.DuckDbPoints ?? (int)Math.Min(int.MaxValue, report.PointsIn));
            progress?.WriteLine($"running DuckDB on {sample.Count:N0} points...");
            var (duckSeconds, duckRows, _) = DuckDbPeer.Run(sample, root, Environment.ProcessorCount);
            if (sample.Count == report.PointsIn && duckRows != report.PointsOut)
            {
                // The same points under the same duplicate rule must leave the same points.
                throw new InvalidOperationException($"DuckDB kept {duckRows:N0} of the job's {sample.Count:N0} points, Tailor {report.PointsOut:N0}.");
            }

            result.DuckDbPoints = sample.Count;
            result.DuckDbRows = duckRows;
            result.DuckDbPointsPerSec = sample.Count / duckSeconds;
            result.RatioToDuckDb = result.PointsPerSec / result.DuckDbPointsPerSec;
            return result;
        }
        finally
        {
            if (options.Folder is null)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static async Task GenerateAsync(IObjectStore store, long points, long start, ulong seed)
    {
        // About 500 points per series in a 4 h window at the workload's intervals.
        using var generator = new WorkloadGenerator(new WorkloadOptions
        {
            Seed = seed,
            Series = (int)Math.Clamp(points / 500, 1000, 2_000_000),
            TargetPoints = points,
            StartTime = start,
            EndTime = start + (4 * 3600),
        });
        await using var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = new ShardMap(1), MaxSegmentBytes = 512L << 20 });
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        while (generator.TryNext(buffer, out _))
        {
            await writer.WriteAsync(buffer.WrittenMemory);
            buffer.ResetWrittenCount();
        }
    }

    private static double DecompressOnly(string[] files)
    {
        using var decompressor = new ZstdFrameDecompressor();
        var body = new byte[16 << 20];
        long points = 0;
        foreach (var file in files)
        {
            points += FileSegmentCursor.ReadLayout(file).Footer?.Stats.PointCount ?? 0;
        }

        var best = double.MaxValue;
        for (var pass = 0; pass < 2; pass++)
        {
            var started = Stopwatch.GetTimestamp();
            foreach (var file in files)
            {
                using var cursor = FileSegmentCursor.Open(file, FileSegmentCursor.ReadLayout(file));
                while (cursor.TryReadRecord(out var record))
                {
                    decompressor.Decompress(record.Frame, body, out _);
                }
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return points / best;
    }

    private static DuckDbPeer.Points Sample(string[] files, int count)
    {
        long inFiles = 0;
        foreach (var file in files)
        {
            inFiles += FileSegmentCursor.ReadLayout(file).Footer?.Stats.PointCount ?? 0;
        }

        count = (int)Math.Min(count, inFiles);
        var points = new DuckDbPeer.Points
        {
            Org = new uint[count],
            Metric = new ulong[count],
            Context = new ulong[count],
            Timestamp = new long[count],
            Value = new double[count],
            Intake = new long[count],
        };
        using var decoder = new PayloadDecoder();
        var ts = new long[1 << 16];
        var values = new double[1 << 16];
        foreach (var file in files)
        {
            using var cursor = FileSegmentCursor.Open(file, FileSegmentCursor.ReadLayout(file));
            while (cursor.TryReadRecord(out var record) && points.Count < count)
            {
                if (decoder.TryDecode(record.Frame, out var payload) != PayloadStatus.Ok)
                {
                    continue;
                }

                while (payload.TryReadSeries(out var series) && points.Count < count)
                {
                    series.TryDecodeTimestamps(ts);
                    series.DecodeValues(values);
                    for (var i = 0; i < series.PointCount && points.Count < count; i++)
                    {
                        var at = points.Count++;
                        points.Org[at] = payload.Header.OrgId;
                        points.Metric[at] = series.MetricId;
                        points.Context[at] = series.ContextKey;
                        points.Timestamp[at] = ts[i];
                        points.Value[at] = values[i];
                        points.Intake[at] = payload.Header.IntakeTime;
                    }
                }
            }
        }

        return points;
    }
}
