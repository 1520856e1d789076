using System.CommandLine;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor read --store</c>: the points of one series in one window, found through the window's manifest in at most three ranged reads.</summary>
internal static class ReadCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "The store that holds the S-files: " + CompactionArguments.StoreHelp };
        var series = new Option<string?>("--series") { Description = "The series: ORG:METRIC:CONTEXT in decimal, e.g. 42:7:9182736455." };
        var window = new Option<string?>("--window") { Description = "The window that holds the points, e.g. 2026-11-26T00:00Z/4h." };
        var from = new Option<string?>("--from") { Description = "The first time wanted (inclusive): 2026-11-26T01:00Z or Unix seconds (default: the window start)." };
        var to = new Option<string?>("--to") { Description = "The end of the range (exclusive) (default: the window end)." };
        var shard = new Option<string?>("--shard") { Description = "The shard that holds the org, when you know it (default: the org's own shard org-<id> if compacted, else org-mod-(ORG mod --shards))." };
        var shards = new Option<int>("--shards") { Description = "Shared shards of the shard map (default 64).", DefaultValueFactory = _ => 64 };
        var json = CompactionArguments.Json();
        var command = new Command("read", """
            Print the points of one series from the S-files of a window. The window's manifest names its
            parts and each part's first and last series; the part that holds the series is read with at
            most three ranged reads (its trailer and footer, one index page, the series' block).

            Text output: one point per line, "time value", on stdout; the route (shard, part, reads) on
            stderr. --json prints one object with the series, shard, part, reads and the points.

            Examples:
              tailor read --store file:///tmp/tailor-data --series 3:5:1234567890 --window 2026-11-26T00:00Z/4h
              tailor read --store file:///tmp/tailor-data --series 3:5:1234567890 --window 2026-11-26T00:00Z/4h --from 2026-11-26T01:00Z --to 2026-11-26T01:30Z --json
              tailor read --store s3://metrics/prod --series 1234:12:998877 --window 2026-11-26T04:00Z/4h --shard org-1234
            """)
        {
            store,
            series,
            window,
            from,
            to,
            shard,
            shards,
            json,
        };
        command.SetAction((parse, cancellationToken) => CompactionArguments.RunAsync(() =>
        {
            if (parse.GetValue(store) is not { } uri)
            {
                throw new CliException("Say where to read from: --store URI --series ORG:METRIC:CONTEXT --window W.", ExitCodes.BadArguments);
            }

            if (parse.GetValue(series) is not { } key || parse.GetValue(window) is not { } w)
            {
                throw new CliException("--store needs --series ORG:METRIC:CONTEXT and --window W (e.g. 2026-11-26T00:00Z/4h).", ExitCodes.BadArguments);
            }

            return ReadFromStore.RunAsync(new ReadFromStore.Request(uri, key, w, parse.GetValue(from), parse.GetValue(to), parse.GetValue(shard), parse.GetValue(shards)),
                parse.GetValue(json), cancellationToken);
        }));
        return command;
    }
}
