using System.Text.Json;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary><c>tailor plan --to-kafka</c> and <c>tailor worker</c> against the embedded Kafka cluster this process owns.</summary>
public sealed class KafkaCommandTests(KafkaClusterFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const string Window = GeneratedStore.Window;

    [Fact]
    public async Task Plan_publishes_the_jobs_and_a_worker_runs_them_then_stops_on_SIGTERM_with_a_json_summary()
    {
        using var folder = new TempFolder("cli-kafka");
        var gen = await TailorRun.RunAsync("gen", "--store", folder.Uri, "--points", "60000", "--series", "600", "--orgs", "8", "--shards", "2", "--json");
        Assert.True(gen.Code == 0, gen.ToString());
        var topic = await kafka.CreateTopicAsync(2, "jobs");
        var plan = (await TailorRun.RunAsync("plan", "--store", folder.Uri, "--window", Window, "--to-kafka", kafka.BootstrapServers, "--topic", topic, "--json")).Json();
        Assert.True(plan.GetProperty("published").GetBoolean());
        var jobs = plan.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(2, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(topic, j.GetProperty("topic").GetString()));

        // --json: the events go to stderr, stdout gets one summary when the worker stops.
        await using var worker = TailorRun.Start("worker", "--store", folder.Uri, "--kafka", kafka.BootstrapServers, "--topic", topic, "--group", kafka.NewGroupId("cli"),
            "--kafka-setting", "session.timeout.ms=6000", "--kafka-setting", "fetch.wait.max.ms=100", "--work-dir", Path.Combine(folder.Path, "work"), "--json");
        foreach (var job in jobs)
        {
            var shard = job.GetProperty("shard").GetString();
            var line = await worker.WaitForErrorLineAsync(l => l.StartsWith($"job-finished {shard} {Window} written ", StringComparison.Ordinal), TailorRun.Timeout);
            output.WriteLine(line);
            Assert.True(File.Exists(Path.Combine(folder.Path, "series", shard!, "2026-11-26T00:00Z", "_manifest.json")));
        }

        await worker.WaitForErrorLineAsync(l => l.StartsWith("committed ", StringComparison.Ordinal), TailorRun.Timeout);

        // "started" comes once the group has taken the worker in: right before its first assignment.
        var events = worker.ErrorLines.ToList();
        var started = events.FindIndex(l => l.StartsWith("started group ", StringComparison.Ordinal));
        Assert.True(started >= 0 && started + 1 < events.Count && events[started + 1].StartsWith("assigned", StringComparison.Ordinal), string.Join('\n', events));
        worker.Terminate();
        Assert.Equal(0, await worker.WaitForExitAsync(TailorRun.Timeout));
        await worker.WaitForErrorLineAsync(l => l.StartsWith("stopped ", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        using var summary = JsonDocument.Parse(string.Join('\n', worker.Lines));
        Assert.Equal(2, summary.RootElement.GetProperty("written").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("failed").GetInt64());
        Assert.True(summary.RootElement.GetProperty("points_out").GetInt64() > 0);

        // The same plan published again is a no-op for a worker: the manifests already name the inputs.
        var again = await TailorRun.RunAsync("plan", "--store", folder.Uri, "--window", Window, "--to-kafka", kafka.BootstrapServers, "--topic", topic);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Contains($"published 2 jobs to {topic}", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_and_worker_explain_unreachable_brokers_and_bad_settings()
    {
        using var folder = new TempFolder("cli-kafka-bad");
        Assert.Equal(0, (await TailorRun.RunAsync("gen", "--store", folder.Uri, "--points", "5000", "--series", "50", "--orgs", "2", "--shards", "1")).Code);
        var results = await Task.WhenAll(
            TailorRun.RunAsync("plan", "--store", folder.Uri, "--window", Window, "--to-kafka", "127.0.0.1:1", "--connect-timeout", "2s"),
            TailorRun.RunAsync("worker", "--store", folder.Uri, "--kafka", "127.0.0.1:1", "--connect-timeout", "2s"),
            TailorRun.RunAsync("worker", "--store", folder.Uri, "--kafka", kafka.BootstrapServers, "--kafka-setting", "nonsense"),
            TailorRun.RunAsync("worker", "--store", folder.Uri, "--kafka", kafka.BootstrapServers, "--kafka-setting", "no.such.property=1"),
            TailorRun.RunAsync("worker", "--store", folder.Uri),
            TailorRun.RunAsync("worker", "--store", "gs://bucket/x", "--kafka", kafka.BootstrapServers),
            TailorRun.RunAsync("worker", "--store", folder.Uri, "--kafka", kafka.BootstrapServers, "--memory", "2MiB"));
        foreach (var result in results)
        {
            output.WriteLine(result.ToString());
        }

        Expect(results[0], 1, "No Kafka broker at 127.0.0.1:1 answered within 2 s");
        Expect(results[1], 1, "No Kafka broker at 127.0.0.1:1 answered within 2 s");
        Expect(results[2], 2, "--kafka-setting 'nonsense' is not key=value");
        Expect(results[3], 2, "The Kafka consumer settings were refused");
        Expect(results[4], 2, "--kafka");
        Expect(results[5], 2, "unknown scheme 'gs'");
        Expect(results[6], 2, "--memory must be at least 16 MiB");
    }

    private static void Expect(TailorRun.Result result, int code, string message)
    {
        Assert.True(result.Code == code, $"expected exit {code}: {result}");
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
    }
}
