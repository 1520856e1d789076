using System.CommandLine;
using Tailor.Compaction;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor plan</c>: the (shard, window) compaction jobs that have input; optionally published to the jobs topic.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var window = CompactionArguments.Window();
        var shard = new Option<string?>("--shard") { Description = "Plan this shard only (org-mod-K or org-<id>); default: every shard with input." };
        var toKafka = new Option<string?>("--to-kafka") { Description = "Publish the jobs to the jobs topic on these brokers (host:port,...) for compaction workers." };
        var topic = new Option<string>("--topic") { Description = "The jobs topic.", DefaultValueFactory = _ => CompactionWorkerOptions.DefaultTopic };
        var settings = CompactionArguments.KafkaSettings();
        var connectTimeout = new Option<string>("--connect-timeout") { Description = "With --to-kafka: how long to wait for a broker.", DefaultValueFactory = _ => "10s" };
        var early = CompactionArguments.EarlyAllowance();
        var late = CompactionArguments.LateAllowance();
        var json = CompactionArguments.Json();
        var command = new Command("plan", """
            List the compaction jobs of a window: one per shard with input segments, each with the exact
            segments (found by listing the segment hours from --early-allowance (1h) before the window to
            --late-allowance (2h) after it, and dropping those whose footer shows no point in the window), their bytes, and the
            generation that names the input set.

            With --to-kafka, publish each job as one message to the jobs topic (key "shard|window", value
            the job as JSON with its input list) for 'tailor worker' processes to run. Publishing a plan
            twice is harmless: a worker finds the manifest and does nothing.

            Examples:
              tailor plan --store file:///tmp/tailor-data --window 2026-11-26T00:00Z/4h
              tailor plan --store file:///tmp/tailor-data --window 2026-11-26T00:00Z/4h --json
              tailor plan --store s3://metrics/prod --window 2026-11-26T04:00Z/4h --to-kafka broker1:9092 --topic tailor-compaction-jobs
            """)
        {
            store,
            window,
            shard,
            toKafka,
            topic,
            settings,
            connectTimeout,
            early,
            late,
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var w = CompactionArguments.ParseWindow(parse.GetValue(window)!);
            var only = parse.GetValue(shard) is { } s ? CompactionArguments.ParseShard(s) : (Storage.ShardName?)null;
            var brokers = parse.GetValue(toKafka);
            var kafkaSettings = CompactionArguments.ParseSettings(parse.GetValue(settings));
            var timeout = CompactionArguments.ParseDuration(parse.GetValue(connectTimeout)!, "--connect-timeout");
            await using var objects = CompactionArguments.OpenStore(parse.GetValue(store)!, mustExist: true);
            var options = new CompactionOptions();
            CompactionArguments.ApplyAllowances(parse, early, late, options);
            CompactionArguments.CheckReach(w, options);
            var planner = new CompactionPlanner(objects, options);
            IReadOnlyList<CompactionJob> jobs = only is { } one
                ? [await planner.PlanAsync(one, w, cancellationToken)]
                : await planner.PlanAllAsync(w, cancellationToken);
            jobs = [.. jobs.Where(j => j.Inputs.Count > 0)];
            var (candidates, skipped) = planner.Counts;

            IReadOnlyList<PublishedJob>? published = null;
            if (brokers is not null && jobs.Count > 0)
            {
                CompactionJobPublisher publisher;
                try
                {
                    publisher = new CompactionJobPublisher(new CompactionJobPublisherOptions
                    {
                        BootstrapServers = brokers,
                        Topic = parse.GetValue(topic)!,
                        Settings = kafkaSettings,
                        ConnectTimeout = timeout,
                    });
                }
                catch (ArgumentException e)
                {
                    throw new CliException(e.Message.Split(" (Parameter", 2)[0], ExitCodes.BadArguments);
                }

                using (publisher)
                {
                    await Console.Error.WriteLineAsync($"publishing {jobs.Count} jobs to {parse.GetValue(topic)} at {brokers} …");
                    published = await publisher.PublishAsync(jobs, cancellationToken);
                }
            }

            var positions = published?.ToDictionary(p => p.Job, p => p.Position);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    Store = objects.Name,
                    Window = w.ToString(),
                    Jobs = jobs.Select(j => new
                    {
                        Shard = j.Shard.Value,
                        Window = j.Window.ToString(),
                        j.Generation,
                        Key = CompactionJobMessage.KeyOf(j),
                        Segments = j.Inputs.Count,
                        Bytes = j.InputBytes,
                        Inputs = j.Inputs.Select(i => i.Key).ToArray(),
                        MisplacedSegments = j.MisplacedInputs.Count,
                        Topic = positions?[j].Topic,
                        Partition = positions?[j].Partition.Value,
                        Offset = positions?[j].Offset.Value,
                    }).ToArray(),
                    Segments = jobs.Sum(j => j.Inputs.Count),
                    Bytes = jobs.Sum(j => j.InputBytes),
                    CandidateSegments = candidates,
                    SkippedByFooter = skipped,
                    MisplacedSegments = jobs.Sum(j => j.MisplacedInputs.Count),
                    Published = published is not null,
                    Topic = published is null ? null : parse.GetValue(topic),
                });
                return ExitCodes.Success;
            }

            if (jobs.Count == 0)
            {
                await Console.Error.WriteLineAsync($"No segments in {objects.Name} hold points of {w}{(only is { } o ? $" for {o.Value}" : "")}: nothing to compact.");
                return ExitCodes.Success;
            }

            Console.WriteLine($"{"shard",-16} {"window",-22} {"segments",9} {"bytes",14}  generation{(published is null ? "" : "  published to")}");
            foreach (var job in jobs)
            {
                var where = positions is null ? "" : $"  {positions[job].Topic}/{positions[job].Partition.Value}@{positions[job].Offset.Value}";
                Console.WriteLine($"{job.Shard.Value,-16} {job.Window,-22} {job.Inputs.Count,9:N0} {job.InputBytes,14:N0}  {job.Generation}  {where}".TrimEnd());
            }

            Console.WriteLine($"{jobs.Count} jobs, {jobs.Sum(j => j.Inputs.Count):N0} segments, {CompactionArguments.Bytes(jobs.Sum(j => j.InputBytes))}; {skipped} of {candidates} candidate segments skipped by their footer");
            var misplaced = jobs.SelectMany(j => j.MisplacedInputs).ToList();
            if (misplaced.Count > 0)
            {
                Console.WriteLine($"{misplaced.Count} segments lie in another <p> folder than the sink's rule gives (first: {misplaced[0]}); they are planned and read all the same");
            }

            if (published is not null)
            {
                Console.WriteLine($"published {published.Count} jobs to {parse.GetValue(topic)} at {brokers}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
