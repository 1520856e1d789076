using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Tailor.Management.Tests;

/// <summary>What the tests share: the repository's folders, an HTTP client, and reading a Prometheus scrape.</summary>
internal static partial class ManagementKit
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The repository's root folder (where <c>Tailor.sln</c> is).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The configuration this test assembly (and so the hosts it references) was built in.</summary>
    public static string Configuration { get; } =
        typeof(ManagementKit).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "Release";

    /// <summary>The built assembly of a sample host: <c>samples/FOLDER/bin/CONFIG/net10.0/NAME.dll</c>.</summary>
    public static string Sample(string folder, string assembly) =>
        Path.Combine(RepositoryRoot, "samples", folder, "bin", Configuration, "net10.0", assembly + ".dll");

    public static async Task<(HttpStatusCode Status, string Body, string? ContentType)> GetAsync(Uri uri)
    {
        using var response = await Http.GetAsync(uri);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The samples of a scrape: name with labels → value.</summary>
    public static Dictionary<string, double> Samples(string scrape)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in scrape.Split('\n'))
        {
            var match = SampleLine().Match(line);
            if (match.Success)
            {
                samples[match.Groups["series"].Value] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return samples;
    }

    /// <summary>The metric family names (<c># TYPE name kind</c>) of a scrape, with their kind.</summary>
    public static Dictionary<string, string> Families(string scrape) =>
        TypeLine().Matches(scrape).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["kind"].Value, StringComparer.Ordinal);

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tailor.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Tailor.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^(?<series>[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (?<value>[-+0-9.eEInfNa]+)( \d+)?\r?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<kind>\S+)", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
