using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tailor.Sink.Hosting;
using Tailor.Sink.Kafka;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// <c>AddTailorSink</c> in a Generic Host writing to s3rver (a real S3 API server), and how sink
/// worker options are bound from configuration.
/// </summary>
[Collection(SinkIntegrationCollection.Name)]
public sealed class HostingTests(KafkaClusterFixture kafka, S3rverFixture s3, ITestOutputHelper output)
    : IClassFixture<KafkaClusterFixture>, IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task A_generic_host_with_AddTailorSink_writes_every_payload_exactly_once_to_s3rver()
    {
        const int Count = 2000;
        string[] topics = [await kafka.CreateTopicAsync(4, "s3-a"), await kafka.CreateTopicAsync(4, "s3-b")];
        var group = kafka.NewGroupId("s3");
        using var traffic = new Traffic(kafka, topics, partitionsPerTopic: 4, Count, seed: 81);
        using var offsets = new GroupOffsets(kafka, group, traffic.Partitions);
        await using var store = await s3.CreateStoreAsync("sink");
        using var logs = new TestOutputLogs(output);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tailor:Sink:ShardMap:SharedShards"] = "8",
            ["Tailor:Sink:Engine:MaxSegmentAge"] = "00:00:01",
            ["Tailor:Sink:Engine:MaxSegmentPayloads"] = "300",
            ["Tailor:Sink:Engine:CommitInterval"] = "00:00:00.200",
            ["Tailor:Sink:Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Tailor:Sink:Kafka:Topics:0"] = topics[0],
            ["Tailor:Sink:Kafka:Topics:1"] = topics[1],
            ["Tailor:Sink:Kafka:GroupId"] = group,
            ["Tailor:Sink:Kafka:SessionTimeout"] = "00:00:03",
            ["Tailor:Sink:Kafka:HeartbeatInterval"] = "00:00:01",
            ["Tailor:Sink:Kafka:FetchWaitMax"] = "00:00:00.100",
        });
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.Services.AddSingleton<IObjectStore>(store); // the container's store: the worker uses it and leaves it open
        builder.Services.AddTailorSink(builder.Configuration.GetSection("Tailor:Sink"));
        using var host = builder.Build();
        await host.StartAsync();
        await traffic.ProduceInStepAsync(0, Count, batch: 500, offsets);
        var worker = host.Services.GetRequiredService<SinkWorkerService>();
        await offsets.WaitForCommitsAsync(traffic.Ends(), IntegrationSettings.Timeout, () => $"{worker.Status}");
        await host.StopAsync();
        output.WriteLine($"stopped: {worker.Status}");

        var stored = await StoredFrames.ReadAsync(store, traffic);
        Assert.Empty(stored.Missing(Count));
        Assert.Equal(Count, stored.Records.Count);
        Assert.All(stored.Records, r => Assert.Contains(ObjectKeys.FormatWriterId(worker.WriterId!.Value), r.Key, StringComparison.Ordinal));
        Assert.Equal(Count, worker.Status!.Payloads);
        Assert.Empty(s3.PendingUploadIds(store.Bucket));
    }

    [Fact]
    public void Options_bind_from_configuration_with_comma_topics_a_shard_map_file_and_passed_through_settings()
    {
        var folder = Directory.CreateTempSubdirectory("tailor-bind-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "shards.json"), "{\"sharedShards\": 16, \"dedicated\": [42]}");
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Store"] = "file:///tmp/tailor",
                ["ShardMap"] = "shards.json",
                ["Engine:MaxSegmentAge"] = "00:05:00",
                ["Engine:BufferBudgetBytes"] = "67108864",
                ["KAFKA:BOOTSTRAPSERVERS"] = "b1:9092,b2:9092",
                ["Kafka:Topics"] = "metrics-a, metrics-b",
                ["Kafka:ReplayFrom"] = "2026-11-26T03:00:00Z",
                ["Kafka:Settings:security.protocol"] = "SASL_SSL",
                ["Kafka:Settings:SASL_PASSWORD"] = "secret",
            }).Build();

            var options = SinkWorkerOptions.Bind(configuration, folder.FullName);
            options.Validate();
            Assert.Equal(["metrics-a", "metrics-b"], options.Kafka.Topics);
            Assert.Equal("b1:9092,b2:9092", options.Kafka.BootstrapServers);
            Assert.Equal(16, options.Engine.ShardMap.SharedShards);
            Assert.Equal("org-42", options.Engine.ShardMap.Route(42).Value);
            Assert.Equal(TimeSpan.FromMinutes(5), options.Engine.MaxSegmentAge);
            Assert.Equal(64L << 20, options.Engine.BufferBudgetBytes);
            Assert.Equal(new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero), options.Kafka.ReplayFrom);

            var consumer = options.Kafka.ToConsumerConfig();
            Assert.Equal("SASL_SSL", consumer.Get("security.protocol"));
            Assert.Equal("secret", consumer.Get("sasl.password"));
            Assert.Equal(PartitionAssignmentStrategy.CooperativeSticky, consumer.PartitionAssignmentStrategy);
            Assert.False(consumer.EnableAutoCommit);
            Assert.False(consumer.EnableAutoOffsetStore);
            Assert.Equal(AutoOffsetReset.Earliest, consumer.AutoOffsetReset);
            Assert.Equal(16 * 1024, consumer.QueuedMaxMessagesKbytes);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bad_options_are_refused_with_a_message_naming_the_setting()
    {
        static string Refusal(Dictionary<string, string?> values)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            var e = Record.Exception(() => SinkWorkerOptions.Bind(configuration).Validate());
            Assert.NotNull(e);
            return e.Message;
        }

        Dictionary<string, string?> Valid(params (string Key, string? Value)[] changes)
        {
            var values = new Dictionary<string, string?> { ["Store"] = "file:///tmp/x", ["Kafka:BootstrapServers"] = "b:9092", ["Kafka:Topics"] = "t" };
            foreach (var (key, value) in changes)
            {
                values[key] = value;
            }

            return values;
        }

        Assert.Contains("Unknown sink setting 'Kafak'", Refusal(Valid(("Kafak:GroupId", "g"))), StringComparison.Ordinal);
        Assert.Contains("Unknown sink setting 'Kafka:SesionTimeout': the keys of Kafka are ", Refusal(Valid(("Kafka:SesionTimeout", "00:00:03"))), StringComparison.Ordinal);
        Assert.Contains("Sink setting 'Engine:MaxSegmentAge' is 'ten minutes', which is not a duration", Refusal(Valid(("Engine:MaxSegmentAge", "ten minutes"))), StringComparison.Ordinal);
        Assert.Contains("enable.auto.commit", Refusal(Valid(("Kafka:Settings:enable.auto.commit", "true"))), StringComparison.Ordinal);
        Assert.Contains("MaxSegmentPayloads", Refusal(Valid(("Engine:MaxSegmentPayloads", "0"))), StringComparison.Ordinal);
        Assert.Contains("unknown scheme 'gs'", Refusal(Valid(("Store", "gs://bucket"))), StringComparison.Ordinal);
        Assert.Contains("Topics", Refusal(Valid(("Kafka:Topics", ""))), StringComparison.Ordinal);
        Assert.Contains("MaxPollInterval", Refusal(Valid(("Kafka:MaxPollInterval", "00:00:10"))), StringComparison.Ordinal);

        // KIP-848 groups leave assignment and session timing to the broker.
        var next = new KafkaPayloadSourceOptions { BootstrapServers = "b:9092", Topics = ["t"], Settings = { ["group.protocol"] = "consumer" } }.ToConsumerConfig();
        Assert.Null(next.PartitionAssignmentStrategy);
        Assert.Null(next.SessionTimeoutMs);
    }
}
