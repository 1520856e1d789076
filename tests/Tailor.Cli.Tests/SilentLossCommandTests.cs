using System.Text.Json;
using Tailor.Compaction;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary>
/// What <c>tailor verify</c>, <c>compact</c> and <c>inspect</c> say when points are gone or there is nothing
/// to check: an outcome, a message and the fix, on stdout as JSON with <c>--json</c>, and an exit code
/// that is never 0 for a loss.
/// </summary>
public sealed class SilentLossCommandTests(GeneratedStore store, ITestOutputHelper output) : IClassFixture<GeneratedStore>
{
    private const string Window = GeneratedStore.Window;

    [Fact]
    public async Task Verify_of_a_shard_or_window_without_data_says_nothing_to_verify_and_exits_4()
    {
        var empty = await TailorRun.RunAsync("verify", "--store", store.Uri, "--shard", "org-mod-7", "--window", Window);
        output.WriteLine(empty.ToString());
        Assert.Equal(4, empty.Code);
        Assert.Contains("NOTHING TO VERIFY", empty.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("OK: one to one", empty.Output, StringComparison.Ordinal);
        Assert.Contains("tailor plan", empty.Output, StringComparison.Ordinal);

        var json = await TailorRun.RunAsync("verify", "--store", store.Uri, "--shard", "org-mod-1", "--window", "2027-01-01T00:00Z/4h", "--json");
        Assert.Equal(4, json.Code);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal("nothing_to_verify", document.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(0, document.RootElement.GetProperty("expected").GetInt64());
    }

    [Fact]
    public async Task A_deleted_input_is_named_by_verify_and_compact_drops_it_only_when_told()
    {
        using var copy = CopyStore();
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window)).Code);
        var manifest = ManifestOf(copy.Path, "org-mod-0");
        var deleted = manifest.Inputs[0].Key;
        File.Delete(Path.Combine(copy.Path, deleted));

        var verify = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window, "--json");
        output.WriteLine(verify.ToString());
        var report = verify.Json();
        Assert.Equal(3, verify.Code);
        Assert.Equal("inputs_missing", report.GetProperty("outcome").GetString());
        Assert.Equal(deleted, report.GetProperty("missing_inputs")[0].GetString());
        Assert.Contains("--allow-dropped-inputs", report.GetProperty("fix").GetString(), StringComparison.Ordinal);
        var text = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window);
        Assert.Contains("missing from the store", text.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("late segments", text.Output, StringComparison.Ordinal);

        var refused = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window);
        Assert.Equal(1, refused.Code);
        Assert.Contains(deleted, refused.Error, StringComparison.Ordinal);
        Assert.Contains("--allow-dropped-inputs", refused.Error, StringComparison.Ordinal);
        Assert.Equal(manifest.Generation, ManifestOf(copy.Path, "org-mod-0").Generation);

        var dropped = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window, "--allow-dropped-inputs", "--json");
        Assert.True(dropped.Code == 0, dropped.ToString());
        Assert.Equal(deleted, dropped.Json().GetProperty("dropped_inputs")[0].GetString());
        Assert.Equal(0, (await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window)).Code);
    }

    [Fact]
    public async Task A_damaged_part_is_reported_as_json_with_its_fix_and_compact_check_parts_rewrites_it()
    {
        using var copy = CopyStore();
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window)).Code);
        var part = Path.Combine(copy.Path, ManifestOf(copy.Path, "org-mod-2").Outputs[0].Key);
        var original = await File.ReadAllBytesAsync(part);
        var damaged = original.ToArray();
        damaged[damaged.Length / 3] ^= 0x10;
        await File.WriteAllBytesAsync(part, damaged);

        var verify = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window, "--json");
        output.WriteLine(verify.ToString());
        Assert.Equal(3, verify.Code);
        var report = verify.Json();
        Assert.Equal("damaged_parts", report.GetProperty("outcome").GetString());
        Assert.Contains("--check-parts", report.GetProperty("fix").GetString(), StringComparison.Ordinal);

        var plain = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window, "--json");
        Assert.True(plain.Json().GetProperty("skipped").GetBoolean(), "a part of the same size is only found by its hash");
        var check = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window, "--check-parts", "--json");
        Assert.True(check.Code == 0, check.ToString());
        Assert.Single(check.Json().GetProperty("repaired_parts").EnumerateArray());
        Assert.Equal(original, await File.ReadAllBytesAsync(part));
        var again = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window, "--json");
        Assert.Equal(0, again.Code);
        Assert.Equal("ok", again.Json().GetProperty("outcome").GetString());

        // A part that is gone: found by a plain compaction and by verify, without asking.
        File.Delete(part);
        var missing = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window, "--json");
        Assert.Equal("damaged_parts", missing.Json().GetProperty("outcome").GetString());
        var rewritten = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window);
        Assert.True(rewritten.Code == 0, rewritten.ToString());
        Assert.Contains("repaired", rewritten.Output, StringComparison.Ordinal);
        Assert.Equal(original, await File.ReadAllBytesAsync(part));
    }

    [Fact]
    public async Task A_segment_cut_at_a_record_boundary_is_incomplete_for_inspect_compact_and_verify()
    {
        using var copy = CopyStore();
        var plan = await TailorRun.RunAsync("plan", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--json");
        var key = plan.Json().GetProperty("jobs")[0].GetProperty("inputs")[0].GetString()!;
        var path = Path.Combine(copy.Path, key);
        var bytes = await File.ReadAllBytesAsync(path);
        var layout = Format.Segments.SegmentLayout.Read(bytes);
        var reader = Format.Segments.SegmentReader.OverFile(bytes, layout.CreateFileState());
        long last = 0;
        var records = 0;
        while (reader.TryReadRecord(out var record))
        {
            last = record.Offset;
            records++;
        }

        Assert.True(records >= 2, $"{key} holds {records} records");
        await File.WriteAllBytesAsync(path, bytes[..(int)last]);

        var inspect = await TailorRun.RunAsync("inspect", path);
        output.WriteLine(inspect.ToString());
        Assert.Equal(1, inspect.Code);
        Assert.DoesNotContain("damage       none", inspect.Output, StringComparison.Ordinal);
        Assert.Contains("INCOMPLETE", inspect.Output, StringComparison.Ordinal);

        var compact = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--json");
        Assert.Equal(1, compact.Json().GetProperty("incomplete_segments").GetInt32());
        var verify = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--json");
        Assert.Equal(3, verify.Code);
        Assert.Equal("incomplete_segments", verify.Json().GetProperty("outcome").GetString());
        var accepted = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--accept-incomplete");
        Assert.True(accepted.Code == 0, accepted.ToString());
        Assert.Contains("OK: one to one", accepted.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_json_prints_json_with_the_fix_when_the_manifest_is_unreadable()
    {
        using var copy = CopyStore();
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window)).Code);
        var manifest = Path.Combine(copy.Path, "series", "org-mod-0", "2026-11-26T00:00Z", "_manifest.json");
        await File.WriteAllTextAsync(manifest, "{ not json");

        var verify = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window, "--json");
        output.WriteLine(verify.ToString());
        Assert.Equal(1, verify.Code);
        using var document = JsonDocument.Parse(verify.Output);
        Assert.Equal("error", document.RootElement.GetProperty("outcome").GetString());
        Assert.Contains("unreadable", document.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("tailor compact", document.RootElement.GetProperty("fix").GetString(), StringComparison.Ordinal);

        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window)).Code);
        Assert.Equal(0, (await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window)).Code);
    }

    private static CompactionManifest ManifestOf(string storePath, string shard) =>
        CompactionManifest.Parse(File.ReadAllBytes(Path.Combine(storePath, "series", shard, "2026-11-26T00:00Z", "_manifest.json")));

    /// <summary>A copy of the generated store's segments, so these tests can compact, delete and damage.</summary>
    private TempFolder CopyStore()
    {
        var copy = new TempFolder("cli-loss");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(store.Path, "segments"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Path, Path.GetRelativePath(store.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }
}
