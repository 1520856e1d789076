using System.CommandLine;
using Tailor.Format.Workload;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor gen</c>: realistic synthetic traffic from the workload generator, produced to Kafka
/// (<c>--to-kafka</c>, <see cref="GenToKafka"/>) or written as segments straight to a store
/// (<c>--store</c>, <see cref="GenToStore"/>).
/// </summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Write segments straight to this store: " + CompactionArguments.StoreHelp };
        var toKafka = new Option<string?>("--to-kafka") { Description = "Produce payloads to these brokers (host:port,...) instead." };
        var topics = new Option<string[]>("--topic", "--topics")
        {
            Description = "With --to-kafka: a topic to produce to (repeatable, or comma-separated); payloads are spread evenly over all their partitions.",
            AllowMultipleArgumentsPerToken = false,
        };
        var points = new Option<long>("--points")
        {
            Description = "How many points to generate; the last payload is written whole, so a few more can be written, and the summary says how many.",
            DefaultValueFactory = _ => 1_000_000,
        };
        var series = new Option<int>("--series") { Description = "How many series.", DefaultValueFactory = _ => 20_000 };
        var orgs = new Option<int>("--orgs") { Description = "How many orgs, Zipf-sized.", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "The seed: the same seed gives the same payloads.", DefaultValueFactory = _ => 1 };
        var shards = new Option<int?>("--shards") { Description = "With --store: shared shards of the shard map, org id mod N (default 64)." };
        var start = new Option<string?>("--start") { Description = "The first timestamp: 2026-11-26T00:00Z or Unix seconds (default 2026-11-26T00:00Z)." };
        var rate = new Option<double?>("--rate") { Description = "With --to-kafka: payloads per second, 0 for as fast as possible (default 0)." };
        var setting = new Option<string[]>("--kafka-setting")
        {
            Description = "With --to-kafka: a librdkafka producer property, key=value (repeatable), e.g. security.protocol=SASL_SSL.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary on stdout, nothing else there." };
        var command = new Command("gen", """
            Generate realistic synthetic metric traffic (Zipf-sized orgs, agent-like series, duplicated,
            late and resent points) from a seed.

            With --store, the payloads are written as segment files straight to a store, routed by org to
            shards and rotated every 10 minutes of intake time, as the sink would (no Kafka).

            With --to-kafka, each payload is one message: key = its org id (4 bytes little-endian), value =
            the payload's zstd frame. Payloads go round-robin over every partition of every topic, not by
            org, as producers spread them; --rate paces them for load tests.

            Examples:
              tailor gen --store file:///tmp/tailor-data --points 5000000
              tailor gen --store file:///tmp/tailor-data --points 200000 --series 2000 --orgs 20 --shards 4 --seed 7 --json
              tailor gen --to-kafka broker1:9092 --topic metrics-a --topic metrics-b --points 10000000 --rate 5000
              tailor gen --to-kafka 127.0.0.1:9092 --topic metrics --points 100000 --seed 7 --json
            """)
        {
            store,
            toKafka,
            topics,
            points,
            series,
            orgs,
            seed,
            shards,
            start,
            rate,
            setting,
            json,
        };
        command.SetAction((parse, cancellationToken) =>
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

            if (parse.GetValue(toKafka) is { } brokers)
            {
                if (parse.GetValue(store) is not null)
                {
                    throw new CliException("Choose one destination: --to-kafka or --store, not both.", ExitCodes.BadArguments);
                }

                RefuseUnused(parse, "--to-kafka", shards);
                return GenToKafka.RunAsync(brokers, parse.GetValue(topics) ?? [], workload, parse.GetValue(rate) ?? 0, parse.GetValue(setting) ?? [], parse.GetValue(json), cancellationToken);
            }

            if (parse.GetValue(store) is { } uri)
            {
                // Options of the other mode would be silently ignored: a --rate that paces nothing misleads.
                RefuseUnused(parse, "--store", topics, rate, setting);
                return GenToStore.RunAsync(uri, workload, parse.GetValue(shards) ?? 64, parse.GetValue(json), cancellationToken);
            }

            throw new CliException("Say where the traffic goes: --store URI (segments straight to a store) or --to-kafka BROKERS --topic a.", ExitCodes.BadArguments);
        });
        return command;
    }

    /// <summary>Refuses options given on the command line that do nothing in the chosen mode.</summary>
    private static void RefuseUnused(ParseResult parse, string mode, params Option[] options)
    {
        var given = options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
        {
            throw new CliException($"{string.Join(", ", given)} {(given.Count == 1 ? "does" : "do")} nothing with {mode}: "
                + (mode == "--store" ? "--topic, --rate and --kafka-setting are for --to-kafka." : "--shards is for --store (the sink routes by its own shard map)."), ExitCodes.BadArguments);
        }
    }
}
