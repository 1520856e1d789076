using System.CommandLine;
using System.Globalization;
using System.Text;
using Tailor.Query;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor query --store URI --org O --metric M [--context C]... --from T --to T [--step D --agg LIST] [--format table|csv|json]</c>:
/// the series of one org and metric over any range, across windows and shards, through <see cref="QueryEngine"/>.
/// </summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var org = new Option<uint>("--org") { Description = "The org id.", Required = true };
        var metric = new Option<ulong>("--metric") { Description = "The metric id.", Required = true };
        var context = new Option<ulong[]>("--context") { Description = "A context key to read (repeat for several; default: every context of the metric).", AllowMultipleArgumentsPerToken = true };
        var from = new Option<string>("--from") { Description = "First second of the range (inclusive): Unix seconds or ISO-8601 UTC, e.g. 2026-11-26T00:00Z.", Required = true };
        var to = new Option<string>("--to") { Description = "End of the range (exclusive): Unix seconds or ISO-8601 UTC.", Required = true };
        var step = new Option<string?>("--step") { Description = "Roll points up into buckets of this length (e.g. 60s, 5m, 1h, 1d), starting at --from." };
        var agg = new Option<string?>("--agg") { Description = "With --step: aggregations, comma-separated, from min, max, sum, count, avg, first, last, rate (default avg)." };
        var format = new Option<string>("--format") { Description = "Output: table (for a person), csv or json (for pipes).", DefaultValueFactory = _ => "table" };
        var json = new Option<bool>("--json") { Description = "The same as --format json: one JSON object on stdout." };
        var shards = new Option<int>("--shards") { Description = "Shared shards of the shard map: the org is read in org-mod-(ORG mod N).", DefaultValueFactory = _ => ShardMap.DefaultSharedShards };
        var dedicated = new Option<bool>("--dedicated") { Description = "The org has (or had) a shard of its own: read org-<ORG> too, so an org that moved is found on both sides of the move." };
        var windowLength = new Option<string>("--window-length") { Description = "The store's compaction window length.", DefaultValueFactory = _ => "4h" };
        var partial = new Option<bool>("--partial") { Description = "Return what can be read when a part is damaged or missing, listing what could not be read, instead of failing." };
        var timeout = new Option<string?>("--timeout") { Description = "Fail when the query takes longer than this (default 60s)." };
        var command = new Command("query", """
            Print the series of one org and metric (every context, or those named with --context) over
            any half-open range [--from, --to), read across every window of the org's shared shard org-mod-K
            (and its own org-<id> with --dedicated), as raw points or rolled up with --step and --agg. Windows
            in the range without a compacted manifest are listed as absent; costs (windows, parts, range
            reads, bytes, seconds) go to stderr, or into the JSON. Exit codes: 0 printed, 1 a part or
            manifest is damaged or missing (see --partial) or a limit was passed, 2 bad arguments.

            JSON: {"series":[{"org","metric","context","metadata","points":[[ts,value]...]}...],
                   "absent_windows":[...],"stats":{"windows","parts","reads","bytes","seconds"}};
            with --step each point is [bucket start, one value per aggregation] and "columns" names them.

            Examples:
              tailor query --store file:///tmp/tailor-data --org 3 --metric 5 --from 2026-11-26T00:00Z --to 2026-11-26T08:00Z
              tailor query --store file:///tmp/tailor-data --org 3 --metric 5 --context 1234 --context 5678 --from 2026-11-26 --to 2026-11-27 --format csv
              tailor query --store s3://metrics/prod --org 42 --metric 7 --from 2026-09-01 --to 2026-11-30 --step 1h --agg avg,max --json
            """)
        {
            store, org, metric, context, from, to, step, agg, format, json, shards, windowLength, partial, timeout, dedicated,
        };
        command.SetAction((parse, cancel) => RunAsync(
            new Arguments(parse.GetValue(store)!, parse.GetValue(org), parse.GetValue(metric), parse.GetValue(context) ?? [], parse.GetValue(from)!, parse.GetValue(to)!,
                parse.GetValue(step), parse.GetValue(agg), parse.GetValue(json) ? "json" : parse.GetValue(format)!, parse.GetValue(shards), parse.GetValue(windowLength)!,
                parse.GetValue(partial), parse.GetValue(timeout), parse.GetValue(dedicated)),
            cancel));
        return command;
    }

    private sealed record Arguments(string Store, uint Org, ulong Metric, ulong[] Contexts, string From, string To, string? Step, string? Agg, string Format,
        int Shards, string WindowLength, bool Partial, string? Timeout, bool Dedicated);

    private static async Task<int> RunAsync(Arguments a, CancellationToken cancellationToken)
    {
        var format = a.Format.Trim().ToLowerInvariant();
        if (format is not ("table" or "csv" or "json"))
        {
            throw new CliException($"--format: '{a.Format}' is not an output format: use table, csv or json.", ExitCodes.BadArguments);
        }

        var from = CompactionArguments.ParseTime(a.From, "--from").ToUnixTimeSeconds();
        var to = CompactionArguments.ParseTime(a.To, "--to").ToUnixTimeSeconds();
        if (from >= to)
        {
            throw new CliException($"--from must be before --to ({DateTimeOffset.FromUnixTimeSeconds(from):u} is not before {DateTimeOffset.FromUnixTimeSeconds(to):u}): the range is [from, to).", ExitCodes.BadArguments);
        }

        if (a.Shards is < 1 or > ShardMap.MaxSharedShards)
        {
            throw new CliException($"--shards must be between 1 and {ShardMap.MaxSharedShards}.", ExitCodes.BadArguments);
        }

        TimeSpan? step = a.Step is null ? null : ParseLength(a.Step, "--step");
        if (step is { } s && (s.Ticks % TimeSpan.TicksPerSecond != 0 || s < TimeSpan.FromSeconds(1)))
        {
            throw new CliException($"--step: '{a.Step}' must be a whole number of seconds, at least 1s.", ExitCodes.BadArguments);
        }

        IReadOnlyList<QueryAggregation> aggregations = [];
        if (a.Agg is not null)
        {
            if (step is null)
            {
                throw new CliException("--agg needs --step: say how long each bucket is (e.g. --step 1h --agg avg,max).", ExitCodes.BadArguments);
            }

            if (!QueryAggregations.TryParse(a.Agg, out var parsed, out var problem))
            {
                throw new CliException($"--agg: {problem}", ExitCodes.BadArguments);
            }

            aggregations = parsed;
        }
        else if (step is not null)
        {
            aggregations = [QueryAggregation.Avg];
        }

        var windowLength = ParseLength(a.WindowLength, "--window-length");
        if (windowLength.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new CliException($"--window-length: '{a.WindowLength}' must be a whole number of minutes (e.g. 4h).", ExitCodes.BadArguments);
        }

        var request = new QueryRequest
        {
            OrgId = a.Org,
            MetricId = a.Metric,
            Contexts = a.Contexts.Length == 0 ? null : a.Contexts,
            From = from,
            To = to,
            Step = step,
            Aggregations = aggregations,
            AllowPartial = a.Partial,
            Timeout = a.Timeout is null ? null : ParseLength(a.Timeout, "--timeout"),
        };
        await using var store = CompactionArguments.OpenStore(a.Store, mustExist: true);
        var engine = new QueryEngine(store, a.Dedicated
            ? new QueryEngineOptions { ShardMap = new ShardMap(a.Shards, [a.Org]), FormerShardMaps = [new ShardMap(a.Shards)], WindowLength = windowLength }
            : new QueryEngineOptions { ShardMap = new ShardMap(a.Shards), WindowLength = windowLength });
        QueryResult result;
        try
        {
            result = await engine.QueryAsync(request, cancellationToken);
        }
        catch (QueryException e)
        {
            throw new CliException(e.Message, e.Kind == QueryErrorKind.InvalidRequest ? ExitCodes.BadArguments : ExitCodes.Failure);
        }

        using (result)
        {
            await using var stdout = Console.OpenStandardOutput();
            switch (format)
            {
                case "json":
                    await WriteJsonAsync(stdout, result, cancellationToken);
                    break;
                case "csv":
                    await WriteTextAsync(stdout, result, csv: true, cancellationToken);
                    break;
                default:
                    await WriteTextAsync(stdout, result, csv: false, cancellationToken);
                    break;
            }

            if (format != "json")
            {
                await WriteSummaryAsync(result);
            }

            foreach (var unread in result.Unread)
            {
                await Console.Error.WriteLineAsync($"warning: not read: {unread.Reason}");
            }
        }

        return ExitCodes.Success;
    }

    private static async Task WriteJsonAsync(Stream stdout, QueryResult result, CancellationToken cancellationToken)
    {
        await QueryResultJson.WriteAsync(stdout, result, cancellationToken: cancellationToken);
        await stdout.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    private static async Task WriteTextAsync(Stream stdout, QueryResult result, bool csv, CancellationToken cancellationToken)
    {
        var stepped = result.Request.Step is not null;
        var names = stepped ? result.Request.Aggregations.Count == 0 ? ["avg"] : result.Request.Aggregations.Select(QueryAggregations.Name).ToArray() : new[] { "value" };
        var text = new StringBuilder();
        if (csv)
        {
            text.Append("org,metric,context,ts,").AppendJoin(',', names).Append('\n');
        }

        await foreach (var series in result.ReadSeriesAsync(cancellationToken))
        {
            var columns = stepped ? series.Aggregations.Select(x => series.GetColumn(x)).ToArray() : [series.Values];
            if (!csv)
            {
                text.Append(CultureInfo.InvariantCulture, $"{series.Key}  {QueryResultJson.Printable(series.Metadata.Span)}  ({series.Count:N0} {(stepped ? "buckets" : "points")})\n");
                text.Append("  time                ");
                foreach (var name in names)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {name,24}");
                }

                text.Append('\n');
            }

            var timestamps = series.Timestamps;
            for (var i = 0; i < timestamps.Length; i++)
            {
                if (csv)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{series.Key.OrgId},{series.Key.MetricId},{series.Key.ContextKey},{timestamps.Span[i]}");
                    foreach (var column in columns)
                    {
                        text.Append(',').Append(column.Span[i].ToString("R", CultureInfo.InvariantCulture));
                    }
                }
                else
                {
                    text.Append("  ").Append(DateTimeOffset.FromUnixTimeSeconds(timestamps.Span[i]).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                    foreach (var column in columns)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"  {column.Span[i].ToString("R", CultureInfo.InvariantCulture),24}");
                    }
                }

                text.Append('\n');
                if (text.Length > 1 << 16)
                {
                    await stdout.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
                    text.Clear();
                }
            }
        }

        await stdout.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
        await stdout.FlushAsync(cancellationToken);
    }

    private static async Task WriteSummaryAsync(QueryResult result)
    {
        var stats = result.Stats;
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{stats.Series:N0} series, {stats.PointsReturned:N0} {(result.Request.Step is null ? "points" : "buckets")} from {stats.Windows:N0} windows ({stats.Parts:N0} parts, {stats.Reads:N0} reads, {stats.Bytes:N0} bytes) in {stats.Elapsed.TotalSeconds:0.###} s"));
        if (result.AbsentWindows.Count > 0)
        {
            await Console.Error.WriteLineAsync($"absent (no manifest): {string.Join(", ", result.AbsentWindows.Take(20))}{(result.AbsentWindows.Count > 20 ? $" and {result.AbsentWindows.Count - 20} more" : "")}");
        }
    }

    private static TimeSpan ParseLength(string text, string option)
    {
        var trimmed = text.Trim();
        if (trimmed.EndsWith('d') && double.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var days) && days > 0)
        {
            return TimeSpan.FromDays(days);
        }

        return CompactionArguments.ParseDuration(trimmed, option);
    }
}
