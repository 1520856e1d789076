using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Management.Tests;

/// <summary>
/// The sink and compaction hosts, and the <c>tailor sink</c> and <c>tailor worker</c> commands, as
/// processes against the embedded Kafka cluster: each serves <c>/healthz</c>, turns ready on <c>/readyz</c>
/// when it holds partitions or joined its group, and reports its meters on <c>/metrics</c>.
/// </summary>
public sealed partial class WorkerHostTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    [Fact]
    public async Task SinkHost_is_ready_once_it_holds_partitions_and_its_scrape_has_every_message_and_a_lag_per_partition()
    {
        const int Count = 60;
        var topic = await kafka.CreateTopicAsync(2, "mgmt-sink");
        await kafka.ProduceAsync([topic], partitions: 2, count: Count);
        using var folder = new TempFolder("mgmt-sink");
        await using var host = ChildProcess.StartDotnet(ManagementKit.Sample("SinkHost", "Tailor.SinkHost"),
        [
            $"--Tailor:Sink:Store={folder.Uri}",
            $"--Tailor:Sink:Kafka:BootstrapServers={kafka.BootstrapServers}",
            $"--Tailor:Sink:Kafka:Topics:0={topic}",
            $"--Tailor:Sink:Kafka:GroupId={kafka.NewGroupId("mgmt")}",
            "--Tailor:Sink:Kafka:SessionTimeout=00:00:03",
            "--Tailor:Sink:Kafka:HeartbeatInterval=00:00:01",
            "--Tailor:Sink:Kafka:FetchWaitMax=00:00:00.100",
            "--Tailor:Management:Urls=http://127.0.0.1:0",
        ]);
        var root = await ListeningAsync(host, ManagementLog());

        Assert.Equal(HttpStatusCode.OK, (await ManagementKit.GetAsync(new Uri(root, "/healthz"))).Status);
        await ReadyAsync(root, host, "sink");

        // The messages are not payload frames: each is set aside as a dead letter, so the count is exact.
        Dictionary<string, double> samples = [];
        await Waiting.UntilAsync(async () =>
        {
            samples = ManagementKit.Samples((await ManagementKit.GetAsync(new Uri(root, "/metrics"))).Body);
            return Sum(samples, "tailor_sink_dead_letters_total") >= Count && Lags(samples, topic).Count == 2;
        }, ManagementKit.Timeout, "the sink's scrape shows every message and a lag for both partitions", () => string.Join('\n', samples.Keys.Where(k => k.StartsWith("tailor_sink", StringComparison.Ordinal))));
        Assert.Equal(Count, Sum(samples, "tailor_sink_dead_letters_total"));
        Assert.Equal([0.0, 0.0], Lags(samples, topic).Values);
    }

    [Fact]
    public async Task CompactionHost_is_ready_once_it_joined_the_jobs_group()
    {
        using var folder = new TempFolder("mgmt-compaction");
        await using var host = ChildProcess.StartDotnet(ManagementKit.Sample("CompactionHost", "Tailor.CompactionHost"),
        [
            $"--Tailor:Compaction:Store={folder.Uri}",
            $"--Tailor:Compaction:BootstrapServers={kafka.BootstrapServers}",
            $"--Tailor:Compaction:Topic={await kafka.CreateTopicAsync(1, "mgmt-jobs")}",
            $"--Tailor:Compaction:GroupId={kafka.NewGroupId("mgmt-jobs")}",
            $"--Tailor:Compaction:Compaction:WorkDirectory={Path.Combine(folder.Path, "work")}",
            "--Tailor:Management:Urls=http://127.0.0.1:0",
        ]);
        var root = await ListeningAsync(host, ManagementLog());
        Assert.Equal(HttpStatusCode.OK, (await ManagementKit.GetAsync(new Uri(root, "/healthz"))).Status);
        await ReadyAsync(root, host, "worker");
        var scrape = await ManagementKit.GetAsync(new Uri(root, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, scrape.Status);
    }

    [Fact]
    public async Task Tailor_worker_serves_the_endpoints_on_a_free_loopback_port_by_default_and_says_where()
    {
        using var folder = new TempFolder("mgmt-tailor-worker");
        Directory.CreateDirectory(folder.Path);
        await using var worker = ChildProcess.StartDotnet(ManagementKit.Sample("Tailor.Cli", "tailor"),
        [
            "worker", "--store", folder.Uri, "--kafka", kafka.BootstrapServers,
            "--topic", await kafka.CreateTopicAsync(1, "mgmt-cli-jobs"), "--group", kafka.NewGroupId("mgmt-cli"),
            "--work-dir", Path.Combine(folder.Path, "work"),
        ]);
        var root = await ListeningAsync(worker, EventLine());
        Assert.Equal("127.0.0.1", root.Host);
        Assert.Equal(HttpStatusCode.OK, (await ManagementKit.GetAsync(new Uri(root, "/healthz"))).Status);
        await ReadyAsync(root, worker, "worker");
    }

    [Fact]
    public async Task Tailor_sink_is_ready_once_it_holds_partitions_and_none_turns_the_endpoints_off()
    {
        var topic = await kafka.CreateTopicAsync(2, "mgmt-cli-sink");
        using var folder = new TempFolder("mgmt-tailor-sink");
        Directory.CreateDirectory(folder.Path);
        var config = Path.Combine(folder.Path, "sink.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Store = new Uri(Path.Combine(folder.Path, "store")).AbsoluteUri,
            Kafka = new { BootstrapServers = kafka.BootstrapServers, Topics = new[] { topic }, GroupId = kafka.NewGroupId("mgmt-cli-sink"), SessionTimeout = "00:00:03", HeartbeatInterval = "00:00:01" },
        }));
        await using (var sink = ChildProcess.StartDotnet(ManagementKit.Sample("Tailor.Cli", "tailor"), ["sink", "--config", config]))
        {
            var root = await ListeningAsync(sink, EventLine());
            await ReadyAsync(root, sink, "sink");
        }

        await using var quiet = ChildProcess.StartDotnet(ManagementKit.Sample("Tailor.Cli", "tailor"), ["sink", "--config", config, "--management-urls", "none"]);
        await quiet.WaitForLineAsync(l => l.StartsWith("assigned", StringComparison.Ordinal), ManagementKit.Timeout);
        Assert.DoesNotContain(quiet.Lines, l => l.StartsWith("management", StringComparison.Ordinal));
    }

    private static async Task<Uri> ListeningAsync(ChildProcess process, Regex line)
    {
        var found = await process.WaitForLineAsync(l => line.IsMatch(l), ManagementKit.Timeout);
        return new Uri(line.Match(found).Groups["url"].Value);
    }

    private async Task ReadyAsync(Uri root, ChildProcess process, string check)
    {
        var last = string.Empty;
        await Waiting.UntilAsync(async () =>
        {
            var ready = await ManagementKit.GetAsync(new Uri(root, "/readyz"));
            last = $"{(int)ready.Status} {ready.Body}";
            return ready.Status == HttpStatusCode.OK;
        }, ManagementKit.Timeout, "/readyz answers 200", () => $"{last}\n{process.Describe()}");
        output.WriteLine(last);
        using var body = JsonDocument.Parse(last[4..]);
        Assert.Equal("healthy", body.RootElement.GetProperty("checks").GetProperty("store").GetProperty("status").GetString());
        Assert.Equal("healthy", body.RootElement.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());
    }

    private static double Sum(Dictionary<string, double> samples, string family) =>
        samples.Where(s => s.Key == family || s.Key.StartsWith(family + "{", StringComparison.Ordinal)).Sum(s => s.Value);

    private static SortedDictionary<string, double> Lags(Dictionary<string, double> samples, string topic) =>
        new(samples.Where(s => s.Key.StartsWith("tailor_sink_consumer_lag{", StringComparison.Ordinal) && s.Key.Contains($"topic=\"{topic}\"", StringComparison.Ordinal))
            .ToDictionary(s => s.Key, s => s.Value), StringComparer.Ordinal);

    [GeneratedRegex(@"listen on (?<url>http://[^\s,]+)")]
    private static partial Regex ManagementLog();

    [GeneratedRegex(@"^management (?<url>http://\S+)")]
    private static partial Regex EventLine();
}
