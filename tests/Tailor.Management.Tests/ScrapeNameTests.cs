using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tailor.Compaction;
using Tailor.Query;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.Management.Tests;

/// <summary>
/// The names a Prometheus server scrapes: derived from every instrument of every <c>Tailor.*</c> meter,
/// checked against what the exporter really writes, listed in docs/operations.md, and the only ones the
/// Grafana dashboard in docs/ may use.
/// </summary>
public sealed partial class ScrapeNameTests
{
    private static string Operations => Path.Combine(ManagementKit.RepositoryRoot, "docs", "operations.md");

    private static string Dashboard => Path.Combine(ManagementKit.RepositoryRoot, "docs", "grafana-dashboard.json");

    [Fact]
    public async Task The_exporter_writes_every_instrument_under_the_name_the_rule_gives()
    {
        // A twin of every instrument (same kind and unit, name prefixed with "probe.") on a meter of the
        // test's own, each recorded once after the exporter listens, so every family is in one real scrape.
        await using var server = await ManagementServer.StartAsync(new ManagementOptions { Urls = "http://127.0.0.1:0" }, []);
        using var meter = new Meter("Tailor.NameProbe");
        foreach (var instrument in Instruments())
        {
            var name = "probe." + instrument.Name;
            switch (instrument.Kind)
            {
                case "counter":
                    meter.CreateCounter<long>(name, instrument.Unit).Add(1);
                    break;
                case "histogram":
                    meter.CreateHistogram<double>(name, instrument.Unit).Record(1);
                    break;
                default:
                    meter.CreateObservableGauge(name, () => 1L, instrument.Unit);
                    break;
            }
        }

        var scrape = (await ManagementKit.GetAsync(new Uri(server.Addresses[0], "/metrics"))).Body;
        var families = ManagementKit.Families(scrape);
        var wrong = Instruments()
            .Where(i => !families.TryGetValue("probe_" + i.ScrapeName, out var kind) || kind != i.Kind)
            .Select(i => $"{i.Name} ({i.Kind}, {i.Unit}) expected as probe_{i.ScrapeName}")
            .ToList();
        Assert.True(wrong.Count == 0, $"Not in the scrape as expected:\n{string.Join('\n', wrong)}\nscrape families:\n{string.Join('\n', families.Keys.Where(k => k.StartsWith("probe_", StringComparison.Ordinal)))}");
    }

    [Fact]
    public void Operations_md_lists_the_scrape_name_of_every_instrument_and_no_other()
    {
        var text = File.ReadAllText(Operations);
        var section = Regex.Match(text, @"<!-- scrape-names -->\n(?<table>.*?)<!-- end scrape-names -->", RegexOptions.Singleline);
        var expected = new StringBuilder("| instrument | scraped as | type |\n| --- | --- | --- |\n");
        foreach (var instrument in Instruments())
        {
            expected.Append(System.Globalization.CultureInfo.InvariantCulture, $"| `{instrument.Name}` | `{instrument.ScrapeName}` | {instrument.Kind} |\n");
        }

        Assert.True(section.Success && section.Groups["table"].Value == expected.ToString(),
            $"docs/operations.md needs this between '<!-- scrape-names -->' and '<!-- end scrape-names -->':\n{expected}");
    }

    [Fact]
    public void The_grafana_dashboard_queries_only_names_that_are_scraped()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var expressions = new List<string>();
        Collect(dashboard.RootElement, expressions);
        Assert.NotEmpty(expressions);

        var scraped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instrument in Instruments())
        {
            scraped.Add(instrument.ScrapeName);
            if (instrument.Kind == "histogram")
            {
                scraped.UnionWith(new[] { "_bucket", "_sum", "_count" }.Select(s => instrument.ScrapeName + s));
            }
        }

        var used = expressions.SelectMany(e => ScrapedName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(used.Except(scraped));

        // What the dashboard is for: the sink's rate and lag, uploads, compaction stages and queries.
        foreach (var needed in new[] { "tailor_sink_payloads_total", "tailor_sink_consumer_lag", "tailor_storage_request_duration_seconds_bucket",
            "tailor_storage_retries_total", "tailor_compaction_stage_duration_seconds_sum", "tailor_query_duration_seconds_bucket" })
        {
            Assert.Contains(needed, used);
        }
    }

    /// <summary>Every instrument of every Tailor meter the packages create, with its Prometheus name.</summary>
    internal static IReadOnlyList<ScrapedInstrument> Instruments()
    {
        foreach (var type in new[] { typeof(ObjectStoreMetrics), typeof(SinkMetrics), typeof(CompactionMetrics), typeof(QueryMetrics) })
        {
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        }

        var found = new List<ScrapedInstrument>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name.StartsWith("Tailor.", StringComparison.Ordinal) && instrument.Meter.Name != "Tailor.NameProbe")
                {
                    var kind = instrument.GetType().Name switch
                    {
                        var n when n.StartsWith("Counter", StringComparison.Ordinal) || n.StartsWith("ObservableCounter", StringComparison.Ordinal) => "counter",
                        var n when n.StartsWith("Histogram", StringComparison.Ordinal) => "histogram",
                        _ => "gauge",
                    };
                    lock (found)
                    {
                        found.Add(new ScrapedInstrument(instrument.Name, instrument.Unit ?? string.Empty, kind));
                    }
                }
            };
            listener.Start();
        }

        return [.. found.DistinctBy(i => i.Name).OrderBy(i => i.Name, StringComparer.Ordinal)];
    }

    private static void Collect(JsonElement element, List<string> expressions)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        expressions.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, expressions);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, expressions);
                }

                break;
        }
    }

    [GeneratedRegex(@"\btailor_[a-z0-9_]+")]
    private static partial Regex ScrapedName();
}

/// <summary>One instrument and the name OpenTelemetry's Prometheus exporter gives it.</summary>
internal sealed record ScrapedInstrument(string Name, string Unit, string Kind)
{
    /// <summary>
    /// Dots become underscores; a unit other than an annotation (<c>{payload}</c>) is appended in words
    /// unless the name already ends with it (<c>s</c> → <c>_seconds</c>, <c>ms</c> → <c>_milliseconds</c>,
    /// <c>By</c> → <c>_bytes</c>); counters end in <c>_total</c>.
    /// </summary>
    public string ScrapeName
    {
        get
        {
            var name = Name.Replace('.', '_');
            var unit = Unit switch
            {
                "s" => "seconds",
                "ms" => "milliseconds",
                "By" => "bytes",
                _ when Unit.StartsWith('{') || Unit.Length == 0 => string.Empty,
                _ => Unit,
            };
            if (unit.Length > 0 && !name.EndsWith("_" + unit, StringComparison.Ordinal))
            {
                name += "_" + unit;
            }

            return Kind == "counter" ? name + "_total" : name;
        }
    }
}
