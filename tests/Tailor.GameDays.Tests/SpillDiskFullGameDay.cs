using Tailor.Compaction;
using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 6: <c>tailor compact</c> with a 16 MiB memory budget spills sorted runs to a work folder on a
/// 2 MiB tmpfs, which fills up. The command fails with an error that names the full disk and the folder,
/// publishes nothing (no S-file, no manifest), and a rerun with room gives the reference's bytes.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class SpillDiskFullGameDay(ITestOutputHelper output)
{
    [Fact]
    public async Task A_full_local_disk_during_a_spill_fails_clearly_publishes_no_manifest_and_a_rerun_gives_the_reference_bytes()
    {
        var figures = new Figures(output, "6-spill-disk-full");
        using var root = new TempFolder("gameday-disk-full");
        var window = SegmentStore.Window;
        var map = new ShardMap(1);
        var shard = ShardName.Shared(0);
        var workload = GameDayWorkload.Generate(seed: 606, points: 1_200_000, series: 3000, orgs: 20, startTime: SegmentStore.WindowStart);
        var storePath = Path.Combine(root.Path, "store");
        var segments = await SegmentStore.WriteAsync(storePath, workload, map);
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points in {segments.Count} segments");

        // The reference: the same segments compacted in this process with memory to spare.
        var referencePath = Path.Combine(root.Path, "reference");
        SegmentStore.CopySegments(storePath, referencePath);
        await using (var reference = new LocalObjectStore(referencePath))
        {
            var report = await new CompactionRunner(reference, new CompactionOptions { WorkDirectory = Path.Combine(root.Path, "work-reference") }).RunAsync(shard, window);
            Assert.Equal(0, report.Spills);
        }

        var storeUri = new Uri(storePath).AbsoluteUri;
        string[] Compact(string workDirectory) =>
            ["compact", "--store", storeUri, "--shard", shard.Value, "--window", window.ToString(), "--memory", "16MiB", "--work-dir", workDirectory, "--json"];

        TailorRun failed;
        int leftInWorkFolder;
        string tmpfsPath;
        using (var tiny = new TmpfsMount("2m"))
        {
            tmpfsPath = tiny.Path;
            failed = await TailorRun.RunAsync(Compact(tiny.Path));
            leftInWorkFolder = Directory.EnumerateFiles(tiny.Path, "*", SearchOption.AllDirectories).Count();
        }

        figures.Log($"tailor compact with its work folder on a 2 MiB tmpfs: exit {failed.Code} after {failed.Elapsed.TotalSeconds:F1} s; {leftInWorkFolder} files left there");
        figures.Log($"  stderr: {failed.Error.Trim()}");
        Assert.True(failed.Code == 1, failed.ToString());
        Assert.Contains("disk is full", failed.Error, StringComparison.Ordinal);
        Assert.Contains(tmpfsPath, failed.Error, StringComparison.Ordinal);
        Assert.True(failed.Output.Length == 0, $"a failed --json run printed on stdout: {failed.Output}");
        Assert.Equal(0, leftInWorkFolder);

        // Nothing was published: no manifest, no S-file part.
        var afterFailure = SegmentStore.SeriesObjects(storePath);
        Assert.Empty(afterFailure);
        Assert.Null(await new LocalObjectStore(storePath).GetInfoAsync(ObjectKeys.Manifest(shard, window.Start)));

        // The rerun with room spills as much as it needs and writes the reference's bytes.
        var rerun = await TailorRun.RunAsync(Compact(Path.Combine(root.Path, "work")));
        Assert.True(rerun.Code == 0, rerun.ToString());
        var report2 = rerun.Json();
        figures.Log($"rerun with room: exit 0 after {rerun.Elapsed.TotalSeconds:F1} s, {report2.GetProperty("spills")} spills of {report2.GetProperty("spill_bytes")} bytes, points out {report2.GetProperty("points_out")}");
        Assert.True(report2.GetProperty("spills").GetInt32() > 0, "the rerun did not spill: the budget is not small enough to test a spill");
        var written = SegmentStore.SeriesObjects(storePath);
        var expected = SegmentStore.SeriesObjects(referencePath);
        Assert.Equal(expected, written);
        var part = report2.GetProperty("parts").EnumerateArray().Single().GetProperty("key").GetString()!;
        Assert.Equal(SegmentStore.ReferenceHash(workload, map, shard, window), written[part]);
        var verify = await TailorRun.RunAsync("verify", "--store", storeUri, "--shard", shard.Value, "--window", window.ToString(), "--work-dir", Path.Combine(root.Path, "work"), "--json");
        Assert.True(verify.Code == 0, verify.ToString());
        Assert.Equal(report2.GetProperty("points_out").GetInt64(), verify.Json().GetProperty("found").GetInt64());
        figures.Log($"S-file and manifest identical to the reference; verify found {verify.Json().GetProperty("found")} of {verify.Json().GetProperty("expected")}");

        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("tmpfs", "2m");
        figures.Set("memory_budget", "16MiB");
        figures.Set("failed_after_s", failed.Elapsed);
        figures.Set("error", failed.Error.Trim());
        figures.Set("rerun_s", rerun.Elapsed);
        figures.Set("rerun_spills", report2.GetProperty("spills").GetInt32());
        figures.Set("rerun_spill_bytes", report2.GetProperty("spill_bytes").GetInt64());
        figures.Set("points_out", report2.GetProperty("points_out").GetInt64());
        figures.Set("series_objects_identical", written.Count);
        figures.Print();
    }
}
