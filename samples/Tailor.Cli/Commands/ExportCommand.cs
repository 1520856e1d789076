using System.CommandLine;
using System.Diagnostics;
using Tailor.Cli.Export;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor export --store URI --window W [--shard S] --output DIR</c>: compacted parts as Parquet files.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var window = CompactionArguments.Window();
        var shard = new Option<string?>("--shard") { Description = "Export only this shard: org-mod-K or org-<id> (default: every shard compacted in the window)." };
        var output = new Option<string>("--output") { Description = "The folder the Parquet files go to; created if missing. Files of the same part are replaced.", Required = true };
        var json = CompactionArguments.Json();
        var command = new Command("export", """
            Write each compacted part of a window as one Parquet file that DuckDB, Spark and pandas read:
            columns org (uint32), metric (uint64), context (uint64), ts (int64, Unix seconds) and value
            (double), sorted by org, metric, context, ts; zstd-compressed. The window's manifest names
            the parts; each part is checked against it (size, SHA-256, series and points) before its
            file is complete. Files are named SHARD_WINDOWSTART_PART.parquet, e.g.
            org-mod-3_20261126T0000Z_00000.parquet. Exit codes: 0 exported, 1 a part is missing,
            damaged or not as its manifest says, or the window is not compacted, 2 bad arguments.

            Examples:
              tailor export --store file:///tmp/tailor-data --window 2026-11-26T00:00Z/4h --output /tmp/parquet
              tailor export --store s3://metrics/prod --window 2026-11-26T04:00Z/4h --shard org-1234 --output ./org-1234 --json
              duckdb -c "SELECT org, metric, count(*), avg(value) FROM '/tmp/parquet/*.parquet' GROUP BY ALL"
            """)
        {
            store,
            window,
            shard,
            output,
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var w = CompactionArguments.ParseWindow(parse.GetValue(window)!);
            var one = parse.GetValue(shard) is { } text ? CompactionArguments.ParseShard(text) : (Storage.ShardName?)null;
            var folder = OutputFolder(parse.GetValue(output)!);
            await using var objects = CompactionArguments.OpenStore(parse.GetValue(store)!, mustExist: true);
            var watch = Stopwatch.StartNew();
            var manifests = await ParquetExport.FindManifestsAsync(objects, w, one, cancellationToken);
            if (manifests.Count == 0)
            {
                throw new CliException(one is { } s
                    ? $"{s.Value} has no manifest for {w} in {objects.Name}: the window is not compacted for that shard (tailor compact --store {parse.GetValue(store)} --shard {s.Value} --window {w})."
                    : $"No shard has a manifest for {w} in {objects.Name}: the window is not compacted (tailor compact --store {parse.GetValue(store)} --all --window {w}).");
            }

            Directory.CreateDirectory(folder);
            var files = new List<ExportedFile>();
            foreach (var manifest in manifests)
            {
                files.AddRange(await ParquetExport.ExportAsync(objects, manifest, folder, Console.Error, cancellationToken));
            }

            var seconds = watch.Elapsed.TotalSeconds;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    Store = objects.Name,
                    Window = w.ToString(),
                    Output = folder,
                    Shards = manifests.Count,
                    Files = files,
                    Rows = files.Sum(f => f.Rows),
                    Series = files.Sum(f => f.Series),
                    Bytes = files.Sum(f => f.Bytes),
                    Seconds = Math.Round(seconds, 3),
                });
            }
            else
            {
                foreach (var file in files)
                {
                    Console.WriteLine($"{file.File}  {file.Rows:N0} rows, {file.Series:N0} series, {CompactionArguments.Bytes(file.Bytes)} (from {file.Key})");
                }

                Console.WriteLine($"{files.Count} files from {manifests.Count} shards: {files.Sum(f => f.Rows):N0} rows in {seconds:F2} s");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string OutputFolder(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliException("--output: give a folder for the Parquet files, e.g. --output /tmp/parquet.", ExitCodes.BadArguments);
        }

        string full;
        try
        {
            full = Path.GetFullPath(text);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException($"--output: '{text}' is not a folder path: {e.Message}", ExitCodes.BadArguments);
        }

        if (File.Exists(full))
        {
            throw new CliException($"--output: {full} is a file; give a folder for the Parquet files.", ExitCodes.BadArguments);
        }

        return full;
    }
}
