using System.Diagnostics;
using System.Security.Cryptography;
using Tailor.Compaction;
using Tailor.Storage;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>What compacting and verifying every job of a game day found.</summary>
internal sealed record CompactionFigures
{
    public int Jobs { get; init; }

    public long PointsIn { get; init; }

    public long PointsOut { get; init; }

    public long DuplicatesDropped { get; init; }

    public long DamagedRecords { get; init; }

    public long Expected { get; init; }

    public long Found { get; init; }

    public long Missing { get; init; }

    public long Different { get; init; }

    public long Extra { get; init; }

    public int Parts { get; init; }

    public long BytesOut { get; init; }

    public double CompactSeconds { get; init; }

    public double VerifySeconds { get; init; }

    /// <summary>(shard, window) pairs whose S-file is byte-identical to the independent reference.</summary>
    public int ReferenceMatches { get; init; }

    /// <summary>(shard, window) pairs whose S-file differs from the reference, or that have points but no manifest.</summary>
    public IReadOnlyList<string> ReferenceMismatches { get; init; } = [];

    /// <summary>The verifier's first samples of problems, over all jobs.</summary>
    public IReadOnlyList<string> Samples { get; init; } = [];

    public override string ToString() =>
        $"{Jobs} jobs: points in {PointsIn}, out {PointsOut}, duplicates dropped {DuplicatesDropped}, damaged records {DamagedRecords}; " +
        $"verify expected {Expected}, found {Found}, missing {Missing}, different {Different}, extra {Extra}; " +
        $"{Parts} parts, {BytesOut} bytes; reference identical {ReferenceMatches}, differing {ReferenceMismatches.Count}; compact {CompactSeconds:F1} s, verify {VerifySeconds:F1} s";
}

/// <summary>
/// The end of every game day: plan every window, compact every job, verify every job one to one (segment
/// points against S-file points), and compare each S-file with the reference an independent builder makes
/// from the generated payloads — so "nothing missing" is proven by data, never by counters.
/// </summary>
internal static class CompactionCheck
{
    public static CompactionOptions Options(string workDirectory) => new()
    {
        WorkDirectory = workDirectory,
        TargetPartBytes = 1L << 30, // one part per job, so a part can be compared with the reference
        MemoryBudgetBytes = 256L << 20,
        Parallelism = 2,
    };

    /// <param name="store">The store with the segments.</param>
    /// <param name="workload">What was produced.</param>
    /// <param name="map">The sink's shard map.</param>
    /// <param name="workDirectory">Local scratch space.</param>
    /// <param name="include">Which produced frames the S-files must hold (default all); the reference is built from these.</param>
    public static async Task<CompactionFigures> RunAsync(IObjectStore store, GameDayWorkload workload, ShardMap map, string workDirectory, Func<GeneratedFrame, bool>? include = null)
    {
        var options = Options(workDirectory);
        var planner = new CompactionPlanner(store, options);
        var runner = new CompactionRunner(store, options);
        var verifier = new CompactionVerifier(store, options);
        var jobs = new List<CompactionJob>();
        foreach (var window in workload.Windows)
        {
            jobs.AddRange(await planner.PlanAllAsync(window));
        }

        var watch = Stopwatch.StartNew();
        var reports = new List<CompactionReport>();
        foreach (var job in jobs)
        {
            reports.Add(await runner.RunAsync(job));
        }

        var compactSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var verifications = new List<VerifyReport>();
        foreach (var job in jobs)
        {
            verifications.Add(await verifier.VerifyAsync(job.Shard, job.Window));
        }

        var verifySeconds = watch.Elapsed.TotalSeconds;
        var matches = 0;
        var mismatches = new List<string>();
        foreach (var (shard, window) in workload.Jobs(map))
        {
            var report = reports.FirstOrDefault(r => r.Shard == shard.Value && r.Window == window.ToString());
            if (report is null || report.Parts.Count != 1)
            {
                mismatches.Add($"{shard.Value} {window}: {(report is null ? "no job was planned" : $"{report.Parts.Count} parts")}");
                continue;
            }

            var expected = Convert.ToHexStringLower(SHA256.HashData(workload.Reference(map, shard, window, include)));
            var written = Convert.ToHexStringLower(SHA256.HashData(await ReadAllAsync(store, report.Parts[0].Key)));
            if (expected == written)
            {
                matches++;
            }
            else
            {
                mismatches.Add($"{shard.Value} {window}: S-file {written[..12]}, reference {expected[..12]}");
            }
        }

        return new CompactionFigures
        {
            Jobs = jobs.Count,
            PointsIn = reports.Sum(r => r.PointsIn),
            PointsOut = reports.Sum(r => r.PointsOut),
            DuplicatesDropped = reports.Sum(r => r.DuplicatesDropped),
            DamagedRecords = reports.Sum(r => r.DamagedRecords),
            Expected = verifications.Sum(v => v.Expected),
            Found = verifications.Sum(v => v.Found),
            Missing = verifications.Sum(v => v.Missing),
            Different = verifications.Sum(v => v.Different),
            Extra = verifications.Sum(v => v.Extra),
            Parts = reports.Sum(r => r.Parts.Count),
            BytesOut = reports.Sum(r => r.BytesOut),
            CompactSeconds = compactSeconds,
            VerifySeconds = verifySeconds,
            ReferenceMatches = matches,
            ReferenceMismatches = mismatches,
            Samples = [.. verifications.SelectMany(v => v.Samples).Take(20)],
        };
    }

    /// <summary>Asserts what every game day must end with: nothing missing, nothing different, nothing extra, every S-file equal to its reference.</summary>
    public static void AssertNothingLost(CompactionFigures figures)
    {
        Assert.True(figures.Missing == 0 && figures.Different == 0 && figures.Extra == 0, $"verify found problems: {figures}\n{string.Join('\n', figures.Samples)}");
        Assert.True(figures.ReferenceMismatches.Count == 0, $"S-files differ from the reference: {string.Join("; ", figures.ReferenceMismatches)}");
        Assert.True(figures.ReferenceMatches > 0, "no S-file was compared with a reference");
        Assert.Equal(figures.Expected, figures.Found);
    }

    public static async Task<byte[]> ReadAllAsync(IObjectStore store, string key)
    {
        var info = await store.GetInfoAsync(key) ?? throw new FileNotFoundException($"{key} is not in the store");
        var bytes = new byte[info.Size];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = await store.ReadAsync(key, read, bytes.AsMemory(read));
            if (n == 0)
            {
                throw new EndOfStreamException($"{key}: {read} of {bytes.Length} bytes");
            }

            read += n;
        }

        return bytes;
    }
}
