using System.CommandLine;
using Tailor.Cli.Demo;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Cli.Tests;

/// <summary>
/// Every command given bad input ends in one line that names what is wrong, in the words the user
/// wrote, and the exit code DESIGN.md promises (2 bad arguments, 1 failure): never a stack trace.
/// </summary>
public sealed class BadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _folder = new("cli-bad-input");

    /// <summary>
    /// Each row: the arguments ({store} is an existing empty store, {file} a regular file, so a path under
    /// it cannot be a folder even for root; {config:NAME} a sink config below), the exit code, and a piece
    /// of the one error line.
    /// </summary>
    public static TheoryData<string, int, string> Cases => new()
    {
        { "demo --workers 0", 2, "--workers must be 1 to 8 (was 0)" },
        { "demo --points lots", 2, "--points: 'lots' is not a whole number" },
        { "demo --data {file}/sub --points 10000 --series 10", 2, "--data: cannot use" },
        { "demo --store s3://bucket/x --clean", 2, "--clean and --data are for a local demo folder" },
        { "sink --config {folder}/none.json", 2, "No such config file" },
        { "sink --config {config:type}", 2, "Sink setting 'Engine:BufferBudgetBytes' is 'lots', which is not a whole number" },
        { "sink --config {config:unknown}", 2, "Unknown sink setting 'Engine:BuferBudgetBytes'" },
        { "sink --config {config:small}", 2, "Engine:BufferBudgetBytes must be at least 1 MiB" },
        { "gen --store {store} --rate 5", 2, "--rate does nothing with --store" },
        { "gen --store {store} --topic metrics --kafka-setting acks=1", 2, "--topic, --kafka-setting do nothing with --store" },
        { "gen --to-kafka 127.0.0.1:1 --topic a --shards 4", 2, "--shards does nothing with --to-kafka" },
        { "gen --store {store} --points abc", 2, "--points: 'abc' is not a whole number" },
        { "gen --store file://{file}/store --points 1000", 2, "--store: cannot use" },
        { "plan --store {store} --window 0001-01-01T00:00Z/4h", 2, "--window: 0001-01-01T00:00Z/4h with an early allowance of 1h" },
        { "plan --store {store} --window 9999-12-31T20:00Z/2h", 2, "reaches outside the years 1 to 9999" },
        { "compact --store {store} --all --window 9999-12-31T20:00Z/2h", 2, "reaches outside the years 1 to 9999" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --work-dir {file}/work", 2, "--work-dir: cannot use" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --memory 0", 2, "--memory must be at least 16 MiB (was 0)" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --memory lots", 2, "--memory: 'lots' is not a size" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --split-bytes 1", 2, "--split-bytes must be at least 4 KiB" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --part-bytes 1KiB", 2, "--part-bytes must be at least 4 KiB" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --parallelism 0", 2, "--parallelism must be at least 1" },
        { "worker --store {store} --kafka 127.0.0.1:1 --memory 0", 2, "--memory must be at least 16 MiB" },
        { "worker --store {store} --kafka 127.0.0.1:1 --work-dir {file}/work", 2, "--work-dir: cannot use" },
        { "verify --store {store} --shard org-mod-1 --window 0001-01-01T00:00Z/4h", 2, "reaches outside the years 1 to 9999" },
        { "verify --store {store} --window 2026-11-26T00:00Z/4h", 2, "--shard S (e.g. org-mod-3) or --all" },
        { "verify --store {store} --all --shard org-mod-1 --window 2026-11-26T00:00Z/4h", 2, "Give either --shard S or --all, not both" },
        { "verify --store {store} --all --window 2026-11-26T00:00Z/4h", 4, "nothing to verify" },
        { "compact --store {store} --all --window 2026-11-26T00:00Z/4h --shard-map {file}", 2, "--shard-map: " },
        { "verify --store {store} --all --window 2026-11-26T00:00Z/4h --shards 4 --shard-map {file}", 2, "Give either --shards N or --shard-map FILE" },
        { "worker --store {store} --kafka 127.0.0.1:1 --management-urls nonsense", 2, "--management-urls: 'nonsense' is not an http address" },
        { "query --store {store} --org x --metric 1 --from 2026-11-26 --to 2026-11-27", 2, "--org: 'x' is not a whole number" },
        { "query --store {store} --org 1 --metric 1 --from 2026-11-27 --to 2026-11-26", 2, "--from must be before --to" },
        { "query --store {store} --org 1 --metric 1 --from 2026-11-26 --to 2026-11-27 --step 1h --agg median", 2, "--agg: 'median' is not an aggregation" },
        { "export --store {store} --window 2026-11-26T00:00Z/4h --shard ../etc --output {folder}/out", 2, "--shard: '../etc' is not a shard name" },
        { "export --store {store} --window 2026-11-26T00:00Z/4h --output {file}", 2, "--output: " },
        { "serve --store {store} --urls nonsense", 2, "--urls: 'nonsense' is not an http address" },
        { "serve --store {store} --api-key-file {folder}/none", 2, "--api-key-file: no such file" },
        { "bench query --days 0", 2, "--days must be 8 to 3650" },
        { "inspect s3://bucket/segments/x.tseg", 2, "give the store and the key apart" },
        { "inspect --store {store} segments/none.tseg", 2, "No object segments/none.tseg" },
        { "inspect {folder}", 2, "No such file" },
        { "read --store {store} --series 1:2:3 --window 2026-11-26T00:00Z/4h --from x", 2, "--from" },
        { "bench compaction --memory 0", 2, "--memory must be at least 16 MiB" },
        { "bench compaction --memory lots", 2, "--memory: 'lots' is not a size" },
        { "bench sink --budget 512KiB", 2, "--budget must be at least 1 MiB" },
        { "bench format --points x", 2, "--points: 'x' is not a whole number" },
        { "bench load --rate 0", 2, "--rate must be above 0" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_command_given_bad_input_prints_one_line_in_the_users_words_and_its_exit_code(string arguments, int code, string message)
    {
        var run = await TailorRun.RunAsync([.. arguments.Split(' ').Select(Fill)]);
        output.WriteLine(run.ToString());
        Assert.True(run.Code == code, $"expected exit {code}: {run}");
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        var errors = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, $"one error line: {run}");
        foreach (var internalText in new[] { "Unhandled exception", "   at ", "(Parameter '", "System.", "MemoryBudgetBytes", "SplitBytes", "TargetPartBytes", "ErrorOnUnknownConfiguration", "BinderOptions" })
        {
            Assert.DoesNotContain(internalText, run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Help_names_each_default_once()
    {
        // The parser prints "[default: X]" for an option with a default value; a description that also says
        // "(default X)" would print it twice.
        var twice = new List<string>();
        Walk(TailorCommand.Build());
        Assert.True(twice.Count == 0, "defaults stated twice: " + string.Join("; ", twice));

        void Walk(Command command)
        {
            foreach (var option in command.Options)
            {
                if (option.HasDefaultValue && option.Description?.Contains("default", StringComparison.OrdinalIgnoreCase) == true)
                {
                    twice.Add($"{command.Name} {option.Name}");
                }
            }

            foreach (var sub in command.Subcommands)
            {
                Walk(sub);
            }
        }
    }

    [Fact]
    public async Task Demo_clean_refuses_a_folder_it_did_not_make_and_keeps_what_it_did_not_make()
    {
        // A folder of someone else's: refused, nothing deleted.
        var foreign = Path.Combine(_folder.Path, "mine");
        Directory.CreateDirectory(foreign);
        await File.WriteAllTextAsync(Path.Combine(foreign, "thesis.txt"), "years of work");
        var refused = await TailorRun.RunAsync("demo", "--clean", "--data", foreign, "--points", "10000", "--series", "10");
        Assert.True(refused.Code == 2, refused.ToString());
        Assert.Contains("was not made by tailor demo", refused.Error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(foreign, "thesis.txt")));

        // A folder the demo made, with a file put there later: the demo's runs go, the file stays.
        var data = Path.Combine(_folder.Path, "demo");
        var run = DemoFolder.NewRun(data);
        await File.WriteAllTextAsync(Path.Combine(run, "part.tsf"), "made by the demo");
        Directory.CreateDirectory(Path.Combine(data, "run-kept-by-hand"));
        await File.WriteAllTextAsync(Path.Combine(data, "notes.txt"), "mine");
        DemoFolder.Prepare(data, clean: true);
        Assert.False(Directory.Exists(run));
        Assert.True(File.Exists(Path.Combine(data, "notes.txt")));
        Assert.True(Directory.Exists(Path.Combine(data, "run-kept-by-hand")), "a run folder the marker does not list is not the demo's");
        Assert.False(File.Exists(Path.Combine(data, DemoFolder.MarkerName)));

        // Only the demo's: nothing is left but the folder the next run writes to.
        var only = Path.Combine(_folder.Path, "only-demo");
        DemoFolder.NewRun(only);
        DemoFolder.Prepare(only, clean: true);
        Assert.Empty(Directory.EnumerateFileSystemEntries(only));
    }

    [Fact]
    public async Task Demo_prints_its_summary_without_an_empty_header_row_or_wrapped_lines_when_stdout_is_not_a_terminal()
    {
        var data = Path.Combine(_folder.Path, "demo-text");
        var run = await TailorRun.RunAsync("demo", "--points", "10000", "--series", "10", "--data", data);
        Assert.True(run.Code == 0, run.ToString());
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(lines, l => l.Trim().Trim('│', '|', ' ').Length == 0 && l.Contains('│'));
        var verify = Assert.Single(lines, l => l.StartsWith("│ verify ", StringComparison.Ordinal));
        Assert.Contains("extra 0 OK", verify, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("points produced", StringComparison.Ordinal));
        Assert.Single(File.ReadAllLines(Path.Combine(data, DemoFolder.MarkerName)));
    }

    public void Dispose() => _folder.Dispose();

    private string Fill(string argument)
    {
        var file = Path.Combine(_folder.Path, "a-file");
        if (!File.Exists(file))
        {
            File.WriteAllText(file, "not a folder");
            Directory.CreateDirectory(Path.Combine(_folder.Path, "store"));
        }

        if (argument.StartsWith("{config:", StringComparison.Ordinal))
        {
            var name = argument[8..^1];
            var engine = name switch
            {
                "type" => """{ "BufferBudgetBytes": "lots" }""",
                "unknown" => """{ "BuferBudgetBytes": 5 }""",
                _ => """{ "BufferBudgetBytes": 5 }""",
            };
            var path = Path.Combine(_folder.Path, $"sink-{name}.json");
            File.WriteAllText(path, $$"""{ "Store": "{{new Uri(Path.Combine(_folder.Path, "store")).AbsoluteUri}}", "Engine": {{engine}}, "Kafka": { "BootstrapServers": "127.0.0.1:1", "Topics": ["a"] } }""");
            return path;
        }

        return argument.Replace("{store}", new Uri(Path.Combine(_folder.Path, "store")).AbsoluteUri, StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal)
            .Replace("{folder}", _folder.Path, StringComparison.Ordinal);
    }
}
