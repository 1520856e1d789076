using System.Text;
using Tailor.Format.Segments;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Compaction.Tests;

/// <summary>
/// Every way a point can leave a window ends in a number or a failing verify, never in "OK": a segment in
/// another <c>&lt;p&gt;</c> folder, one cut at a record boundary, a deleted input, a misrouted payload, a
/// damaged part, and a window with nothing in it.
/// </summary>
[Collection(S3rverFixture.Collection)]
public sealed class SilentLossTests(S3rverFixture s3)
{
    private static readonly CompactionWindow Window = CompactionTestKit.Window;

    [Fact]
    public async Task A_segment_in_another_p_folder_of_its_shard_hour_is_read_and_reported_by_plan_compact_and_verify()
    {
        await using var kit = await KitAsync(80_000, 1);
        var shard = ShardName.Shared(0);
        var moved = await MoveToAnotherSpreadAsync(kit.Store, await SegmentsInFirstHourAsync(kit.Store, shard));

        var planner = new CompactionPlanner(kit.Store);
        var job = await planner.PlanAsync(shard, Window);
        Assert.Equal([moved], job.MisplacedInputs);
        var all = Assert.Single(await planner.PlanAllAsync(Window));
        Assert.Equal([moved], all.MisplacedInputs);

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 1L << 30 };
        var report = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.Equal(1, report.MisplacedSegments);
        // Every point, the moved segment's included: the same bytes as the reference builder's.
        Assert.True(Same(kit.Reference(shard, Window), await kit.ReadAsync(Assert.Single(report.Parts).Key)));
        var manifest = CompactionManifest.Parse(await kit.ReadAsync(report.Manifest));
        Assert.Equal(1, manifest.Stats.MisplacedSegments);

        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window);
        Assert.Equal("ok", verify.Outcome);
        Assert.Equal(1, verify.MisplacedSegments);
        Assert.Equal(report.PointsOut, verify.Found);
    }

    [Fact]
    public async Task A_misplaced_segment_on_s3_is_listed_and_compacted_like_the_others()
    {
        await using var kit = await KitAsync(60_000, 1);
        var shard = ShardName.Shared(0);
        var moved = await MoveToAnotherSpreadAsync(kit.Store, await SegmentsInFirstHourAsync(kit.Store, shard));
        await using var remote = await s3.CreateStoreAsync("copy");
        await CopyAsync(kit.Store, remote, ObjectKeys.SegmentsRoot);

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 1L << 30 };
        var report = await new CompactionRunner(remote, options).RunAsync(shard, Window);
        Assert.Equal(1, report.MisplacedSegments);
        Assert.True(Same(kit.Reference(shard, Window), await ReadAsync(remote, Assert.Single(report.Parts).Key)), $"{moved} was not read");
    }

    [Fact]
    public async Task A_segment_cut_at_a_record_boundary_is_incomplete_and_fails_verify_unless_accepted()
    {
        await using var kit = await KitAsync(80_000, 1);
        var shard = ShardName.Shared(0);
        var key = (await SegmentsInFirstHourAsync(kit.Store, shard))[0];
        var path = Path.Combine(kit.Store.RootPath, key);
        var bytes = await File.ReadAllBytesAsync(path);
        var offsets = RecordOffsets(bytes);
        Assert.True(offsets.Count >= 2, $"{key} has {offsets.Count} records");
        // Exactly where the last record begins: every byte left is an intact record, trailer and footer are gone.
        await File.WriteAllBytesAsync(path, bytes.AsSpan(0, (int)offsets[^1]).ToArray());

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var report = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.Equal(1, report.IncompleteSegments);
        Assert.Equal(0, report.DamagedRecords);
        Assert.Contains("\"incomplete_segments\": 1", Encoding.UTF8.GetString(await kit.ReadAsync(report.Manifest)), StringComparison.Ordinal);

        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window);
        Assert.True(verify.IsExact);
        Assert.Equal(1, verify.IncompleteSegments);
        Assert.Equal("incomplete_segments", verify.Outcome);
        Assert.Contains(verify.Samples, s => s.Contains(key, StringComparison.Ordinal));

        var accepted = await new CompactionVerifier(kit.Store, options) { AcceptIncomplete = true }.VerifyAsync(shard, Window);
        Assert.Equal("ok", accepted.Outcome);
        Assert.True(accepted.IncompleteAccepted);
    }

    [Fact]
    public async Task A_deleted_input_is_named_missing_and_a_plain_compaction_refuses_to_drop_it()
    {
        await using var kit = await KitAsync(80_000, 1);
        var shard = ShardName.Shared(0);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var first = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        var manifestBefore = await kit.ReadAsync(first.Manifest);
        var deleted = (await SegmentsInFirstHourAsync(kit.Store, shard))[0];
        await kit.Store.DeleteAsync(deleted);

        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window);
        Assert.Equal("inputs_missing", verify.Outcome);
        Assert.Equal([deleted], verify.MissingInputs);
        Assert.False(verify.ManifestInputsCurrent);
        Assert.Equal(0, verify.NewInputs);

        var refused = await Assert.ThrowsAsync<CompactionException>(() => new CompactionRunner(kit.Store, options).RunAsync(shard, Window));
        Assert.Contains(deleted, refused.Message, StringComparison.Ordinal);
        Assert.Contains("AllowDroppedInputs", refused.Message, StringComparison.Ordinal);
        Assert.True(Same(manifestBefore, await kit.ReadAsync(first.Manifest)), "a refused job changed the manifest");

        options.AllowDroppedInputs = true;
        var dropped = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.False(dropped.Skipped);
        Assert.Equal([deleted], dropped.DroppedInputs);
        Assert.True(dropped.PointsOut < first.PointsOut);
        var manifest = CompactionManifest.Parse(await kit.ReadAsync(dropped.Manifest));
        Assert.Equal([deleted], manifest.DroppedInputs);
        Assert.Equal("ok", (await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window)).Outcome);
    }

    [Fact]
    public async Task A_store_copied_with_new_modification_times_or_etags_does_not_look_changed()
    {
        await using var kit = await KitAsync(60_000, 1);
        var shard = ShardName.Shared(0);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var first = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.False(first.Skipped);

        // A local copy that kept the bytes but not the times: the local store's ETags change.
        var later = DateTime.UtcNow.AddDays(3);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(kit.Store.RootPath, "segments"), "*.tseg", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, later);
        }

        var again = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.True(again.Skipped, $"generation {first.Generation} then {again.Generation}, repaired {string.Join(", ", again.RepairedParts)}");
        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window);
        Assert.True(verify.ManifestInputsCurrent);
        Assert.Equal("ok", verify.Outcome);

        // The whole store copied to S3: every ETag differs from the local store's.
        await using var remote = await s3.CreateStoreAsync("copy");
        await CopyAsync(kit.Store, remote, "");
        var onS3 = await new CompactionRunner(remote, options).RunAsync(shard, Window);
        Assert.True(onS3.Skipped);
        var remoteVerify = await new CompactionVerifier(remote, options).VerifyAsync(shard, Window);
        Assert.Equal("ok", remoteVerify.Outcome);
        Assert.True(remoteVerify.ManifestInputsCurrent);
    }

    [Fact]
    public async Task Payloads_whose_org_routes_to_another_shard_are_counted_by_compaction_and_fail_verify()
    {
        await using var kit = await KitAsync(80_000, 2, orgs: 10);
        var from = ShardName.Shared(1);
        var key = (await SegmentsInFirstHourAsync(kit.Store, from))[0];
        var records = RecordOffsets(await kit.ReadAsync(key)).Count;
        Assert.True(ObjectKeys.TryParseSegment(key, out var parts));

        // The same segment under shard 0 (a valid key there), and under a dedicated shard of an org it does not hold.
        var shared = ShardName.Shared(0);
        var dedicated = ShardName.Dedicated(4_000_000_000);
        await kit.Store.PutAsync(ObjectKeys.Segment(shared, parts.Hour, parts.WriterId, parts.Sequence), await kit.ReadAsync(key));
        await kit.Store.PutAsync(ObjectKeys.Segment(dedicated, parts.Hour, parts.WriterId, parts.Sequence), await kit.ReadAsync(key));

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, SharedShards = 2 };
        var report = await new CompactionRunner(kit.Store, options).RunAsync(shared, Window);
        Assert.Equal(records, report.MisroutedPayloads);
        Assert.True(report.MisroutedPoints > 0);
        Assert.Equal(report.MisroutedPayloads, CompactionManifest.Parse(await kit.ReadAsync(report.Manifest)).Stats.MisroutedPayloads);
        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shared, Window);
        Assert.Equal("misrouted", verify.Outcome);
        Assert.Equal(report.MisroutedPoints, verify.MisroutedPoints);

        // Without the number of shared shards, a dedicated shard still proves every other org misrouted.
        var defaults = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var alone = await new CompactionRunner(kit.Store, defaults).RunAsync(dedicated, Window);
        Assert.Equal(records, alone.MisroutedPayloads);
        Assert.Equal(alone.PointsIn - alone.OutOfWindow, alone.MisroutedPoints);

        // The segments where the sink put them: nothing misrouted.
        var home = await new CompactionRunner(kit.Store, options).RunAsync(from, Window);
        Assert.Equal(0, home.MisroutedPayloads);
        Assert.Equal("ok", (await new CompactionVerifier(kit.Store, options).VerifyAsync(from, Window)).Outcome);

        // Orgs the shard map dedicates a shard to belong there only: under their old shared shard they are misrouted.
        var dedicatedMap = new CompactionOptions { WorkDirectory = kit.WorkDirectory, SharedShards = 2, DedicatedOrgs = [.. kit.Frames.Select(f => f.Org).Distinct()], Force = true };
        var moved = await new CompactionRunner(kit.Store, dedicatedMap).RunAsync(from, Window);
        Assert.True(moved.MisroutedPayloads > 0);
        Assert.Equal(moved.PointsIn - moved.OutOfWindow, moved.MisroutedPoints);
        Assert.Equal("misrouted", (await new CompactionVerifier(kit.Store, dedicatedMap).VerifyAsync(from, Window)).Outcome);
    }

    [Fact]
    public async Task A_missing_or_damaged_part_under_a_current_manifest_is_rewritten_by_a_plain_compaction()
    {
        await using var kit = await KitAsync(60_000, 1);
        var shard = ShardName.Shared(0);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 64 << 10 };
        var first = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.True(first.Parts.Count > 1);
        var part = first.Parts[1];
        var original = await kit.ReadAsync(part.Key);

        // Missing: found without asking.
        await kit.Store.DeleteAsync(part.Key);
        Assert.Equal("damaged_parts", (await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window)).Outcome);
        var repaired = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.False(repaired.Skipped);
        Assert.Equal([$"{part.Key}: missing"], repaired.RepairedParts);
        Assert.True(Same(original, await kit.ReadAsync(part.Key)));

        // Damaged in place (same size): the SHA-256 check finds it, on request.
        var damaged = original.ToArray();
        damaged[damaged.Length / 2] ^= 0x40;
        await kit.Store.PutAsync(part.Key, damaged);
        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window);
        Assert.Equal("damaged_parts", verify.Outcome);
        Assert.Contains(part.Key, verify.DamagedParts[0], StringComparison.Ordinal);
        Assert.True((await new CompactionRunner(kit.Store, options).RunAsync(shard, Window)).Skipped, "size and existence alone cannot see it");
        options.CheckParts = true;
        var rehashed = await new CompactionRunner(kit.Store, options).RunAsync(shard, Window);
        Assert.StartsWith($"{part.Key}: SHA-256", Assert.Single(rehashed.RepairedParts), StringComparison.Ordinal);
        Assert.True(Same(original, await kit.ReadAsync(part.Key)));
        Assert.True((await new CompactionRunner(kit.Store, options).RunAsync(shard, Window)).Skipped);
        Assert.Equal("ok", (await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, Window)).Outcome);
    }

    [Fact]
    public async Task A_shard_or_window_without_data_is_nothing_to_verify_not_ok()
    {
        await using var kit = await KitAsync(20_000, 1);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var verifier = new CompactionVerifier(kit.Store, options);
        var noShard = await verifier.VerifyAsync(ShardName.Shared(9), Window);
        Assert.Equal("nothing_to_verify", noShard.Outcome);
        Assert.Equal(0, noShard.Segments);
        var noWindow = await verifier.VerifyAsync(ShardName.Shared(0), CompactionWindow.Parse("2026-12-26T00:00Z/4h"));
        Assert.Equal("nothing_to_verify", noWindow.Outcome);
        Assert.Equal("mismatch", (await verifier.VerifyAsync(ShardName.Shared(0), Window)).Outcome);
    }

    /// <summary>Generated segments, every point inside the window, a segment a minute (several per shard-hour).</summary>
    private static Task<CompactionTestKit> KitAsync(long points, int shards, int orgs = 20) =>
        CompactionTestKit.CreateAsync(points, sharedShards: shards, orgs: orgs, startTime: Window.StartSeconds, rotateEvery: TimeSpan.FromMinutes(1));

    private static bool Same(byte[] expected, byte[] actual) => expected.AsSpan().SequenceEqual(actual);

    [Fact]
    public void A_manifest_written_before_the_new_counts_still_reads_with_zeros()
    {
        const string old = """
            { "format": "tailor-manifest", "version": 1, "shard": "org-mod-0", "window": "2026-11-26T00:00Z/4h", "generation": "0123abcd", "codec": "tailor2",
              "inputs": [ { "key": "segments/org-mod-0/2026-11-26T00/27/00f3a9c2b18e4d77-0000000042.tseg", "size": 10, "e_tag": null } ],
              "outputs": [ { "key": "series/org-mod-0/2026-11-26T00:00Z/0123abcd-00000.tsf", "size": 5, "series": 1, "points": 2, "first_series": "1:2:3", "last_series": "1:2:3", "sha256": "00" } ],
              "stats": { "points_in": 2, "points_out": 2, "duplicates": 0, "out_of_window": 0, "damaged_records": 0, "series": 1, "bytes_in": 10, "bytes_out": 5 },
              "created_at": "2026-11-26T05:00:00+00:00" }
            """;
        var manifest = CompactionManifest.Parse(Encoding.UTF8.GetBytes(old));
        Assert.Equal(0, manifest.Stats.IncompleteSegments);
        Assert.Equal(0, manifest.Stats.MisroutedPayloads);
        Assert.Null(manifest.DroppedInputs);
        Assert.DoesNotContain("dropped_inputs", Encoding.UTF8.GetString(manifest.ToJson()), StringComparison.Ordinal);
    }

    private static async Task<List<string>> SegmentsInFirstHourAsync(IObjectStore store, ShardName shard)
    {
        var keys = new List<string>();
        await foreach (var info in store.ListAsync(ObjectKeys.SegmentHourPrefix(shard, Window.Start)))
        {
            keys.Add(info.Key);
        }

        Assert.NotEmpty(keys);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>Moves the first segment into another <c>&lt;p&gt;</c> folder of its shard-hour and returns its new key.</summary>
    private static async Task<string> MoveToAnotherSpreadAsync(LocalObjectStore store, List<string> keys)
    {
        var parts = keys[0].Split('/');
        parts[3] = ((Convert.ToInt32(parts[3], 16) + 1) % 256).ToString("x2", System.Globalization.CultureInfo.InvariantCulture);
        var moved = string.Join('/', parts);
        var bytes = await ReadAsync(store, keys[0]);
        await store.PutAsync(moved, bytes);
        await store.DeleteAsync(keys[0]);
        Assert.False(ObjectKeys.TryParseSegment(moved, out _));
        return moved;
    }

    private static async Task CopyAsync(IObjectStore from, IObjectStore to, string prefix)
    {
        await foreach (var info in from.ListAsync(prefix))
        {
            await to.PutAsync(info.Key, await ReadAsync(from, info.Key));
        }
    }

    private static async Task<byte[]> ReadAsync(IObjectStore store, string key)
    {
        var info = await store.GetInfoAsync(key) ?? throw new FileNotFoundException(key);
        var bytes = new byte[info.Size];
        await store.ReadAsync(key, 0, bytes);
        return bytes;
    }

    private static List<long> RecordOffsets(byte[] bytes)
    {
        var layout = SegmentLayout.Read(bytes);
        var reader = SegmentReader.OverFile(bytes, layout.CreateFileState());
        var offsets = new List<long>();
        while (reader.TryReadRecord(out var record))
        {
            offsets.Add(record.Offset);
        }

        return offsets;
    }
}
