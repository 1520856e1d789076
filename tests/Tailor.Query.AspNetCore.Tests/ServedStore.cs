using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Testing;

namespace Tailor.Query.AspNetCore.Tests;

/// <summary>
/// A store that <c>tailor gen</c> and <c>tailor compact</c> wrote (one 4-hour window compacted, the next
/// absent), a <c>tailor serve</c> over it on a free loopback port, and one org and metric to ask for.
/// </summary>
public sealed partial class ServedStore : IAsyncLifetime
{
    public const string Window = "2026-11-26T00:00Z/4h";
    public const long From = 1_795_651_200; // 2026-11-26T00:00Z
    public const long To = From + 8 * 3600;  // two windows: the second is not compacted

    private readonly TempFolder _folder = new("serve");
    private ChildProcess? _server;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static string Tailor => System.IO.Path.Combine(AppContext.BaseDirectory, "tailor.dll");

    public string Uri => _folder.Uri;

    public string Path => _folder.Path;

    public Uri Root { get; private set; } = null!;

    public SeriesKey Series { get; private set; }

    public string QueryString(string extra = "") =>
        string.Create(CultureInfo.InvariantCulture, $"org={Series.OrgId}&metric={Series.MetricId}&from={From}&to={To}{extra}");

    public async Task InitializeAsync()
    {
        await RunAsync("gen", "--store", Uri, "--points", "60000", "--series", "300", "--orgs", "4", "--shards", "3", "--seed", "11", "--json");
        await RunAsync("compact", "--store", Uri, "--all", "--window", Window);
        var manifest = Directory.EnumerateFiles(System.IO.Path.Combine(Path, "series"), "_manifest.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        Series = SeriesKey.Parse(CompactionManifest.Parse(await File.ReadAllBytesAsync(manifest)).Outputs[0].LastSeries);
        (_server, Root) = await StartServerAsync();
    }

    /// <summary>Starts a <c>tailor serve</c> over the store with extra flags; returns it and where it listens.</summary>
    public async Task<(ChildProcess Server, Uri Root)> StartServerAsync(params string[] extra)
    {
        var server = ChildProcess.StartDotnet(Tailor, ["serve", "--store", Uri, "--urls", "http://127.0.0.1:0", "--shards", "3", .. extra]);
        var line = await server.WaitForLineAsync(l => l.StartsWith("serving ", StringComparison.Ordinal), Timeout);
        return (server, new Uri(ServingLine().Match(line).Groups["url"].Value + "/"));
    }

    /// <summary>Runs a tailor command to its end and returns stdout; fails the test on a non-zero exit.</summary>
    public static async Task<string> RunAsync(params string[] arguments)
    {
        await using var run = ChildProcess.StartDotnet(Tailor, arguments);
        var code = await run.WaitForExitAsync(Timeout);
        Assert.True(code == 0, $"tailor {string.Join(' ', arguments)} exited {code}: {run.Describe()}");
        return string.Join('\n', run.Lines);
    }

    public static async Task<(int Status, JsonElement Body, string Text, string? Type)> GetAsync(Uri uri, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 && text[0] == '{' ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return ((int)response.StatusCode, body, text, response.Content.Headers.ContentType?.MediaType);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _folder.Dispose();
    }

    [GeneratedRegex(@"^serving (?<url>http://\S+)")]
    private static partial Regex ServingLine();
}
