using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Tailor.Format.Payloads;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// Sink workers as processes: <c>tailor sink</c> killed with SIGKILL and restarted, its error messages,
/// <c>tailor gen --to-kafka</c>, and the <c>samples/SinkHost</c> Generic Host.
/// </summary>
[Collection(SinkIntegrationCollection.Name)]
public sealed class WorkerProcessTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>, IDisposable
{
    private static readonly string Tailor = Path.Combine(AppContext.BaseDirectory, "tailor.dll");
    private static readonly string SinkHost = Path.Combine(AppContext.BaseDirectory, "Tailor.SinkHost.dll");
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("tailor-sink-proc-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task A_worker_process_killed_five_times_at_random_moments_loses_nothing_and_duplicates_only_what_was_uncommitted()
    {
        const int Count = 12_000;
        const int Kills = 5;
        const int Seed = 20261126;
        var random = new Random(Seed);
        string[] topics = [await kafka.CreateTopicAsync(4, "crash-a"), await kafka.CreateTopicAsync(4, "crash-b")];
        var group = kafka.NewGroupId("crash");
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 61);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        var storePath = Path.Combine(_root.FullName, "store");
        var config = WriteConfig("crash.json", storePath, group, topics);
        var clock = Stopwatch.StartNew();

        // Traffic flows through the whole run, about 250 payloads a second, never more than 3 MiB ahead of
        // the group's commit in any partition (the mock keeps only a partition's last 5 MiB).
        using var stopProducing = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            for (var i = 0; i < Count; i += 25)
            {
                await tick.WaitForNextTickAsync(stopProducing.Token);
                await traffic.ProduceInStepAsync(i, Math.Min(25, Count - i), batch: 25, offsets, cancellationToken: stopProducing.Token);
            }
        });

        // Kill a worker at a random moment after it joined, five times; note the group's commit and the
        // partitions' ends at each kill: what the next worker may read twice lies between them.
        var windows = new List<(Dictionary<TopicPartition, long> Committed, Dictionary<TopicPartition, long> Ends)>();
        for (var kill = 1; kill <= Kills; kill++)
        {
            await using var worker = StartSink(config);
            await worker.WaitForLineAsync(l => l.StartsWith("assigned ", StringComparison.Ordinal), IntegrationSettings.Timeout);
            var after = TimeSpan.FromMilliseconds(random.Next(300, 4000));
            await Task.Delay(after); // the random moment of the crash, not a wait for anything
            worker.Kill();
            Assert.Equal(137, await worker.WaitForExitAsync(IntegrationSettings.Timeout));
            var committed = await offsets.CommittedAsync();
            var ends = await offsets.HighWatermarksAsync();
            windows.Add((committed, ends));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: kill {kill}, {after.TotalMilliseconds:F0} ms after the first assignment; {traffic.Produced} produced; " +
                $"uncommitted {ends.Sum(e => e.Value - committed.GetValueOrDefault(e.Key))}: committed {GroupOffsets.Format(committed)}");
        }

        // A last worker sees the run through and stops gracefully on SIGTERM; with --json its stdout is
        // one JSON summary and nothing else.
        await using (var last = ChildProcess.StartDotnet(Tailor, ["sink", "--config", config, "--json"]))
        {
            await producing;
            await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, last.Describe);
            last.Terminate();
            Assert.Equal(0, await last.WaitForExitAsync(IntegrationSettings.Timeout));
            await last.WaitForLineAsync(_ => false, TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
            using var summary = JsonDocument.Parse(string.Join('\n', last.Lines));
            Assert.True(summary.RootElement.GetProperty("payloads").GetInt64() > 0);
            Assert.Equal(0, summary.RootElement.GetProperty("segments_failed").GetInt64());
            Assert.Contains("stopped payloads", last.StandardError, StringComparison.Ordinal);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the last worker stopped: {summary.RootElement}");
        }

        // Every payload at least once; every extra copy lies in what was uncommitted at some kill.
        await using var store = new LocalObjectStore(storePath);
        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Unknown);
        Assert.Empty(stored.Missing(Count));
        var bound = windows.Sum(w => w.Ends.Sum(e => e.Value - w.Committed.GetValueOrDefault(e.Key)));
        output.WriteLine($"{Count} payloads, {stored.ExtraCopies} duplicates, at most {bound} possible (uncommitted at the kills); seed {Seed}");
        Assert.InRange(stored.ExtraCopies, 0, bound);
        foreach (var (index, copies) in stored.Copies.Where(c => c.Value > 1))
        {
            var at = traffic.PositionOf(index);
            var windowsHolding = windows.Count(w => w.Committed.GetValueOrDefault(at.TopicPartition) <= at.Offset.Value && at.Offset.Value < w.Ends[at.TopicPartition]);
            Assert.True(windowsHolding >= copies - 1, $"payload {index} at {at} is stored {copies} times but was uncommitted at only {windowsHolding} kills");
        }
    }

    [Fact]
    public async Task Tailor_sink_explains_a_missing_file_bad_json_an_unknown_store_and_unreachable_brokers()
    {
        var missing = Path.Combine(_root.FullName, "missing.json");
        var badJson = Path.Combine(_root.FullName, "bad.json");
        await File.WriteAllTextAsync(badJson, "{ \"Store\": \"file:///tmp/x\",\n  \"Kafka\": { \"Topics\": [\"a\" }\n}");
        var ftp = WriteConfig("ftp.json", "/unused", "g", ["a"], store: "ftp://bucket/prefix");
        var unreachable = WriteConfig("unreachable.json", Path.Combine(_root.FullName, "store"), "g", ["a"], brokers: "127.0.0.1:1", connectTimeout: "00:00:03");

        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(
            RunToEndAsync(Tailor, ["sink", "--config", missing]),
            RunToEndAsync(Tailor, ["sink", "--config", badJson]),
            RunToEndAsync(Tailor, ["sink", "--config", ftp]),
            RunToEndAsync(Tailor, ["sink", "--config", unreachable]),
            RunToEndAsync(Tailor, ["sink", "--config", unreachable, "--replay-from", "last tuesday"]));
        output.WriteLine(string.Join("\n", results.Select(r => $"exit {r.Code}: {r.Error.Trim()}")));
        output.WriteLine($"all five in {watch.ElapsedMilliseconds} ms");

        Assert.Equal(2, results[0].Code);
        Assert.Contains($"No such config file: {missing}", results[0].Error, StringComparison.Ordinal);
        Assert.Equal(2, results[1].Code);
        Assert.Contains("is not valid JSON", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("LineNumber: 1", results[1].Error, StringComparison.Ordinal);
        Assert.Equal(2, results[2].Code);
        Assert.Contains("unknown scheme 'ftp'", results[2].Error, StringComparison.Ordinal);
        Assert.Equal(1, results[3].Code);
        Assert.Contains("No Kafka broker at 127.0.0.1:1 answered within 3 s", results[3].Error, StringComparison.Ordinal);
        Assert.Equal(2, results[4].Code);
        Assert.Contains("--replay-from 'last tuesday' is not a time", results[4].Error, StringComparison.Ordinal);
        Assert.All(results, r => Assert.DoesNotContain("Unhandled exception", r.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tailor_gen_to_kafka_spreads_workload_payloads_evenly_over_every_partition_keyed_by_org()
    {
        string[] topics = [await kafka.CreateTopicAsync(4, "gen-a"), await kafka.CreateTopicAsync(4, "gen-b")];
        var run = await RunToEndAsync(Tailor, ["gen", "--to-kafka", kafka.BootstrapServers, "--topics", string.Join(',', topics), "--points", "50000", "--series", "500", "--orgs", "20", "--seed", "3", "--json"]);
        output.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.Code);
        using var summary = JsonDocument.Parse(run.Output);
        var payloads = summary.RootElement.GetProperty("payloads").GetInt64();
        Assert.Equal(8, summary.RootElement.GetProperty("partitions").GetInt32());
        Assert.True(summary.RootElement.GetProperty("points").GetInt64() >= 50_000);
        Assert.True(summary.RootElement.GetProperty("bytes").GetInt64() / 8 < 4 << 20, "nobody consumes here: stay under the mock's 5 MiB per partition");

        // Read every partition back: an even spread, org keys, and valid payloads of that org.
        var config = kafka.ConsumerConfig(kafka.NewGroupId());
        using var reader = new ConsumerBuilder<byte[], byte[]>(config).Build();
        using var decoder = new PayloadDecoder();
        var perPartition = new Dictionary<TopicPartition, int>();
        var orgs = new HashSet<uint>();
        foreach (var partition in topics.SelectMany(t => Enumerable.Range(0, 4).Select(p => new TopicPartition(t, p))))
        {
            var end = reader.QueryWatermarkOffsets(partition, IntegrationSettings.Timeout).High.Value;
            reader.Assign(new TopicPartitionOffset(partition, 0));
            var count = 0;
            while (count < end)
            {
                var message = reader.Consume(IntegrationSettings.Timeout) ?? throw new TimeoutException($"{partition}: {count} of {end} read");
                Assert.True(PayloadFormat.TryReadKey(message.Message.Key, out var org));
                Assert.Equal(PayloadStatus.Ok, decoder.TryValidate(message.Message.Value, out var payload));
                Assert.Equal(org, payload.OrgId);
                orgs.Add(org);
                count++;
            }

            perPartition[partition] = count;
        }

        Assert.Equal(payloads, perPartition.Values.Sum());
        Assert.InRange(perPartition.Values.Max() - perPartition.Values.Min(), 0, 1);
        Assert.True(orgs.Count >= 10, $"only {orgs.Count} orgs");
    }

    [Fact]
    public async Task The_SinkHost_sample_configured_by_environment_writes_every_payload_once_and_stops_on_SIGTERM()
    {
        const int Count = 1500;
        string[] topics = [await kafka.CreateTopicAsync(4, "host-a"), await kafka.CreateTopicAsync(4, "host-b")];
        var group = kafka.NewGroupId("host");
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 71);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        var storePath = Path.Combine(_root.FullName, "host-store");
        var environment = new Dictionary<string, string>
        {
            ["Tailor__Sink__Store"] = new Uri(storePath).AbsoluteUri,
            ["Tailor__Sink__ShardMap__SharedShards"] = "8",
            ["Tailor__Sink__Engine__MaxSegmentAge"] = "00:00:01",
            ["Tailor__Sink__Engine__CommitInterval"] = "00:00:00.200",
            ["Tailor__Sink__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["Tailor__Sink__Kafka__Topics"] = string.Join(',', topics),
            ["Tailor__Sink__Kafka__GroupId"] = group,
            ["Tailor__Sink__Kafka__SessionTimeout"] = "00:00:03",
            ["Tailor__Sink__Kafka__HeartbeatInterval"] = "00:00:01",
            ["Tailor__Sink__Kafka__FetchWaitMax"] = "00:00:00.100",
        };
        await using var host = ChildProcess.StartDotnet(SinkHost, [], environment);
        await traffic.ProduceInStepAsync(0, Count, batch: 500, offsets);
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, host.Describe);
        host.Terminate();
        Assert.Equal(0, await host.WaitForExitAsync(IntegrationSettings.Timeout));
        output.WriteLine(string.Join('\n', host.Lines));

        await using var store = new LocalObjectStore(storePath);
        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Missing(Count));
        Assert.Equal(Count, stored.Records.Count);
        Assert.Contains(host.Lines, l => l.Contains("stopped: 1500 payloads", StringComparison.Ordinal));
    }

    private ChildProcess StartSink(string config) => ChildProcess.StartDotnet(Tailor, ["sink", "--config", config]);

    private static async Task<(int Code, string Output, string Error)> RunToEndAsync(string assembly, string[] arguments)
    {
        await using var process = ChildProcess.StartDotnet(assembly, arguments);
        var code = await process.WaitForExitAsync(IntegrationSettings.Timeout);

        // The exit can be seen before the last lines are read: wait for the end of the output.
        await process.WaitForLineAsync(_ => false, TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        return (code, string.Join('\n', process.Lines), process.StandardError);
    }

    private string WriteConfig(string name, string storePath, string group, IReadOnlyList<string> topics, string? store = null, string? brokers = null, string connectTimeout = "00:00:10")
    {
        var path = Path.Combine(_root.FullName, name);
        var config = new
        {
            Store = store ?? new Uri(storePath).AbsoluteUri,
            ShardMap = new { SharedShards = 8 },
            Engine = new { MaxSegmentAge = "00:00:01", MaxSegmentPayloads = 200, CommitInterval = "00:00:00.200", StopDeadline = "00:00:30" },
            Kafka = new
            {
                BootstrapServers = brokers ?? kafka.BootstrapServers,
                Topics = topics,
                GroupId = group,
                SessionTimeout = "00:00:03",
                HeartbeatInterval = "00:00:01",
                MaxPollInterval = "00:00:30",
                FetchWaitMax = "00:00:00.100",
                ConnectTimeout = connectTimeout,
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
