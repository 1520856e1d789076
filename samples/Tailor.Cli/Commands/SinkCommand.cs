using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Tailor.Sink;
using Tailor.Sink.Hosting;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor sink --config FILE [--replay-from TIME]</c>: one sink worker against a real cluster and
/// store, until Ctrl-C or SIGTERM, then a graceful stop (complete, upload, commit, leave the group).
/// </summary>
/// <remarks>
/// Output: without <c>--json</c>, stdout has one line per event (<c>started</c>, <c>assigned t/0 t/1</c>,
/// <c>revoked …</c>, <c>lost …</c>, <c>stopped …</c>, and with <c>--print-commits</c> <c>committed t/0@120 …</c>
/// or <c>commit-refused …</c> after every commit), which scripts and tests can wait on; the log and a
/// progress line every 10 s go to stderr. With <c>--json</c>, the event lines go to stderr too and stdout
/// gets one JSON summary when the worker stops.
/// </remarks>
internal static class SinkCommand
{
    /// <summary>The prefix of environment variables that override the config file.</summary>
    public const string EnvironmentPrefix = "TAILOR_";

    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The worker's JSON config file (see below).", Required = true };
        var replayFrom = new Option<string?>("--replay-from")
        {
            Description = "Re-read every partition from this time on the first assignment: 2026-11-26T03:00Z, or a duration ago such as 90m, 6h, 2d.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary on stdout when the worker stops, nothing else there." };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Information level; without it, only warnings and errors." };
        var managementUrls = ManagementArguments.Urls();
        var printCommits = new Option<bool>("--print-commits")
        {
            Description = "Print an event line after every offset commit: 'committed t/0@120 t/1@98' when the group accepted it, "
                + "'commit-refused …' when it refused it (offsets are the next to read). For scripts and game-day tests that check which offsets this worker moved.",
        };
        var command = new Command("sink", """
            Run a sink worker: consume payloads from Kafka (one consumer group over the configured topics)
            and write them to segment files in the store. Start more workers with the same config to scale;
            the group rebalances by itself. Ctrl-C or SIGTERM stops gracefully: open segments are completed
            and uploaded, offsets committed, the group left.

            Config file (JSON; every key may be overridden by an environment variable TAILOR_<KEY> with
            "__" between levels, e.g. TAILOR_KAFKA__BOOTSTRAPSERVERS, TAILOR_KAFKA__TOPICS=a,b,
            TAILOR_KAFKA__SETTINGS__SASL_PASSWORD):
              {
                "Store": "s3://bucket/prefix?endpoint=http://127.0.0.1:9000",   // or file:///path
                "ShardMap": { "SharedShards": 64, "Dedicated": [1234] },        // or "shards.json"
                "Engine": { "MaxSegmentAge": "00:10:00", "MaxSegmentPayloads": 100000,
                            "BufferBudgetBytes": 268435456 },
                "Kafka": { "BootstrapServers": "broker1:9092,broker2:9092",
                           "Topics": ["metrics-a", "metrics-b"], "GroupId": "tailor-sink",
                           "Settings": { "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN" } }
              }

            Examples:
              tailor sink --config sink.json
              TAILOR_KAFKA__GROUPID=tailor-replay tailor sink --config sink.json --replay-from 6h
            """)
        {
            config,
            replayFrom,
            json,
            verbose,
            printCommits,
            managementUrls,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(config)!, parse.GetValue(replayFrom), parse.GetValue(json), parse.GetValue(verbose), parse.GetValue(printCommits), parse.GetValue(managementUrls)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string configPath, string? replayFrom, bool json, bool verbose, bool printCommits, string managementUrls, CancellationToken cancellationToken)
    {
        var options = LoadConfig(configPath, Environment.GetEnvironmentVariables());
        if (replayFrom is not null)
        {
            options.Kafka.ReplayFrom = ParseTime(replayFrom, DateTimeOffset.UtcNow);
        }

        var events = json ? Console.Error : Console.Out;
        using var logs = LoggerFactory.Create(b => b
            .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var logger = logs.CreateLogger("Tailor.Cli.Sink");
        IObjectStore store;
        try
        {
            store = ObjectStoreFactory.Open(options.Store!, new ObjectStoreOptions { S3 = { Logger = logs.CreateLogger("Tailor.Storage") } });
        }
        catch (Exception e) when (e is FormatException or ObjectStoreException or ArgumentException)
        {
            throw new CliException($"{configPath}: Store: {e.Message}", ExitCodes.BadArguments);
        }

        await using var disposeStore = store;
        KafkaPayloadSource kafka;
        try
        {
            kafka = new KafkaPayloadSource(options.Kafka, logs.CreateLogger<KafkaPayloadSource>());
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{configPath}: Kafka: {e.Message}", ExitCodes.BadArguments);
        }

        using var source = new ReportingSource(kafka, events, printCommits);
        var watch = Stopwatch.StartNew();
        var engine = new SinkEngine(options.Engine, store, source, logs.CreateLogger<SinkEngine>());
        await using var disposeEngine = engine;
        await events.WriteLineAsync($"started writer {ObjectKeys.FormatWriterId(engine.WriterId)} group {options.Kafka.GroupId} topics {string.Join(',', options.Kafka.Topics)} store {store.Name}"
            + (options.Kafka.ReplayFrom is { } from ? $" replay-from {from:O}" : string.Empty));
        await using var management = await ManagementArguments.StartAsync(managementUrls, store, "sink",
            () => engine.AssignedPartitions > 0 ? null : "no partitions assigned yet", events, cancellationToken);
        var run = engine.RunAsync(cancellationToken);
        using (var progress = new Timer(_ => Progress(engine.Status, watch.Elapsed), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)))
        {
            try
            {
                await run;
            }
            catch (TimeoutException e)
            {
                throw new CliException(e.Message, ExitCodes.Failure);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped while waiting for a broker: nothing was consumed, so nothing is left to complete.
                await events.WriteLineAsync("stopped before any broker answered");
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
            {
                logger.LogError(e, "The sink worker failed");
                throw new CliException($"The sink worker failed: {e.Message}", ExitCodes.Failure);
            }
        }

        var status = engine.Status;
        await events.WriteLineAsync($"stopped payloads {status.Payloads} bytes {status.Bytes} segments {status.SegmentsCompleted} failed_segments {status.SegmentsFailed} dead_letters {status.DeadLetters} rewinds {status.Rewinds}");
        if (json)
        {
            JsonOutput.Write(new
            {
                WriterId = ObjectKeys.FormatWriterId(engine.WriterId),
                options.Kafka.GroupId,
                options.Kafka.Topics,
                Store = store.Name,
                ReplayFrom = options.Kafka.ReplayFrom,
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
                status.Payloads,
                status.Bytes,
                status.SegmentsCompleted,
                status.SegmentsFailed,
                status.DeadLetters,
                status.Rewinds,
                status.PeakBufferedBytes,
                BufferBudgetBytes = options.Engine.BufferBudgetBytes,
            });
        }

        return ExitCodes.Success;
    }

    /// <summary>Reads the config file, applies <c>TAILOR_</c> environment overrides, and checks every value.</summary>
    /// <exception cref="CliException">The file is missing or not JSON, or a value is wrong; the message names the file and the key.</exception>
    internal static SinkWorkerOptions LoadConfig(string path, System.Collections.IDictionary environment)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new CliException($"No such config file: {path}", ExitCodes.BadArguments);
        }

        IConfigurationRoot root;
        try
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (System.Collections.DictionaryEntry entry in environment)
            {
                if (entry.Key is string key && key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    overrides[key[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = entry.Value as string;
                }
            }

            root = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false).AddInMemoryCollection(overrides).Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or JsonException)
        {
            // The JSON parser's own message has the line and position; the wrappers around it do not.
            var detail = e.Message;
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                detail = inner.Message;
                if (inner is JsonException)
                {
                    break;
                }
            }

            throw new CliException($"{path} is not valid JSON: {detail}", ExitCodes.BadArguments);
        }

        try
        {
            var options = SinkWorkerOptions.Bind(root, Path.GetDirectoryName(full));
            options.Validate();
            return options;
        }
        catch (ArgumentException e) when (e.ParamName is { } name && ConfigKey(name) is { } key)
        {
            // The options name a property; the user wrote a key of the config file (or TAILOR_ variable).
            var message = e.Message.Split(" (Parameter", 2)[0];
            throw new CliException($"{path}: {(message.StartsWith(name, StringComparison.Ordinal) ? key + message[name.Length..] : $"{key}: {message}")}", ExitCodes.BadArguments);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or FileNotFoundException)
        {
            throw new CliException($"{path}: {e.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadArguments);
        }
    }

    /// <summary>The config key (<c>Engine:BufferBudgetBytes</c>) of an option property, or null when none has that name.</summary>
    private static string? ConfigKey(string property)
    {
        foreach (var (section, type) in new[] { ("Engine", typeof(SinkOptions)), ("Kafka", typeof(KafkaPayloadSourceOptions)), ("ShardMap", typeof(ShardMapOptions)) })
        {
            if (type.GetProperty(property) is not null)
            {
                return $"{section}:{property}";
            }
        }

        return property == nameof(SinkWorkerOptions.Store) ? property : null;
    }

    /// <summary>Parses a time: ISO 8601 (UTC unless an offset is given), or a duration ago (<c>90m</c>, <c>6h</c>, <c>2d</c>, <c>30s</c>).</summary>
    /// <exception cref="CliException">Neither form.</exception>
    internal static DateTimeOffset ParseTime(string text, DateTimeOffset now)
    {
        var trimmed = text.Trim();
        if (trimmed.Length >= 2 && long.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? ago = trimmed[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (ago is { } duration)
            {
                return now - duration;
            }
        }

        if (DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new CliException($"--replay-from '{text}' is not a time: use 2026-11-26T03:00Z or a duration ago such as 90m, 6h or 2d.", ExitCodes.BadArguments);
    }

    private static void Progress(SinkStatus status, TimeSpan elapsed) =>
        Console.Error.WriteLine($"{elapsed:hh\\:mm\\:ss} progress: {status.Payloads} payloads, {status.SegmentsCompleted} segments, {status.OpenSegments} open, "
            + $"{status.BufferedBytes / 1024} KiB buffered, {status.PausedPartitions} partitions paused, {status.DeadLetters} dead letters");

    /// <summary>Passes every call to the Kafka source and prints each assignment change (and, if asked, each commit) as a line.</summary>
    private sealed class ReportingSource(KafkaPayloadSource inner, TextWriter events, bool printCommits) : IPayloadSource, IPayloadSourceListener
    {
        private IPayloadSourceListener? _listener;

        public string Name => inner.Name;

        public void Start(IPayloadSourceListener listener) => Start(listener, CancellationToken.None);

        public void Start(IPayloadSourceListener listener, CancellationToken cancellationToken)
        {
            _listener = listener;
            inner.Start(this, cancellationToken);
        }

        public bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken) => inner.TryReceive(timeout, out message, cancellationToken);

        public bool Commit(IReadOnlyList<SourceOffset> offsets)
        {
            var accepted = inner.Commit(offsets);
            if (printCommits)
            {
                events.WriteLine($"{(accepted ? "committed" : "commit-refused")} {string.Join(' ', offsets.Select(o => $"{o.Partition.Topic}/{o.Partition.Partition}@{o.Offset}"))}");
            }

            return accepted;
        }

        public void Pause(IReadOnlyList<SourcePartition> partitions) => inner.Pause(partitions);

        public void Resume(IReadOnlyList<SourcePartition> partitions) => inner.Resume(partitions);

        public void Seek(SourcePartition partition, long offset) => inner.Seek(partition, offset);

        public long? GetCommitted(SourcePartition partition) => inner.GetCommitted(partition);

        public IReadOnlyList<PartitionLag> GetLag() => inner.GetLag();

        public void Close() => inner.Close();

        public void Dispose() => inner.Dispose();

        void IPayloadSourceListener.OnAssigned(IReadOnlyList<SourcePartition> partitions)
        {
            _listener!.OnAssigned(partitions);
            Print("assigned", partitions);
        }

        void IPayloadSourceListener.OnRevoking(IReadOnlyList<SourcePartition> partitions)
        {
            _listener!.OnRevoking(partitions);
            Print("revoked", partitions);
        }

        void IPayloadSourceListener.OnLost(IReadOnlyList<SourcePartition> partitions)
        {
            _listener!.OnLost(partitions);
            Print("lost", partitions);
        }

        private void Print(string what, IReadOnlyList<SourcePartition> partitions) =>
            events.WriteLine($"{what} {string.Join(' ', partitions.Select(p => $"{p.Topic}/{p.Partition}"))}");
    }
}
