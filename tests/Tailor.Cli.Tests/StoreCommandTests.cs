using System.Buffers;
using System.Globalization;
using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary><c>tailor gen --store</c>, <c>plan</c>, <c>compact</c>, <c>verify</c> and <c>read --store</c> through the built executable.</summary>
public sealed class StoreCommandTests(GeneratedStore store, ITestOutputHelper output) : IClassFixture<GeneratedStore>
{
    private const string Window = GeneratedStore.Window;

    [Fact]
    public async Task Gen_writes_realistic_segments_to_a_store_and_says_what_it_wrote()
    {
        var gen = store.Gen.Json();
        output.WriteLine(store.Gen.Output);
        Assert.True(gen.GetProperty("payloads").GetInt64() > 0);
        Assert.True(gen.GetProperty("points").GetInt64() >= 150_000);
        Assert.Equal(Directory.GetFiles(Path.Combine(store.Path, "segments"), "*.tseg", SearchOption.AllDirectories).Length, gen.GetProperty("segments").GetInt64());
        Assert.True(gen.GetProperty("bytes").GetInt64() > 0);
        Assert.Equal(3, gen.GetProperty("shards").GetArrayLength());
        Assert.Contains(Window, gen.GetProperty("windows").EnumerateArray().Select(w => w.GetString()));

        using var other = new TempFolder("cli-gen");
        var text = await TailorRun.RunAsync("gen", "--store", other.Uri, "--points", "20000", "--series", "200", "--orgs", "5", "--start", "2026-11-26T04:00Z");
        Assert.True(text.Code == 0, text.ToString());
        Assert.Contains("points     ", text.Output, StringComparison.Ordinal);
        Assert.Contains($"next       tailor plan --store {other.Uri} --window 2026-11-26T04:00Z/4h", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gen_explains_an_unknown_store_scheme_a_missing_store_and_bad_counts()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("gen", "--store", "ftp://bucket/prefix", "--points", "1000"),
            TailorRun.RunAsync("gen", "--points", "1000"),
            TailorRun.RunAsync("gen", "--store", store.Uri, "--points", "0"),
            TailorRun.RunAsync("gen", "--store", store.Uri, "--start", "last tuesday"));
        Expect(results[0], 2, "unknown scheme 'ftp'");
        Expect(results[1], 2, "--store URI");
        Expect(results[2], 2, "--points, --series and --orgs must be positive");
        Expect(results[3], 2, "--start: 'last tuesday' is not a time");
    }

    [Fact]
    public async Task Plan_lists_every_shard_job_with_its_segments_and_bytes()
    {
        var plan = (await TailorRun.RunAsync("plan", "--store", store.Uri, "--window", Window, "--json")).Json();
        var jobs = plan.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(3, jobs.Count);
        Assert.False(plan.GetProperty("published").GetBoolean());
        foreach (var job in jobs)
        {
            var shard = job.GetProperty("shard").GetString();
            Assert.Equal($"{shard}|{Window}", job.GetProperty("key").GetString());
            Assert.Equal(job.GetProperty("segments").GetInt32(), job.GetProperty("inputs").GetArrayLength());
            Assert.True(job.GetProperty("bytes").GetInt64() > 0);
            Assert.Matches("^[0-9a-f]{8}$", job.GetProperty("generation").GetString());
        }

        var text = await TailorRun.RunAsync("plan", "--store", store.Uri, "--window", Window);
        Assert.True(text.Code == 0, text.ToString());
        Assert.Contains("3 jobs, ", text.Output, StringComparison.Ordinal);
        Assert.Contains("org-mod-2 ", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_explains_a_window_that_does_not_parse_and_a_store_that_does_not_exist()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("plan", "--store", store.Uri, "--window", "yesterday"),
            TailorRun.RunAsync("plan", "--store", store.Uri, "--window", "2026-11-26T01:00Z/4h"),
            TailorRun.RunAsync("plan", "--store", store.Uri + "-missing", "--window", Window),
            TailorRun.RunAsync("plan", "--store", store.Uri));
        Expect(results[0], 2, "--window: 'yesterday' is not a UTC time");
        Expect(results[1], 2, "starts at a multiple of 4h");
        Expect(results[2], 2, "there is no store at");
        Expect(results[3], 2, "--window");
    }

    [Fact]
    public async Task Compact_prints_the_run_report_of_one_shard_then_of_every_shard()
    {
        using var copy = CopyStore();
        var one = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window, "--memory", "64MiB", "--parallelism", "1", "--json");
        output.WriteLine(one.ToString());
        var report = one.Json();
        Assert.False(report.GetProperty("skipped").GetBoolean());
        Assert.True(report.GetProperty("points_in").GetInt64() > 0);
        Assert.True(report.GetProperty("points_out").GetInt64() > 0);
        Assert.True(report.GetProperty("duplicates_dropped").GetInt64() > 0);
        Assert.Equal(0, report.GetProperty("damaged_records").GetInt64());
        Assert.True(report.GetProperty("bytes_in").GetInt64() > report.GetProperty("bytes_out").GetInt64());
        Assert.True(report.GetProperty("peak_working_set_bytes").GetInt64() > 0);
        Assert.Equal(64L << 20, report.GetProperty("memory_budget_bytes").GetInt64());
        Assert.True(report.GetProperty("gc_pause_seconds").GetDouble() >= 0);
        Assert.True(report.GetProperty("store_calls").EnumerateObject().Any());
        foreach (var stage in new[] { "list", "read", "decompress", "decode", "sort", "spill", "encode", "upload", "manifest", "total" })
        {
            Assert.True(report.GetProperty("stage_seconds").TryGetProperty(stage, out _), $"no stage {stage}");
        }

        // Every run is ordered by series key before the merge, spilled or not.
        Assert.True(report.GetProperty("stage_seconds").GetProperty("sort").GetDouble() > 0);

        var manifest = Path.Combine(copy.Path, "series", "org-mod-0", "2026-11-26T00:00Z", "_manifest.json");
        Assert.True(File.Exists(manifest));

        var all = (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--all", "--window", Window, "--json")).Json();
        Assert.Equal(3, all.GetProperty("jobs").GetInt32());
        Assert.Equal(1, all.GetProperty("skipped").GetInt32());
        Assert.Equal(2, all.GetProperty("written").GetInt32());
        Assert.Equal(3, all.GetProperty("reports").GetArrayLength());
        Assert.True(all.GetProperty("list_seconds").GetDouble() > 0, "the planning of every shard is timed once");

        var again = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-0", "--window", Window);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Contains("skipped, the manifest already names these", again.Output, StringComparison.Ordinal);
        Assert.Contains("compacting org-mod-0", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compact_says_what_is_missing_or_wrong_in_its_arguments()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("compact", "--store", store.Uri, "--window", Window),
            TailorRun.RunAsync("compact", "--store", store.Uri, "--window", Window, "--shard", "org-mod-0", "--all"),
            TailorRun.RunAsync("compact", "--store", store.Uri, "--window", Window, "--all", "--memory", "lots"),
            TailorRun.RunAsync("compact", "--store", store.Uri, "--window", Window, "--all", "--memory", "1MiB"),
            TailorRun.RunAsync("compact", "--store", store.Uri, "--window", Window, "--shard", "shard-1"),
            TailorRun.RunAsync("compact", "--store", "s3://Bad_Bucket/x", "--window", Window, "--all"));
        Expect(results[0], 2, "--shard S (e.g. org-mod-3) or --all");
        Expect(results[1], 2, "not both");
        Expect(results[2], 2, "--memory: 'lots' is not a size");
        Expect(results[3], 2, "--memory must be at least 16 MiB (was 1048576)");
        Expect(results[4], 2, "'shard-1' is not a shard name");
        Expect(results[5], 2, "not a valid bucket name");
        Assert.False(Directory.Exists(Path.Combine(store.Path, "series")), "nothing may be written by a refused command");
    }

    [Fact]
    public async Task Verify_finds_a_compacted_window_one_to_one_and_exits_3_after_a_point_is_altered()
    {
        using var copy = CopyStore();
        var compact = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window);
        Assert.True(compact.Code == 0, compact.ToString());

        var exact = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--json");
        var report = exact.Json();
        Assert.Equal(0, exact.Code);
        Assert.True(report.GetProperty("expected").GetInt64() > 0);
        Assert.Equal(report.GetProperty("expected").GetInt64(), report.GetProperty("found").GetInt64());
        Assert.Equal(0, report.GetProperty("missing").GetInt64() + report.GetProperty("different").GetInt64() + report.GetProperty("extra").GetInt64());

        // Alter one value of one series in the S-file part, keeping the file valid.
        await AlterOnePointAsync(copy.Path, ShardName.Shared(1));
        var altered = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window, "--json");
        output.WriteLine(altered.ToString());
        var mismatch = altered.Json();
        Assert.Equal(3, altered.Code);
        Assert.Equal(1, mismatch.GetProperty("different").GetInt64());
        Assert.Equal(0, mismatch.GetProperty("missing").GetInt64());
        Assert.Equal(0, mismatch.GetProperty("extra").GetInt64());

        // The part no longer has the SHA-256 its manifest holds: a damaged part, with the fix to run.
        Assert.Equal("damaged_parts", mismatch.GetProperty("outcome").GetString());
        Assert.Contains("--check-parts", mismatch.GetProperty("fix").GetString(), StringComparison.Ordinal);

        var text = await TailorRun.RunAsync("verify", "--store", copy.Uri, "--shard", "org-mod-1", "--window", Window);
        Assert.Equal(3, text.Code);
        Assert.Contains("different  1", text.Output, StringComparison.Ordinal);
        Assert.Contains("DAMAGED PARTS", text.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("OK: one to one", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Points_later_than_the_late_allowance_wait_for_a_rerun_with_a_wider_one()
    {
        // Points from 00:50 on: the payloads ending near 01:00 and the late ones reach segments of hour 01.
        using var data = new TempFolder("cli-late");
        const string hour = "2026-11-26T00:00Z/1h";
        var gen = await TailorRun.RunAsync("gen", "--store", data.Uri, "--points", "20000", "--series", "200", "--orgs", "5", "--shards", "1", "--start", "2026-11-26T00:50Z");
        Assert.True(gen.Code == 0, gen.ToString());

        var narrow = await TailorRun.RunAsync("compact", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--late-allowance", "0", "--json");
        Assert.True(narrow.Code == 0, narrow.ToString());
        var wide = await TailorRun.RunAsync("verify", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--json");
        output.WriteLine(wide.ToString());
        var report = wide.Json();
        Assert.Equal(3, wide.Code);
        Assert.True(report.GetProperty("missing").GetInt64() > 0);
        // Corrections resent late count as different: the S-files hold the value they replaced.
        Assert.Equal(report.GetProperty("expected").GetInt64(), report.GetProperty("found").GetInt64() + report.GetProperty("missing").GetInt64() + report.GetProperty("different").GetInt64());
        Assert.False(report.GetProperty("manifest_inputs_current").GetBoolean());

        // The same narrow allowance on verify reads the same segments as that compaction.
        var same = await TailorRun.RunAsync("verify", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--late-allowance", "0", "--json");
        Assert.True(same.Code == 0, same.ToString());

        // A rerun with the default allowance sees new inputs and compacts without --force.
        var rerun = await TailorRun.RunAsync("compact", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--json");
        Assert.True(rerun.Code == 0, rerun.ToString());
        Assert.False(rerun.Json().GetProperty("skipped").GetBoolean());
        var exact = await TailorRun.RunAsync("verify", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--json");
        Assert.True(exact.Code == 0, exact.ToString());
        Assert.Equal(report.GetProperty("expected").GetInt64(), exact.Json().GetProperty("found").GetInt64());

        var results = await Task.WhenAll(
            TailorRun.RunAsync("compact", "--store", data.Uri, "--shard", "org-mod-0", "--window", hour, "--late-allowance", "soon"),
            TailorRun.RunAsync("plan", "--store", data.Uri, "--window", hour, "--early-allowance", "-1h"));
        Expect(results[0], 2, "--late-allowance: 'soon' is not an allowance");
        Expect(results[1], 2, "--early-allowance: '-1h' is not an allowance");
    }

    [Fact]
    public async Task Verify_says_what_is_missing_or_wrong_in_its_arguments()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("verify", "--store", store.Uri, "--window", Window),
            TailorRun.RunAsync("verify", "--store", store.Uri, "--shard", "org-mod-1", "--window", "2026-11-26T00:00Z/4x"),
            TailorRun.RunAsync("verify", "--store", "file:relative/path", "--shard", "org-mod-1", "--window", Window));
        Expect(results[0], 2, "--shard");
        Expect(results[1], 2, "'4x' is not a window length");
        Expect(results[2], 2, "--store:");
    }

    [Fact]
    public async Task Read_prints_the_points_of_one_series_of_a_window_in_at_most_three_ranged_reads()
    {
        using var copy = CopyStore();
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window)).Code);
        var manifest = CompactionManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(copy.Path, "series", "org-mod-2", "2026-11-26T00:00Z", "_manifest.json")));
        var series = manifest.Outputs[0].LastSeries;

        var whole = (await TailorRun.RunAsync("read", "--store", copy.Uri, "--series", series, "--window", Window, "--shards", "3", "--json")).Json();
        Assert.Equal("org-mod-2", whole.GetProperty("shard").GetString());
        Assert.InRange(whole.GetProperty("reads").GetInt64(), 1, 3);
        var points = whole.GetProperty("points").EnumerateArray().Select(p => (T: p.GetProperty("t").GetInt64(), V: p.GetProperty("v").GetDouble())).ToList();
        Assert.Equal(whole.GetProperty("count").GetInt32(), points.Count);
        Assert.True(points.Count > 10);
        Assert.All(points, p => Assert.True(CompactionWindow.Parse(Window).Contains(p.T)));
        Assert.Equal(points.OrderBy(p => p.T), points);

        var from = points[2].T;
        var to = points[7].T;
        var part = (await TailorRun.RunAsync("read", "--store", copy.Uri, "--series", series, "--window", Window, "--shard", "org-mod-2",
            "--from", DateTimeOffset.FromUnixTimeSeconds(from).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), "--to", to.ToString(CultureInfo.InvariantCulture), "--json")).Json();
        Assert.Equal(5, part.GetProperty("count").GetInt32());

        var text = await TailorRun.RunAsync("read", "--store", copy.Uri, "--series", series, "--window", Window, "--shards", "3");
        Assert.True(text.Code == 0, text.ToString());
        var lines = text.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(points.Count, lines.Length);
        Assert.Equal($"{DateTimeOffset.FromUnixTimeSeconds(points[0].T):yyyy-MM-ddTHH:mm:ssZ} {points[0].V.ToString("R", CultureInfo.InvariantCulture)}", lines[0]);
        Assert.Contains("ranged reads", text.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_explains_a_bad_series_a_bad_range_and_a_window_that_is_not_compacted()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("read", "--store", store.Uri, "--series", "cpu.user", "--window", Window),
            TailorRun.RunAsync("read", "--store", store.Uri, "--series", "1:2:3", "--window", Window, "--from", "2026-11-26T02:00Z", "--to", "2026-11-26T01:00Z"),
            TailorRun.RunAsync("read", "--store", store.Uri, "--series", "1:2:3", "--window", "2026-11-26T08:00Z/4h", "--shards", "3"),
            TailorRun.RunAsync("read", "--store", store.Uri, "--series", "1:2:3"));
        Expect(results[0], 2, "--series: 'cpu.user' is not a series");
        Expect(results[1], 2, "--from must be before --to");
        Expect(results[2], 1, "No manifest for org-1 or org-mod-1 in window 2026-11-26T08:00Z/4h");
        Expect(results[3], 2, "--window");
    }

    [Theory]
    [InlineData("gen")]
    [InlineData("plan")]
    [InlineData("compact")]
    [InlineData("worker")]
    [InlineData("verify")]
    [InlineData("read")]
    [InlineData("export")]
    public async Task Every_command_explains_its_options_with_examples(string command)
    {
        var help = await TailorRun.RunAsync(command, "--help");
        Assert.True(help.Code == 0, help.ToString());
        Assert.Contains("Examples:", help.Output, StringComparison.Ordinal);
        Assert.Contains($"tailor {command} --store", help.Output, StringComparison.Ordinal);
        Assert.Contains("--json", help.Output, StringComparison.Ordinal);
    }

    private static void Expect(TailorRun.Result result, int code, string message)
    {
        Assert.True(result.Code == code, $"expected exit {code}: {result}");
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output.Trim());
    }

    /// <summary>A copy of the generated store (segments only), so tests that compact or alter do not disturb the others.</summary>
    private TempFolder CopyStore()
    {
        var copy = new TempFolder("cli-copy");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(store.Path, "segments"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Path, Path.GetRelativePath(store.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    /// <summary>Rewrites the first part of a window with one value of one series flipped in its lowest bit.</summary>
    private static async Task AlterOnePointAsync(string storePath, ShardName shard)
    {
        var folder = Path.Combine(storePath, "series", shard.Value, "2026-11-26T00:00Z");
        var manifest = CompactionManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(folder, "_manifest.json")));
        var path = Path.Combine(storePath, manifest.Outputs[0].Key);
        var original = await File.ReadAllBytesAsync(path);
        var rewritten = new ArrayBufferWriter<byte>();
        var timestamps = new long[1 << 20];
        var values = new double[1 << 20];
        using (var writer = new SFileWriter(rewritten, new SFileWriterOptions { Shard = shard.Value, WindowStart = CompactionWindow.Parse(Window).StartSeconds, WindowSeconds = 14400 }))
        {
            var scanner = new SFileScanner(original);
            var index = 0;
            while (scanner.MoveNext())
            {
                var n = scanner.ReadPoints(timestamps, values);
                var v = values.AsSpan(0, n).ToArray();
                if (index++ == 1)
                {
                    v[0] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v[0]) ^ 1);
                }

                writer.AddSeries(scanner.Current.Key, scanner.Metadata, timestamps.AsSpan(0, n).ToArray(), v);
            }

            scanner.Dispose();
            writer.Complete();
        }

        await File.WriteAllBytesAsync(path, rewritten.WrittenSpan.ToArray());
    }
}
