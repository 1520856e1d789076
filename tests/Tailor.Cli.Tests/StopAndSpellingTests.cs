using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary>
/// Commands stop soon after SIGTERM in every phase (waiting for a broker included), and say the same
/// thing the same way: one spelling per option, counts that match what was asked or say why not.
/// </summary>
public sealed class StopAndSpellingTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// A functional bound on termination, not a speed figure: the connect timeouts below are 30 s and
    /// 15 s, so a process that ignores SIGTERM while it waits for a broker runs past it.
    /// </summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(10);

    private readonly TempFolder _folder = new("cli-stop");

    [Theory]
    [InlineData("sink")]
    [InlineData("worker")]
    [InlineData("gen")]
    [InlineData("plan")]
    public async Task A_command_waiting_for_an_unreachable_broker_stops_soon_after_SIGTERM(string command)
    {
        var store = Path.Combine(_folder.Path, "store");
        Directory.CreateDirectory(store);
        var storeUri = new Uri(store).AbsoluteUri;
        if (command == "plan")
        {
            // plan publishes only jobs it found: give it one segment's worth of input.
            var gen = await TailorRun.RunAsync("gen", "--store", storeUri, "--points", "2000", "--series", "20", "--orgs", "1", "--shards", "1");
            Assert.True(gen.Code == 0, gen.ToString());
        }

        var config = Path.Combine(_folder.Path, "sink.json");
        await File.WriteAllTextAsync(config, $$"""{ "Store": "{{storeUri}}", "Kafka": { "BootstrapServers": "127.0.0.1:1", "Topics": ["metrics"] } }""");
        string[] arguments = command switch
        {
            "sink" => ["sink", "--config", config],
            "worker" => ["worker", "--store", storeUri, "--kafka", "127.0.0.1:1"],
            "gen" => ["gen", "--to-kafka", "127.0.0.1:1", "--topic", "metrics", "--points", "1000"],
            _ => ["plan", "--store", storeUri, "--window", GeneratedStore.Window, "--to-kafka", "127.0.0.1:1", "--connect-timeout", "30s"],
        };
        await using var process = TailorRun.Start(arguments);

        // Past start-up, into the wait for a broker: each command says on stderr where it connects.
        await process.WaitForErrorLineAsync(l => l.Contains("127.0.0.1:1", StringComparison.Ordinal), TailorRun.Timeout);
        process.Terminate();
        int code;
        try
        {
            code = await process.WaitForExitAsync(StopBound);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"tailor {command} was still running {StopBound.TotalSeconds:F0} s after SIGTERM.\n{process.Describe()}");
            throw;
        }

        output.WriteLine(process.Describe());
        Assert.DoesNotContain("   at ", process.StandardError, StringComparison.Ordinal);
        if (command is "sink" or "worker")
        {
            // A worker that never joined stops cleanly, and never said it had started.
            Assert.Equal(0, code);
            Assert.Contains("stopped before any broker answered", process.Lines);
            if (command == "worker")
            {
                Assert.DoesNotContain(process.Lines, l => l.StartsWith("started", StringComparison.Ordinal));
            }
        }
        else
        {
            Assert.Equal(1, code);
            Assert.Contains("stopped.", process.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Demo_stops_soon_after_SIGTERM_in_the_middle_of_its_run()
    {
        await using var process = TailorRun.Start("demo", "--points", "3000000", "--series", "5000", "--data", Path.Combine(_folder.Path, "demo"));

        // The embedded cluster is up and the sink workers are joining or the traffic is flowing.
        await process.WaitForErrorLineAsync(l => l.StartsWith("store ", StringComparison.Ordinal), TailorRun.Timeout);
        await Task.Delay(TimeSpan.FromSeconds(1));
        process.Terminate();
        try
        {
            Assert.Equal(1, await process.WaitForExitAsync(StopBound));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"tailor demo was still running {StopBound.TotalSeconds:F0} s after SIGTERM.\n{process.Describe()}");
        }

        Assert.Contains("stopped", process.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gen_says_why_it_wrote_more_points_than_asked()
    {
        var run = await TailorRun.RunAsync("gen", "--store", _folder.Uri, "--points", "1000", "--series", "100", "--orgs", "3", "--shards", "2", "--json");
        var json = run.Json();
        var points = json.GetProperty("points").GetInt64();
        Assert.Equal(1000, json.GetProperty("points_requested").GetInt64());
        Assert.True(points >= 1000);
        if (points > 1000)
        {
            Assert.Contains("the last payload is written whole", json.GetProperty("points_note").GetString(), StringComparison.Ordinal);
        }

        var text = await TailorRun.RunAsync("gen", "--store", new Uri(Path.Combine(_folder.Path, "again")).AbsoluteUri, "--points", "1000", "--series", "100", "--orgs", "3", "--shards", "2");
        Assert.True(text.Code == 0, text.ToString());
        Assert.Equal(points > 1000, text.Output.Contains($"{points - 1000:N0} more than the 1,000 asked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_all_checks_every_shard_as_compact_all_compacts_them_and_inspect_reads_a_key_of_a_store()
    {
        var uri = _folder.Uri;
        var gen = await TailorRun.RunAsync("gen", "--store", uri, "--points", "30000", "--series", "300", "--orgs", "6", "--shards", "3", "--json");
        Assert.True(gen.Code == 0, gen.ToString());
        var shards = gen.Json().GetProperty("shards").GetArrayLength();
        var compact = await TailorRun.RunAsync("compact", "--store", uri, "--all", "--window", GeneratedStore.Window, "--memory", "64MiB");
        Assert.True(compact.Code == 0, compact.ToString());

        // The report says whose working set it is: the whole process, beside the job's budgeted buffers.
        Assert.Contains("peak working set of the whole process", compact.Output, StringComparison.Ordinal);
        Assert.Contains("job buffers peaked at", compact.Output, StringComparison.Ordinal);

        var verify = await TailorRun.RunAsync("verify", "--store", uri, "--all", "--window", GeneratedStore.Window, "--memory", "64MiB", "--json");
        var json = verify.Json();
        Assert.True(verify.Code == 0, verify.ToString());
        Assert.Equal(shards, json.GetProperty("shards").GetInt32());
        Assert.Equal(shards, json.GetProperty("reports").GetArrayLength());
        Assert.True(json.GetProperty("exact").GetBoolean());
        Assert.True(json.GetProperty("expected").GetInt64() > 0);

        // One point altered in one shard's S-file: --all exits 3 and names that shard.
        var part = Directory.EnumerateFiles(Path.Combine(_folder.Path, "series"), "*.tsf", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var segment = Directory.EnumerateFiles(Path.Combine(_folder.Path, "segments"), "*.tseg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var key = Path.GetRelativePath(_folder.Path, segment).Replace('\\', '/');

        // inspect reads a store's object by key, and a file:// URI, as it reads a path.
        var byKey = await TailorRun.RunAsync("inspect", "--store", uri, key, "--json");
        Assert.True(byKey.Code == 0, byKey.ToString());
        Assert.EndsWith("/" + key, byKey.Json().GetProperty("path").GetString(), StringComparison.Ordinal);
        var byPath = await TailorRun.RunAsync("inspect", segment, "--json");
        var byUri = await TailorRun.RunAsync("inspect", new Uri(segment).AbsoluteUri, "--json");
        Assert.Equal(byPath.Json().GetProperty("records_read").GetInt64(), byKey.Json().GetProperty("records_read").GetInt64());
        Assert.Equal(byPath.Json().GetProperty("records_read").GetInt64(), byUri.Json().GetProperty("records_read").GetInt64());
        Assert.True(byPath.Json().GetProperty("records_read").GetInt64() > 0);

        var sfileByKey = await TailorRun.RunAsync("inspect", "--store", uri, Path.GetRelativePath(_folder.Path, part).Replace('\\', '/'));
        Assert.True(sfileByKey.Code == 0, sfileByKey.ToString());
        File.Delete(part);
        var broken = await TailorRun.RunAsync("verify", "--store", uri, "--all", "--window", GeneratedStore.Window, "--memory", "64MiB");
        output.WriteLine(broken.ToString());
        Assert.NotEqual(0, broken.Code);
        Assert.DoesNotContain("OK: one to one", broken.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gen_takes_its_topics_with_the_same_option_name_as_plan_and_worker()
    {
        var help = await TailorRun.RunAsync("gen", "--help");
        Assert.Contains("--topic", help.Output, StringComparison.Ordinal);
        Assert.Contains("tailor gen --to-kafka broker1:9092 --topic metrics-a --topic metrics-b", help.Output, StringComparison.Ordinal);

        // --memory is a size everywhere, the benchmark's included.
        var bench = await TailorRun.RunAsync("bench", "compaction", "--memory", "8MiB");
        Assert.True(bench.Code == 2, bench.ToString());
        Assert.Contains("--memory must be at least 16 MiB (was 8.0 MiB)", bench.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_all_of_a_window_without_input_says_nothing_to_verify_in_json_too()
    {
        var run = await TailorRun.RunAsync("verify", "--store", _folder.Uri, "--all", "--window", GeneratedStore.Window, "--json");
        Assert.True(run.Code == 4, run.ToString());
        Assert.Contains("nothing to verify", run.Error, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(run.Output);
        Assert.Equal("nothing_to_verify", json.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("shards").GetInt32());
    }

    public void Dispose() => _folder.Dispose();
}
