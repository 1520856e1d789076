using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Tailor.Compaction;
using Tailor.Sink;
using Tailor.Sink.Hosting;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Packaging.Tests;

/// <summary>
/// docs/configuration.md and docs/operations.md against the code: every option table regenerated from
/// the options classes and their XML docs, every example file bound and validated as a host would, every
/// metric name an instrument the packages create, every <c>tailor</c> flag one the command accepts.
/// </summary>
/// <remarks>
/// With <c>UPDATE_CONFIG_DOCS=1</c> (what <c>scripts/update-config-docs.sh</c> sets) the table test
/// rewrites the tables instead of failing; review the diff like any other change.
/// </remarks>
public sealed partial class DocumentTests
{
    private static string Docs => Path.Combine(PackageFixture.RepositoryRoot, "docs");

    private static string ConfigurationPath => Path.Combine(Docs, "configuration.md");

    private static string OperationsPath => Path.Combine(Docs, "operations.md");

    [Fact]
    public void Every_option_table_matches_the_options_classes_and_their_XML_docs()
    {
        var text = File.ReadAllText(ConfigurationPath);
        var updated = OptionTables.Update(text, out var unmarked);
        Assert.True(unmarked.Count == 0, $"docs/configuration.md has no table for {string.Join(", ", unmarked.Select(t => t.Name))}: "
            + "add '<!-- options: Full.Type.Name -->' and '<!-- end options -->' where it belongs, then run scripts/update-config-docs.sh.");
        var undocumented = OptionTables.Documented
            .SelectMany(type => OptionTables.Settable(type).Select(p => p.Name).Except(OptionTables.DocumentedNames(text, type)).Select(name => $"{type.Name}.{name}"))
            .ToList();
        Assert.True(undocumented.Count == 0 || Environment.GetEnvironmentVariable("UPDATE_CONFIG_DOCS") == "1",
            $"docs/configuration.md does not document {string.Join(", ", undocumented)}: give each an XML <summary> that states its default, "
            + "run scripts/update-config-docs.sh and say in the prose around the table what an operator needs to know.");
        if (Environment.GetEnvironmentVariable("UPDATE_CONFIG_DOCS") == "1")
        {
            File.WriteAllText(ConfigurationPath, updated);
            return;
        }

        if (text != updated)
        {
            var before = text.Split('\n');
            var after = updated.Split('\n');
            var line = Enumerable.Range(0, Math.Min(before.Length, after.Length)).FirstOrDefault(i => before[i] != after[i], Math.Min(before.Length, after.Length));
            Assert.Fail($"docs/configuration.md is out of date with the options and their XML docs; run scripts/update-config-docs.sh and review the diff.\n"
                + $"First difference, line {line + 1}:\n  document:  {before.ElementAtOrDefault(line)}\n  generated: {after.ElementAtOrDefault(line)}");
        }
    }

    [Fact]
    public void Every_options_class_of_the_sink_compaction_and_storage_packages_is_documented_or_left_out_on_purpose()
    {
        var all = new[] { typeof(SinkOptions).Assembly, typeof(CompactionOptions).Assembly, typeof(ObjectStoreOptions).Assembly }
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.IsClass);
        Assert.Empty(all.Except(OptionTables.Documented).Except(OptionTables.LeftOut).Select(t => t.FullName));
        foreach (var key in OptionTables.DescribedDefaults.Keys)
        {
            var (type, property) = (key[..key.IndexOf('.', StringComparison.Ordinal)], key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..]);
            Assert.Contains(OptionTables.Documented, t => t.Name == type && OptionTables.Settable(t).Any(p => p.Name == property));
        }
    }

    [Fact]
    public void The_example_sink_config_and_shard_map_bind_and_validate_as_tailor_sink_reads_them()
    {
        using var folder = new TempFolder("docs");
        File.WriteAllText(Path.Combine(folder.Path, "shards.json"), Example(ConfigurationPath, "shard-map"));
        File.WriteAllText(Path.Combine(folder.Path, "sink.json"), Example(ConfigurationPath, "sink-config"));
        var root = new ConfigurationBuilder().AddJsonFile(Path.Combine(folder.Path, "sink.json")).Build();
        var options = SinkWorkerOptions.Bind(root, folder.Path);
        options.Validate();
        Assert.Equal(ShardMap.Parse(Example(ConfigurationPath, "shard-map")).ToJson(), options.Engine.ShardMap.ToJson());
        Assert.NotEmpty(options.Kafka.Topics);
    }

    [Fact]
    public void The_example_sink_host_settings_bind_and_validate_as_AddTailorSink_reads_them()
    {
        var root = Json(Example(ConfigurationPath, "sink-appsettings"));
        var options = SinkWorkerOptions.Bind(root.GetSection("Tailor:Sink"));
        options.Validate();
    }

    [Fact]
    public void The_example_compaction_host_settings_bind_and_validate_as_AddTailorCompactionWorker_reads_them()
    {
        var root = Json(Example(ConfigurationPath, "compaction-appsettings"));
        var options = new CompactionWorkerOptions();
        root.GetSection("Tailor:Compaction").Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        options.Validate();
        Assert.False(string.IsNullOrEmpty(options.Store));
        StoreUri.Parse(options.Store!);
    }

    [Fact]
    public void Every_metric_the_packages_create_is_in_operations_md_and_every_one_it_names_exists()
    {
        foreach (var type in new[] { typeof(ObjectStoreMetrics), typeof(SinkMetrics), typeof(CompactionMetrics) })
        {
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        }

        var created = new HashSet<string>(StringComparer.Ordinal);
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name is ObjectStoreMetrics.MeterName or SinkMetrics.Name or CompactionMetrics.Name)
                {
                    lock (created)
                    {
                        created.Add(instrument.Name);
                    }
                }
            };
            listener.Start();
        }

        var named = MetricName().Matches(File.ReadAllText(OperationsPath)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(created);
        Assert.Empty(created.Except(named));
        Assert.Empty(named.Except(created));
    }

    [Fact]
    public async Task Every_tailor_flag_the_documents_use_is_one_the_command_accepts()
    {
        var tailor = Path.Combine(PackageFixture.RepositoryRoot, "samples", "Tailor.Cli", "bin", PackageFixture.Configuration, "net10.0", "tailor.dll");
        Assert.True(File.Exists(tailor), $"{tailor} was not built.");
        var uses = new[] { ConfigurationPath, OperationsPath }
            .SelectMany(path => CommandLine().Matches(File.ReadAllText(path)).Select(m => (Document: Path.GetFileName(path), Line: m.Value)))
            .ToList();
        Assert.NotEmpty(uses);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var (document, line) in uses)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var command = words[1];
            if (!help.TryGetValue(command, out var text))
            {
                var run = await DotnetCommand.RunAsync(DotnetCommand.Host, ["exec", tailor, command, "--help"], PackageFixture.RepositoryRoot,
                    new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));
                Assert.True(run.ExitCode == 0, $"{document}: 'tailor {command}' is not a command: {run.Error}");
                help[command] = text = run.Output;
            }

            unknown.AddRange(words
                .Select(w => w.TrimStart('(', '[').TrimEnd(',', '.', ')', ']', '`', ';'))
                .Where(w => w.StartsWith("--", StringComparison.Ordinal))
                .Select(w => w.Split('=')[0])
                .Where(flag => !Regex.IsMatch(text, $@"(^|\s){Regex.Escape(flag)}\b", RegexOptions.Multiline))
                .Select(flag => $"{document}: {flag} in '{line}'"));
        }

        Assert.Empty(unknown);
    }

    [Fact]
    public async Task Every_flag_of_the_sink_and_compaction_commands_is_in_the_flag_table_of_configuration_md()
    {
        var text = File.ReadAllText(ConfigurationPath);
        var section = Regex.Match(text, @"<!-- flags -->\n(?<table>.*?)<!-- end flags -->", RegexOptions.Singleline);
        Assert.True(section.Success, "docs/configuration.md has no '<!-- flags -->' … '<!-- end flags -->' table of the tailor command's flags.");
        var documented = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in section.Groups["table"].Value.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cells = row.Split('|');
            var flags = Regex.Matches(cells[1], @"`(--[a-z][a-z-]*)").Select(m => m.Groups[1].Value);
            var commands = Regex.Matches(cells[2], @"`([a-z]+)`").Select(m => m.Groups[1].Value).ToList();
            Assert.True(commands.Count > 0, $"docs/configuration.md: the flag row '{row}' names no command.");
            documented.UnionWith(flags.SelectMany(flag => commands.Select(command => $"tailor {command} {flag}")));
        }

        var tailor = Path.Combine(PackageFixture.RepositoryRoot, "samples", "Tailor.Cli", "bin", PackageFixture.Configuration, "net10.0", "tailor.dll");
        Assert.True(File.Exists(tailor), $"{tailor} was not built.");
        var accepted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in new[] { "sink", "plan", "compact", "worker", "verify" })
        {
            var run = await DotnetCommand.RunAsync(DotnetCommand.Host, ["exec", tailor, command, "--help"], PackageFixture.RepositoryRoot,
                new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));
            Assert.True(run.ExitCode == 0, $"'tailor {command} --help' failed: {run.Error}");
            var options = run.Output[run.Output.IndexOf("Options:", StringComparison.Ordinal)..];
            accepted.UnionWith(HelpFlag().Matches(options).Select(m => m.Groups["flag"].Value).Where(f => f != "--help").Select(f => $"tailor {command} {f}"));
        }

        Assert.NotEmpty(accepted);
        Assert.True(accepted.IsSubsetOf(documented), $"docs/configuration.md's flag table lacks: {string.Join(", ", accepted.Except(documented).Order())}.");
        Assert.True(documented.IsSubsetOf(accepted), $"docs/configuration.md's flag table names flags the command does not accept: {string.Join(", ", documented.Except(accepted).Order())}.");
    }

    /// <summary>The code block that follows <c>&lt;!-- example: NAME --&gt;</c> in a document.</summary>
    private static string Example(string path, string name)
    {
        var text = File.ReadAllText(path);
        var match = Regex.Match(text, $@"<!-- example: {Regex.Escape(name)} -->\s*```[a-z]*\n(?<body>.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"{Path.GetFileName(path)} has no example '{name}'.");
        return match.Groups["body"].Value;
    }

    private static IConfigurationRoot Json(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return new ConfigurationBuilder().AddJsonStream(stream).Build();
    }

    [GeneratedRegex(@"tailor\.(storage|sink|compaction)\.[a-z_.]*[a-z_]")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^\s+(?:-[^\s,]+,\s+)*(?<flag>--[a-z][a-z-]*)", RegexOptions.Multiline)]
    private static partial Regex HelpFlag();

    [GeneratedRegex(@"(?<![\w/.-])tailor (demo|sink|gen|plan|compact|worker|verify|inspect|read|bench)\b[^\n`|]*")]
    private static partial Regex CommandLine();
}
