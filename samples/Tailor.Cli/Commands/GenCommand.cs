using System.CommandLine;
using Tailor.Format.Workload;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor gen --store URI</c>: realistic synthetic traffic from the workload generator, written as
/// segments straight to a store (<see cref="GenToStore"/>), with no Kafka in between.
/// </summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Write segments straight to this store: " + CompactionArguments.StoreHelp };
        var points = new Option<long>("--points") { Description = "How many points to generate (default 1,000,000).", DefaultValueFactory = _ => 1_000_000 };
        var series = new Option<int>("--series") { Description = "How many series (default 20,000).", DefaultValueFactory = _ => 20_000 };
        var orgs = new Option<int>("--orgs") { Description = "How many orgs, Zipf-sized (default 200).", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "The seed: the same seed gives the same payloads (default 1).", DefaultValueFactory = _ => 1 };
        var shards = new Option<int>("--shards") { Description = "Shared shards of the shard map, org id mod N (default 64).", DefaultValueFactory = _ => 64 };
        var start = new Option<string?>("--start") { Description = "The first timestamp: 2026-11-26T00:00Z or Unix seconds (default 2026-11-26T00:00Z)." };
        var json = CompactionArguments.Json();
        var command = new Command("gen", """
            Generate realistic synthetic metric traffic (Zipf-sized orgs, agent-like series, duplicated,
            late and resent points) from a seed, and write it as segment files straight to a store,
            routed by org to shards and rotated every 10 minutes of intake time, as the sink would.
            Prints payloads, points, segments, bytes and the windows that now have input.

            Examples:
              tailor gen --store file:///tmp/tailor-data --points 5000000
              tailor gen --store file:///tmp/tailor-data --points 200000 --series 2000 --orgs 20 --shards 4 --seed 7 --json
              tailor gen --store "s3://metrics/dev?endpoint=http://127.0.0.1:9000" --points 1000000 --start 2026-11-26T04:00Z
            """)
        {
            store,
            points,
            series,
            orgs,
            seed,
            shards,
            start,
            json,
        };
        command.SetAction((parse, cancellationToken) => CompactionArguments.RunAsync(() =>
        {
            var workload = new WorkloadOptions
            {
                Seed = parse.GetValue(seed),
                Series = parse.GetValue(series),
                Orgs = parse.GetValue(orgs),
                TargetPoints = parse.GetValue(points),
            };
            if (parse.GetValue(start) is { } first)
            {
                workload.StartTime = CompactionArguments.ParseTime(first, "--start").ToUnixTimeSeconds();
            }

            if (parse.GetValue(store) is { } uri)
            {
                return GenToStore.RunAsync(uri, workload, parse.GetValue(shards), parse.GetValue(json), cancellationToken);
            }

            throw new CliException("Say where the traffic goes: --store URI (segments written straight to a store).", ExitCodes.BadArguments);
        }));
        return command;
    }
}
