using System.CommandLine;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Tailor.Compaction;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor worker</c>: a compaction worker in the jobs consumer group, until Ctrl-C or SIGTERM.
/// </summary>
/// <remarks>
/// Output: without <c>--json</c>, stdout has one line per event (<c>started</c>, <c>assigned t/0</c>,
/// <c>job-started …</c>, <c>job-finished …</c>, <c>committed t/0@4</c>, <c>revoked …</c>, <c>lost …</c>,
/// <c>stopped …</c>), which scripts and tests can wait on; the log goes to stderr. With <c>--json</c>, the
/// event lines go to stderr too and stdout gets one JSON summary when the worker stops.
/// </remarks>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var kafka = new Option<string>("--kafka") { Description = "The brokers of the jobs topic, host:port,host:port.", Required = true };
        var group = new Option<string>("--group") { Description = "The consumer group every worker shares.", DefaultValueFactory = _ => CompactionWorkerOptions.DefaultGroupId };
        var topic = new Option<string>("--topic") { Description = "The jobs topic.", DefaultValueFactory = _ => CompactionWorkerOptions.DefaultTopic };
        var memory = CompactionArguments.Memory();
        var parallelism = CompactionArguments.Parallelism();
        var workDirectory = CompactionArguments.WorkDirectory();
        var attempts = new Option<int>("--max-attempts") { Description = "Attempts before a job that fails for a reason of its own is given up, logged and committed; store and disk failures are retried without limit.", DefaultValueFactory = _ => 3 };
        var stopTimeout = new Option<string>("--stop-timeout") { Description = "On SIGTERM, how long the running job may finish before it is cancelled.", DefaultValueFactory = _ => "20s" };
        var connectTimeout = new Option<string>("--connect-timeout") { Description = "How long to wait for a broker at start.", DefaultValueFactory = _ => "30s" };
        var settings = CompactionArguments.KafkaSettings();
        var json = new Option<bool>("--json") { Description = "Print one JSON summary on stdout when the worker stops, nothing else there (events go to stderr)." };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Information level on stderr; without it, only warnings and errors." };
        var managementUrls = ManagementArguments.Urls();
        var command = new Command("worker", """
            Run a compaction worker: join the jobs consumer group, run each job published by 'tailor plan
            --to-kafka' with the inputs its message names, and commit a job's offset only after the job's
            manifest is written. Start more workers with the same --group to scale; Kafka spreads the
            topic's partitions over them and hands a dead worker's partitions to the others, which run its
            unfinished job again with identical output. Ctrl-C or SIGTERM stops gracefully: the running job
            may finish (--stop-timeout), offsets are committed, the group is left.

            A job that fails because of the store or the local disk is retried until they recover and is
            never committed meanwhile; one that fails for a reason of its own (an input segment deleted) is
            given up after --max-attempts, logged with the command that reruns it, and committed.

            stdout has one line per event (started once the group has taken this worker in, assigned,
            job-started, job-retry, job-finished, committed, revoked, lost, stopped); the log goes to stderr.

            Exit codes: 0 after a graceful stop; 1 when no broker answered, the consumer failed, or a job was
            given up during the run; 2 bad arguments.

            Examples:
              tailor worker --store file:///tmp/tailor-data --kafka 127.0.0.1:9092
              tailor worker --store s3://metrics/prod --kafka broker1:9092,broker2:9092 --group tailor-compaction --memory 4GiB --work-dir /mnt/nvme/tailor
              tailor worker --store file:///tmp/tailor-data --kafka broker1:9092 --kafka-setting security.protocol=SASL_SSL --json
            """)
        {
            store,
            kafka,
            group,
            topic,
            memory,
            parallelism,
            workDirectory,
            attempts,
            stopTimeout,
            connectTimeout,
            settings,
            json,
            verbose,
            managementUrls,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var compaction = CompactionArguments.JobOptions(parse, memory, parallelism, workDirectory);
            CompactionArguments.Validate(compaction);
            var options = new CompactionWorkerOptions
            {
                BootstrapServers = parse.GetValue(kafka),
                GroupId = parse.GetValue(group)!,
                Topic = parse.GetValue(topic)!,
                Settings = CompactionArguments.ParseSettings(parse.GetValue(settings)),
                MaxAttempts = parse.GetValue(attempts),
                StopTimeout = CompactionArguments.ParseDuration(parse.GetValue(stopTimeout)!, "--stop-timeout"),
                ConnectTimeout = CompactionArguments.ParseDuration(parse.GetValue(connectTimeout)!, "--connect-timeout"),
                Compaction = compaction,
            };
            return await RunAsync(parse.GetValue(store)!, options, parse.GetValue(json), parse.GetValue(verbose), parse.GetValue(managementUrls)!, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string uri, CompactionWorkerOptions options, bool json, bool verbose, string managementUrls, CancellationToken cancellationToken)
    {
        var events = json ? Console.Error : Console.Out;
        using var logs = LoggerFactory.Create(b => b
            .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        await using var objects = CompactionArguments.OpenStore(uri, mustExist: true);
        CompactionWorker worker;
        try
        {
            worker = new CompactionWorker(objects, options, logs);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0], ExitCodes.BadArguments);
        }

        // "started" means joined: it is printed with the first assignment the group hands this worker
        // (empty when the group has more workers than the topic has partitions), never before.
        var joined = 0;
        worker.WorkerEvent += (_, e) =>
        {
            if (e.Kind == CompactionWorkerEventKind.Assigned && Interlocked.Exchange(ref joined, 1) == 0)
            {
                events.WriteLine($"started group {options.GroupId} topic {options.Topic} store {objects.Name}");
            }

            events.WriteLine(Describe(e));
        };
        var watch = Stopwatch.StartNew();
        await Console.Error.WriteLineAsync($"joining group {options.GroupId} on topic {options.Topic} at {options.BootstrapServers} …");
        await using var management = await ManagementArguments.StartAsync(managementUrls, objects, "worker",
            () => worker.Status.Joined ? null : "not a member of the jobs group yet", events, cancellationToken);
        try
        {
            await worker.RunAsync(cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0], ExitCodes.BadArguments);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && Volatile.Read(ref joined) == 0)
        {
            // Stopped before any broker answered: no job was taken, so nothing is left to finish.
            await events.WriteLineAsync("stopped before any broker answered");
            return ExitCodes.Success;
        }

        var status = worker.Status;
        await events.WriteLineAsync($"stopped received {status.Received} written {status.Written} skipped {status.Skipped} superseded {status.Superseded} "
            + $"failed {status.Failed} cancelled {status.Cancelled} invalid {status.Invalid} commits {status.Commits}");
        if (json)
        {
            JsonOutput.Write(new
            {
                options.GroupId,
                options.Topic,
                Store = objects.Name,
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
                status.Received,
                status.Written,
                status.Skipped,
                status.Superseded,
                status.Failed,
                status.Cancelled,
                status.Invalid,
                status.Commits,
                status.CommitFailures,
                status.PointsOut,
                status.BytesOut,
            });
        }

        return status.Failed > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static string Describe(CompactionWorkerEventArgs e) => e.Kind switch
    {
        CompactionWorkerEventKind.Assigned => $"assigned {Partitions(e.Partitions)}",
        CompactionWorkerEventKind.Revoked => $"revoked {Partitions(e.Partitions)}",
        CompactionWorkerEventKind.Lost => $"lost {Partitions(e.Partitions)}",
        CompactionWorkerEventKind.JobStarted => $"job-started {e.Job!.Shard.Value} {e.Job.Window} generation {e.Job.Generation} segments {e.Job.Inputs.Count} bytes {e.Job.InputBytes} at {Position(e.Position)}",
        CompactionWorkerEventKind.JobRetrying => $"job-retry {e.Job!.Shard.Value} {e.Job.Window} attempt {e.Attempts} at {Position(e.Position)}: {e.Error}",
        CompactionWorkerEventKind.JobFinished when e.Job is null => $"job-finished - - invalid at {Position(e.Position)}: {e.Error}",
        CompactionWorkerEventKind.JobFinished => $"job-finished {e.Job.Shard.Value} {e.Job.Window} {e.Outcome.ToString()!.ToLowerInvariant()} points {e.Report?.PointsOut ?? 0} "
            + $"bytes {e.Report?.BytesOut ?? 0} attempts {e.Attempts} at {Position(e.Position)}{(e.Error is null ? "" : $": {e.Error}")}",
        CompactionWorkerEventKind.Committed => $"committed {string.Join(' ', e.Offsets.Select(o => $"{o.Topic}/{o.Partition.Value}@{o.Offset.Value}"))}",
        _ => e.Kind.ToString(),
    };

    private static string Partitions(IEnumerable<TopicPartition> partitions) => string.Join(' ', partitions.Select(p => $"{p.Topic}/{p.Partition.Value}"));

    private static string Position(TopicPartitionOffset? position) => position is null ? "-" : $"{position.Topic}/{position.Partition.Value}@{position.Offset.Value}";
}
