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
        var topics = new Option<string?>("--topics") { Description = "With --to-kafka: the topics, comma-separated; payloads are spread evenly over all their partitions." };
        var points = new Option<long>("--points") { Description = "How many points to generate (default 1,000,000).", DefaultValueFactory = _ => 1_000_000 };
        var series = new Option<int>("--series") { Description = "How many series (default 20,000).", DefaultValueFactory = _ => 20_000 };
        var orgs = new Option<int>("--orgs") { Description = "How many orgs, Zipf-sized (default 200).", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "The seed: the same seed gives the same payloads (default 1).", DefaultValueFactory = _ => 1 };
        var shards = new Option<int>("--shards") { Description = "With --store: shared shards of the shard map, org id mod N (default 64).", DefaultValueFactory = _ => 64 };
        var start = new Option<string?>("--start") { Description = "The first timestamp: 2026-11-26T00:00Z or Unix seconds (default 2026-11-26T00:00Z)." };
        var rate = new Option<double>("--rate") { Description = "With --to-kafka: payloads per second, 0 for as fast as possible (default 0).", DefaultValueFactory = _ => 0 };
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
              tailor gen --to-kafka broker1:9092 --topics metrics-a,metrics-b --points 10000000 --rate 5000
              tailor gen --to-kafka 127.0.0.1:9092 --topics metrics --points 100000 --seed 7 --json
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

                return GenToKafka.RunAsync(brokers, parse.GetValue(topics), workload, parse.GetValue(rate), parse.GetValue(setting) ?? [], parse.GetValue(json), cancellationToken);
            }

            if (parse.GetValue(store) is { } uri)
            {
                return GenToStore.RunAsync(uri, workload, parse.GetValue(shards), parse.GetValue(json), cancellationToken);
            }

            throw new CliException("Say where the traffic goes: --store URI (segments straight to a store) or --to-kafka BROKERS --topics a,b.", ExitCodes.BadArguments);
        });
        return command;
    }
}
