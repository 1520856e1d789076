using System.Globalization;
using System.Text.Json;
using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Testing;

namespace Tailor.Cli.Tests;

/// <summary><c>tailor query</c> over windows that <c>tailor compact</c> wrote, against a scan of every S-file point.</summary>
public sealed class QueryCommandTests(GeneratedStore store) : IClassFixture<GeneratedStore>
{
    private const string Window = GeneratedStore.Window;

    [Fact]
    public async Task Query_prints_every_point_of_an_org_and_metric_as_json_csv_and_a_table_and_rolls_them_up()
    {
        using var copy = new TempFolder("cli-query");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(store.Path, "segments"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Path, Path.GetRelativePath(store.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var compact = await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window);
        Assert.True(compact.Code == 0, compact.ToString());
        var manifest = CompactionManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(copy.Path, "series", "org-mod-2", "2026-11-26T00:00Z", "_manifest.json")));
        var key = SeriesKey.Parse(manifest.Outputs[0].LastSeries);

        // The reference: every point of the org and metric in every part of the shard, scanned whole.
        var expected = new SortedDictionary<ulong, List<(long T, double V)>>();
        foreach (var output in manifest.Outputs)
        {
            var scanner = new SFileScanner(await File.ReadAllBytesAsync(Path.Combine(copy.Path, output.Key)));
            var ts = new long[scanner.Layout.Footer.Stats.MaxPointCount];
            var vs = new double[ts.Length];
            while (scanner.MoveNext())
            {
                var n = scanner.ReadPoints(ts, vs);
                if (scanner.Current.Key.OrgId == key.OrgId && scanner.Current.Key.MetricId == key.MetricId)
                {
                    expected[scanner.Current.Key.ContextKey] = [.. Enumerable.Range(0, n).Select(i => (ts[i], vs[i]))];
                }
            }

            scanner.Dispose();
        }

        var window = CompactionWindow.Parse(Window);
        var from = window.StartSeconds.ToString(CultureInfo.InvariantCulture);
        var to = "2026-11-26T08:00Z"; // two windows: the second is not compacted
        var json = await TailorRun.RunAsync("query", "--store", copy.Uri, "--org", key.OrgId.ToString(CultureInfo.InvariantCulture), "--metric", key.MetricId.ToString(CultureInfo.InvariantCulture),
            "--from", from, "--to", to, "--shards", "3", "--json");
        Assert.True(json.Code == 0, json.ToString());
        var root = json.Json();
        var series = root.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(expected.Keys, series.Select(s => s.GetProperty("context").GetUInt64()));
        foreach (var s in series)
        {
            Assert.Equal(key.OrgId, s.GetProperty("org").GetUInt32());
            Assert.Equal(key.MetricId, s.GetProperty("metric").GetUInt64());
            Assert.Equal(JsonValueKind.String, s.GetProperty("metadata").ValueKind);
            var points = s.GetProperty("points").EnumerateArray().Select(p => (p[0].GetInt64(), p[1].GetDouble())).ToList();
            Assert.Equal(expected[s.GetProperty("context").GetUInt64()], points);
        }

        Assert.Equal(["2026-11-26T04:00Z/4h"], root.GetProperty("absent_windows").EnumerateArray().Select(w => w.GetString()));
        var stats = root.GetProperty("stats");
        Assert.Equal(2, stats.GetProperty("windows").GetInt32());
        Assert.True(stats.GetProperty("reads").GetInt64() >= 2);
        Assert.True(stats.GetProperty("bytes").GetInt64() > 0);
        Assert.True(stats.GetProperty("seconds").GetDouble() >= 0);
        Assert.True(stats.GetProperty("parts").GetInt32() >= 1);

        var csv = await TailorRun.RunAsync("query", "--store", copy.Uri, "--org", key.OrgId.ToString(CultureInfo.InvariantCulture), "--metric", key.MetricId.ToString(CultureInfo.InvariantCulture),
            "--context", key.ContextKey.ToString(CultureInfo.InvariantCulture), "--from", Window[..17], "--to", to, "--shards", "3", "--format", "csv");
        Assert.True(csv.Code == 0, csv.ToString());
        var lines = csv.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("org,metric,context,ts,value", lines[0]);
        Assert.Equal(expected[key.ContextKey].Count, lines.Length - 1);
        Assert.Equal($"{key.OrgId},{key.MetricId},{key.ContextKey},{expected[key.ContextKey][0].T},{expected[key.ContextKey][0].V.ToString("R", CultureInfo.InvariantCulture)}", lines[1]);
        Assert.Contains("absent (no manifest): 2026-11-26T04:00Z/4h", csv.Error, StringComparison.Ordinal);

        var rolled = (await TailorRun.RunAsync("query", "--store", copy.Uri, "--org", key.OrgId.ToString(CultureInfo.InvariantCulture), "--metric", key.MetricId.ToString(CultureInfo.InvariantCulture),
            "--context", key.ContextKey.ToString(CultureInfo.InvariantCulture), "--from", from, "--to", to, "--shards", "3", "--step", "1h", "--agg", "count,max", "--json")).Json();
        var only = Assert.Single(rolled.GetProperty("series").EnumerateArray().ToList());
        Assert.Equal(["ts", "count", "max"], only.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        var buckets = only.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(expected[key.ContextKey].Count, buckets.Sum(b => b[1].GetDouble()));
        foreach (var bucket in buckets)
        {
            var start = bucket[0].GetInt64();
            var inBucket = expected[key.ContextKey].Where(p => p.T >= start && p.T < start + 3600).ToList();
            Assert.Equal(inBucket.Count, bucket[1].GetDouble());
            Assert.Equal(inBucket.Max(p => p.V), bucket[2].GetDouble());
        }

        var table = await TailorRun.RunAsync("query", "--store", copy.Uri, "--org", key.OrgId.ToString(CultureInfo.InvariantCulture), "--metric", key.MetricId.ToString(CultureInfo.InvariantCulture),
            "--context", key.ContextKey.ToString(CultureInfo.InvariantCulture), "--from", from, "--to", to, "--shards", "3");
        Assert.True(table.Code == 0, table.ToString());
        Assert.StartsWith($"{key}  ", table.Output, StringComparison.Ordinal);
        Assert.Contains("1 series", table.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_explains_bad_arguments()
    {
        var results = await Task.WhenAll(
            TailorRun.RunAsync("query", "--store", store.Uri, "--org", "1", "--metric", "2", "--from", "2026-11-26T02:00Z", "--to", "2026-11-26T01:00Z"),
            TailorRun.RunAsync("query", "--store", store.Uri, "--org", "1", "--metric", "2", "--from", "2026-11-26", "--to", "2026-11-27", "--agg", "max"),
            TailorRun.RunAsync("query", "--store", store.Uri, "--org", "1", "--metric", "2", "--from", "2026-11-26", "--to", "2026-11-27", "--step", "1h", "--agg", "median"),
            TailorRun.RunAsync("query", "--store", store.Uri, "--org", "1", "--metric", "2", "--from", "2026-11-26", "--to", "2026-11-27", "--format", "xml"));
        Expect(results[0], "--from must be before --to");
        Expect(results[1], "--agg needs --step");
        Expect(results[2], "'median' is not an aggregation");
        Expect(results[3], "--format: 'xml' is not an output format");

        var help = await TailorRun.RunAsync("query", "--help");
        Assert.Contains("Examples:", help.Output, StringComparison.Ordinal);
        Assert.Contains("tailor query --store", help.Output, StringComparison.Ordinal);
        Assert.Contains("--json", help.Output, StringComparison.Ordinal);
    }

    private static void Expect(TailorRun.Result result, string message)
    {
        Assert.True(result.Code == 2, $"expected exit 2: {result}");
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output.Trim());
    }
}
