using System.CommandLine;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor gen</c>: realistic synthetic traffic from the workload generator, produced to Kafka
/// (<c>--to-kafka</c>, <see cref="GenToKafka"/>) or written as segments straight to a store (<c>--store</c>).
/// </summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Write segments straight to this store (file:///path or s3://bucket/prefix)." };
        var toKafka = new Option<string?>("--to-kafka") { Description = "Produce payloads to these brokers (host:port,...) instead." };
        var topics = new Option<string?>("--topics") { Description = "With --to-kafka: the topics, comma-separated; payloads are spread evenly over all their partitions." };
        var points = new Option<long>("--points") { Description = "How many points to generate (default 1,000,000).", DefaultValueFactory = _ => 1_000_000 };
        var series = new Option<int>("--series") { Description = "How many series (default 20,000).", DefaultValueFactory = _ => 20_000 };
        var orgs = new Option<int>("--orgs") { Description = "How many orgs, Zipf-sized (default 200).", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "The seed: the same seed gives the same payloads (default 1).", DefaultValueFactory = _ => 1 };
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

            With --to-kafka, each payload is one message: key = its org id (4 bytes little-endian), value =
            the payload's zstd frame. Payloads go round-robin over every partition of every topic, not by
            org, as producers spread them; --rate paces them for load tests.

            Examples:
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
            rate,
            setting,
            json,
        };
        command.SetAction((parse, cancellationToken) => SinkCommand.ReportingFailuresAsync(() =>
        {
            var workload = new Tailor.Format.Workload.WorkloadOptions
            {
                Seed = parse.GetValue(seed),
                Series = parse.GetValue(series),
                Orgs = parse.GetValue(orgs),
                TargetPoints = parse.GetValue(points),
            };
            if (parse.GetValue(toKafka) is { } brokers)
            {
                return GenToKafka.RunAsync(brokers, parse.GetValue(topics), workload, parse.GetValue(rate), parse.GetValue(setting) ?? [], parse.GetValue(json), cancellationToken);
            }

            if (parse.GetValue(store) is not null)
            {
                throw new CliException("gen --store is not available in this build yet; use --to-kafka.", ExitCodes.BadArguments);
            }

            throw new CliException("Say where the traffic goes: --to-kafka BROKERS --topics a,b (or --store URI).", ExitCodes.BadArguments);
        }));
        return command;
    }
}
