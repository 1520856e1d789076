using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Series;
using Tailor.Testing;

namespace Tailor.Cli.Tests;

/// <summary>demo, inspect, read FILE and bench through the built executable: the happy path and bad input.</summary>
public sealed class ToolCommandTests
{
    [Fact]
    public async Task Demo_runs_the_whole_pipeline_and_prints_one_json_object_with_exact_verification()
    {
        using var data = new TempFolder("cli-demo");
        var run = await TailorRun.RunAsync("demo", "--points", "120000", "--series", "1500", "--data", data.Path, "--json");
        var json = run.Json();
        Assert.True(run.Code == 0, run.ToString());
        foreach (var key in new[] { "payloads", "points", "segments", "sfiles", "expected", "found", "missing", "different", "extra", "bytes_per_point", "seconds" })
        {
            Assert.True(json.TryGetProperty(key, out _), $"--json lacks {key}: {run.Output}");
        }

        Assert.True(json.GetProperty("points").GetInt64() >= 120_000);
        Assert.True(json.GetProperty("segments").GetInt64() > 0);
        Assert.True(json.GetProperty("sfiles").GetInt64() > 0);
        Assert.Equal(0, json.GetProperty("missing").GetInt64());
        Assert.Equal(0, json.GetProperty("different").GetInt64());
        Assert.Equal(0, json.GetProperty("extra").GetInt64());
        Assert.Equal(json.GetProperty("expected").GetInt64(), json.GetProperty("found").GetInt64());

        // A second run over the same data folder is a new run beside the first.
        var again = await TailorRun.RunAsync("demo", "--points", "20000", "--series", "200", "--data", data.Path, "--json");
        Assert.True(again.Code == 0, again.ToString());
        Assert.Equal(2, Directory.GetDirectories(data.Path, "run-*").Length);
    }

    [Fact]
    public async Task Demo_refuses_bad_arguments_with_exit_code_2()
    {
        var few = await TailorRun.RunAsync("demo", "--points", "10");
        Assert.Equal(2, few.Code);
        Assert.Contains("--points", few.Error, StringComparison.Ordinal);
        var scheme = await TailorRun.RunAsync("demo", "--store", "ftp://nowhere/x");
        Assert.Equal(2, scheme.Code);
        Assert.Contains("ftp", scheme.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_a_segment_and_an_s_file_and_reports_damage()
    {
        using var folder = new TempFolder("cli-inspect");
        var segment = Path.Combine(folder.Path, "one.tseg");
        var frames = WriteSegment(segment);
        var text = await TailorRun.RunAsync("inspect", segment);
        Assert.Equal(0, text.Code);
        Assert.Contains("records", text.Output, StringComparison.Ordinal);
        var json = (await TailorRun.RunAsync("inspect", segment, "--json")).Json();
        Assert.Equal(frames, json.GetProperty("records_read").GetInt64());
        Assert.Equal(0, json.GetProperty("lost_records").GetInt64());

        // A flipped byte inside a record: exit 1 and the damage is named.
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[SegmentFormat.HeaderLength + SegmentFormat.RecordHeaderLength + 10] ^= 0xFF;
        var damaged = Path.Combine(folder.Path, "damaged.tseg");
        await File.WriteAllBytesAsync(damaged, bytes);
        var report = await TailorRun.RunAsync("inspect", damaged, "--json");
        Assert.Equal(1, report.Code);
        using (var document = System.Text.Json.JsonDocument.Parse(report.Output))
        {
            Assert.Equal(1, document.RootElement.GetProperty("lost_records").GetInt64());
        }

        var sfile = Path.Combine(folder.Path, "part.tsf");
        WriteSFile(sfile);
        var sfileReport = await TailorRun.RunAsync("inspect", sfile);
        Assert.Equal(0, sfileReport.Code);
        Assert.Contains("tailor", sfileReport.Output, StringComparison.OrdinalIgnoreCase);

        var missing = await TailorRun.RunAsync("inspect", Path.Combine(folder.Path, "nope.tseg"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("nope.tseg", missing.Error, StringComparison.Ordinal);
        var notOurs = Path.Combine(folder.Path, "notes.txt");
        await File.WriteAllTextAsync(notOurs, "hello, these are notes");
        Assert.Equal(1, (await TailorRun.RunAsync("inspect", notOurs)).Code);
    }

    [Fact]
    public async Task Read_prints_the_points_of_a_series_of_an_s_file_and_explains_bad_input()
    {
        using var folder = new TempFolder("cli-read");
        var sfile = Path.Combine(folder.Path, "part.tsf");
        WriteSFile(sfile);
        var json = (await TailorRun.RunAsync("read", sfile, "--series", "7:3:99", "--json")).Json();
        Assert.Equal(100, json.GetProperty("points").GetArrayLength());
        var text = await TailorRun.RunAsync("read", sfile, "--series", "7:3:99", "--from", "1795651200", "--to", "1795651300");
        Assert.Equal(0, text.Code);
        // Four lines name the series, file, metadata and range; then one line per point.
        Assert.Equal(10, text.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("2026-", StringComparison.Ordinal)));

        Assert.Equal(1, (await TailorRun.RunAsync("read", sfile, "--series", "7:3:98")).Code);
        var bad = await TailorRun.RunAsync("read", sfile, "--series", "seven");
        Assert.Equal(2, bad.Code);
        Assert.Contains("ORG:METRIC:CONTEXT", bad.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await TailorRun.RunAsync("read", "--series", "7:3:99")).Code);
    }

    [Fact]
    public async Task Bench_format_prints_its_figures_as_json_and_refuses_bad_arguments()
    {
        var json = (await TailorRun.RunAsync("bench", "format", "--points", "100000", "--iterations", "1", "--codec-series", "50", "--json")).Json();
        foreach (var key in new[] { "segment_read_points_per_sec", "decompress_only_points_per_sec", "segment_read_ratio_to_ceiling", "allocated_bytes_per_payload", "segment_bytes_per_point", "codecs", "default_codec" })
        {
            Assert.True(json.TryGetProperty(key, out _), $"bench format --json lacks {key}");
        }

        Assert.True(json.GetProperty("codecs").TryGetProperty("parquet", out _));
        var bad = await TailorRun.RunAsync("bench", "format", "--points", "5");
        Assert.Equal(2, bad.Code);
        Assert.Equal(2, (await TailorRun.RunAsync("bench", "nothing")).Code);
    }

    [Fact]
    public async Task Bench_compaction_and_sink_print_their_keys_at_a_small_size()
    {
        var compaction = (await TailorRun.RunAsync("bench", "compaction", "--memory", (16 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--points", "300000", "--jobs", "3", "--json")).Json();
        foreach (var key in new[] { "points", "points_per_sec", "points_per_sec_per_core", "decompress_only_points_per_sec", "ratio_to_decompress_ceiling",
            "duckdb_points_per_sec", "ratio_to_duckdb", "gc_pause_fraction", "allocated_bytes_per_point", "peak_working_set_bytes", "memory_budget_bytes", "bytes_per_point_out" })
        {
            Assert.True(compaction.TryGetProperty(key, out _), $"bench compaction --json lacks {key}");
        }

        Assert.True(compaction.GetProperty("points").GetInt64() > 0);

        // DuckDB gets every point of the job and, under the same duplicate rule, keeps the same ones.
        Assert.Equal(compaction.GetProperty("points").GetInt64(), compaction.GetProperty("duckdb_points").GetInt64());
        Assert.Equal(compaction.GetProperty("report").GetProperty("points_out").GetInt64(), compaction.GetProperty("duckdb_rows").GetInt64());
        Assert.True(compaction.GetProperty("duckdb_rows").GetInt64() < compaction.GetProperty("points").GetInt64(), "the workload duplicates points");
        var jobs = compaction.GetProperty("measured_jobs_points_per_sec").EnumerateArray().Select(j => j.GetDouble()).Order().ToArray();
        Assert.Equal(3, jobs.Length);
        Assert.Equal(jobs[1], compaction.GetProperty("points_per_sec").GetDouble()); // the median job
        var sink = (await TailorRun.RunAsync("bench", "sink", "--partitions", "2", "--json")).Json();
        foreach (var key in new[] { "payloads_per_sec", "bare_consumer_payloads_per_sec", "ratio_to_bare_consumer", "peak_working_set_bytes", "buffer_budget_bytes" })
        {
            Assert.True(sink.TryGetProperty(key, out _), $"bench sink --json lacks {key}");
        }

        Assert.Equal(2, (await TailorRun.RunAsync("bench", "compaction", "--memory", "1000")).Code);
        Assert.Equal(2, (await TailorRun.RunAsync("bench", "compaction", "--jobs", "0")).Code);
        Assert.Equal(2, (await TailorRun.RunAsync("bench", "sink", "--partitions", "0")).Code);
    }

    [Fact]
    public async Task Bench_load_drives_tailor_gen_through_one_sink_worker_and_accounts_for_every_point()
    {
        var run = await TailorRun.RunAsync("bench", "load", "--rate", "300", "--seconds", "3", "--json");
        var load = run.Json();
        Assert.True(run.Code == 0, run.ToString());
        Assert.True(load.GetProperty("payloads").GetInt64() > 0);
        Assert.True(load.GetProperty("points").GetInt64() > 0);
        Assert.Equal(load.GetProperty("points").GetInt64(), load.GetProperty("compacted_points_in").GetInt64());
        Assert.Equal(0, load.GetProperty("missing").GetInt64());
        Assert.Equal(0, load.GetProperty("different").GetInt64());
        Assert.True(load.GetProperty("expected").GetInt64() > 0);
        Assert.NotEmpty(load.GetProperty("samples").EnumerateArray());

        var bad = await TailorRun.RunAsync("bench", "load", "--rate", "0");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--rate must be above 0", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_command_explains_itself_with_examples()
    {
        foreach (var command in new[] { "demo", "sink", "gen", "plan", "compact", "worker", "verify", "inspect", "read", "bench" })
        {
            var help = await TailorRun.RunAsync(command, "--help");
            Assert.Equal(0, help.Code);
            Assert.Contains("tailor " + command, help.Output, StringComparison.Ordinal);
        }
    }

    private static int WriteSegment(string path)
    {
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var file = new ArrayBufferWriter<byte>();
        var segment = new SegmentWriter(file);
        var frame = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 12; i++)
        {
            writer.Begin((uint)(i % 3), i);
            writer.AddSeries(1, (ulong)i, "env:test"u8, [1_795_651_200 + i, 1_795_651_210 + i], [i, i + 0.5]);
            frame.ResetWrittenCount();
            writer.Complete(frame);
            Assert.Equal(PayloadStatus.Ok, decoder.TryValidate(frame.WrittenSpan, out var summary));
            segment.Append(frame.WrittenSpan, summary);
        }

        segment.Complete();
        File.WriteAllBytes(path, file.WrittenSpan.ToArray());
        return 12;
    }

    private static void WriteSFile(string path)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new SFileWriter(output, new SFileWriterOptions { Shard = "org-mod-7", WindowStart = 1_795_651_200, WindowSeconds = 14_400 }))
        {
            var ts = Enumerable.Range(0, 100).Select(i => 1_795_651_200L + (i * 10)).ToArray();
            var values = Enumerable.Range(0, 100).Select(i => i * 1.5).ToArray();
            writer.AddSeries(new SeriesKey(7, 3, 99), "env:test"u8, ts, values);
            writer.AddSeries(new SeriesKey(7, 3, 100), [], ts, values);
            writer.Complete();
        }

        File.WriteAllBytes(path, output.WrittenSpan.ToArray());
    }
}
