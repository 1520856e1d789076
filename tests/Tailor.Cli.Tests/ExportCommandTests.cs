using System.Globalization;
using DuckDB.NET.Data;
using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary><c>tailor export</c>: compacted parts as Parquet, read back by DuckDB and compared with the S-files' points.</summary>
public sealed class ExportCommandTests(GeneratedStore store, ITestOutputHelper output) : IClassFixture<GeneratedStore>
{
    private const string Window = GeneratedStore.Window;

    [Fact]
    public async Task Export_writes_one_sorted_zstd_Parquet_file_per_part_that_DuckDB_reads_with_the_S_files_points()
    {
        using var copy = CopyStore();
        using var parquet = new TempFolder("cli-parquet");
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--all", "--window", Window, "--part-bytes", "64KiB")).Code);

        var run = await TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--output", parquet.Path, "--json");
        output.WriteLine(run.ToString());
        var result = run.Json();
        var files = result.GetProperty("files").EnumerateArray().ToList();
        var parts = Directory.GetFiles(Path.Combine(copy.Path, "series"), "*.tsf", SearchOption.AllDirectories);
        Assert.Equal(3, result.GetProperty("shards").GetInt32());
        Assert.Equal(parts.Length, files.Count);
        Assert.True(parts.Length > 3, "the small part size should cut at least one shard into several parts");
        Assert.Equal(parts.Length, Directory.GetFiles(parquet.Path).Length);

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        long totalRows = 0;
        foreach (var file in files)
        {
            var path = file.GetProperty("file").GetString()!;
            Assert.Equal(parquet.Path, Path.GetDirectoryName(path));
            Assert.Matches(@"^org-mod-[0-2]_20261126T0000Z_\d{5}\.parquet$", Path.GetFileName(path));
            var expected = Scan(Path.Combine(copy.Path, file.GetProperty("key").GetString()!));

            var found = Row(duck, $"""
                SELECT count(*), count(DISTINCT (org, metric, context)), sum(ts)::VARCHAR, sum(value), min(value), max(value),
                       sum(org)::VARCHAR, sum(metric % 1000003)::VARCHAR, sum(context % 1000003)::VARCHAR
                FROM read_parquet('{path}')
                """);
            Assert.Equal(expected.Rows, Convert.ToInt64(found[0], CultureInfo.InvariantCulture));
            Assert.Equal(expected.Series, Convert.ToInt64(found[1], CultureInfo.InvariantCulture));
            Assert.Equal(expected.TimestampSum.ToString(CultureInfo.InvariantCulture), found[2]);
            Assert.Equal(expected.ValueSum, Convert.ToDouble(found[3], CultureInfo.InvariantCulture), Math.Abs(expected.ValueSum) * 1e-12);
            Assert.Equal(expected.ValueMin, Convert.ToDouble(found[4], CultureInfo.InvariantCulture));
            Assert.Equal(expected.ValueMax, Convert.ToDouble(found[5], CultureInfo.InvariantCulture));
            Assert.Equal(expected.OrgSum.ToString(CultureInfo.InvariantCulture), found[6]);
            Assert.Equal(expected.MetricSum.ToString(CultureInfo.InvariantCulture), found[7]);
            Assert.Equal(expected.ContextSum.ToString(CultureInfo.InvariantCulture), found[8]);
            Assert.Equal(expected.Rows, file.GetProperty("rows").GetInt64());

            // Rows in file order are sorted by (org, metric, context, ts): no row is smaller than the one before it.
            var unsorted = Row(duck, $"""
                SELECT count(*) FROM (
                    SELECT org, metric, context, ts,
                           lag(org) OVER w AS o, lag(metric) OVER w AS m, lag(context) OVER w AS c, lag(ts) OVER w AS t
                    FROM read_parquet('{path}', file_row_number = true)
                    WINDOW w AS (ORDER BY file_row_number))
                WHERE o IS NOT NULL AND (org, metric, context, ts) <= (o, m, c, t)
                """);
            Assert.Equal(0L, Convert.ToInt64(unsorted[0], CultureInfo.InvariantCulture));

            // The columns' types as readers see them, and zstd on every column chunk.
            var types = Rows(duck, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{path}'))");
            Assert.Equal(["org:UINTEGER", "metric:UBIGINT", "context:UBIGINT", "ts:BIGINT", "value:DOUBLE"], types.Select(t => $"{t[0]}:{t[1]}"));
            var codecs = Rows(duck, $"SELECT DISTINCT compression FROM parquet_metadata('{path}')");
            Assert.Equal(["ZSTD"], codecs.Select(c => c[0]));
            totalRows += expected.Rows;
        }

        Assert.Equal(totalRows, result.GetProperty("rows").GetInt64());
        var manifests = Directory.GetFiles(Path.Combine(copy.Path, "series"), "_manifest.json", SearchOption.AllDirectories)
            .Select(p => CompactionManifest.Parse(File.ReadAllBytes(p))).ToList();
        Assert.Equal(manifests.Sum(m => m.Stats.PointsOut), totalRows);

        // One shard only, and a glob over the folder reads as one table.
        using var single = new TempFolder("cli-parquet-one");
        var one = (await TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "org-mod-1", "--output", single.Path, "--json")).Json();
        Assert.Equal(1, one.GetProperty("shards").GetInt32());
        Assert.All(Directory.GetFiles(single.Path), f => Assert.StartsWith("org-mod-1_", Path.GetFileName(f), StringComparison.Ordinal));
        var glob = Row(duck, $"SELECT count(*) FROM read_parquet('{single.Path}/*.parquet')");
        Assert.Equal(manifests.Single(m => m.Shard == "org-mod-1").Stats.PointsOut, Convert.ToInt64(glob[0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Export_explains_bad_arguments_a_window_not_compacted_and_a_part_that_is_not_as_its_manifest_says()
    {
        using var copy = CopyStore();
        using var parquet = new TempFolder("cli-parquet-bad");
        var aFile = Path.Combine(parquet.Path, "a-file");
        await File.WriteAllTextAsync(aFile, "x");
        var results = await Task.WhenAll(
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", "2026-11-26T01:00Z/4h", "--output", parquet.Path),
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "../etc", "--output", parquet.Path),
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window),
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--output", aFile),
            TailorRun.RunAsync("export", "--store", "file:///no/such/tailor/store", "--window", Window, "--output", parquet.Path),
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--output", parquet.Path),
            TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "org-mod-1", "--output", parquet.Path));
        Expect(results[0], 2, "--window:");
        Expect(results[1], 2, "--shard: '../etc' is not a shard name");
        Expect(results[2], 2, "--output");
        Expect(results[3], 2, "is a file");
        Expect(results[4], 2, "there is no store at");
        Expect(results[5], 1, "the window is not compacted");
        Expect(results[6], 1, "org-mod-1 has no manifest for 2026-11-26T00:00Z/4h");

        // A part altered after compaction (one byte) is refused with its key; nothing is written for it.
        Assert.Equal(0, (await TailorRun.RunAsync("compact", "--store", copy.Uri, "--shard", "org-mod-2", "--window", Window)).Code);
        var part = Directory.GetFiles(Path.Combine(copy.Path, "series", "org-mod-2"), "*.tsf", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(part);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(part, bytes);
        var altered = await TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "org-mod-2", "--output", parquet.Path);
        Expect(altered, 1, "the part was altered, nothing was exported for it");
        Assert.Contains(Path.GetFileName(part), altered.Error, StringComparison.Ordinal);
        Assert.Equal([aFile], Directory.GetFiles(parquet.Path));

        // A part the manifest names but the store lost.
        File.Delete(part);
        Expect(await TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "org-mod-2", "--output", parquet.Path), 1, "is missing although the window's manifest names it");

        // A manifest whose part key climbs out of its window: refused before anything is read or written.
        var manifestPath = Path.Combine(copy.Path, "series", "org-mod-2", "2026-11-26T00:00Z", "_manifest.json");
        var manifest = await File.ReadAllTextAsync(manifestPath);
        var key = Path.GetRelativePath(copy.Path, part).Replace('\\', '/');
        await File.WriteAllTextAsync(manifestPath, manifest.Replace($"\"{key}\"", "\"series/org-mod-2/2026-11-26T00:00Z/../../../../escaped.tsf\"", StringComparison.Ordinal));
        Expect(await TailorRun.RunAsync("export", "--store", copy.Uri, "--window", Window, "--shard", "org-mod-2", "--output", parquet.Path), 1,
            "names a part 'series/org-mod-2/2026-11-26T00:00Z/../../../../escaped.tsf' that is not an S-file of org-mod-2");
        Assert.Equal([aFile], Directory.GetFiles(parquet.Path));
    }

    private static void Expect(TailorRun.Result result, int code, string message)
    {
        Assert.True(result.Code == code, $"expected exit {code}: {result}");
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output.Trim());
    }

    private static string?[] Row(DuckDBConnection connection, string sql) => Rows(connection, sql).Single();

    private static List<string?[]> Rows(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Every point of an S-file, walked with the strict scanner, summed the way the DuckDB query sums them.</summary>
    private static Expected Scan(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var scanner = new SFileScanner(bytes);
        try
        {
            var max = scanner.Layout.Footer.Stats.MaxPointCount;
            var timestamps = new long[max];
            var values = new double[max];
            var e = new Expected { ValueMin = double.PositiveInfinity, ValueMax = double.NegativeInfinity };
            while (scanner.MoveNext())
            {
                var key = scanner.Current.Key;
                var n = scanner.ReadPoints(timestamps, values);
                e.Series++;
                e.Rows += n;
                e.OrgSum += (System.Numerics.BigInteger)key.OrgId * n;
                e.MetricSum += (System.Numerics.BigInteger)(key.MetricId % 1000003) * n;
                e.ContextSum += (System.Numerics.BigInteger)(key.ContextKey % 1000003) * n;
                for (var i = 0; i < n; i++)
                {
                    e.TimestampSum += timestamps[i];
                    e.ValueSum += values[i];
                    e.ValueMin = Math.Min(e.ValueMin, values[i]);
                    e.ValueMax = Math.Max(e.ValueMax, values[i]);
                }
            }

            return e;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    private TempFolder CopyStore()
    {
        var copy = new TempFolder("cli-export");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(store.Path, "segments"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Path, Path.GetRelativePath(store.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    private sealed class Expected
    {
        public long Rows { get; set; }
        public long Series { get; set; }
        public System.Numerics.BigInteger TimestampSum { get; set; }
        public double ValueSum { get; set; }
        public double ValueMin { get; set; }
        public double ValueMax { get; set; }
        public System.Numerics.BigInteger OrgSum { get; set; }
        public System.Numerics.BigInteger MetricSum { get; set; }
        public System.Numerics.BigInteger ContextSum { get; set; }
    }
}
