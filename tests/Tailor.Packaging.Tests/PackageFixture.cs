using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Packaging.Tests;

/// <summary>
/// Packs every packable project of the repository once, with <c>dotnet pack --no-build</c> over the
/// solution, into a temporary folder. The packages get a version of their own
/// (<c>0.1.0-packagetest.&lt;UTC time&gt;</c>) so that no NuGet cache can hand a consumer an older build under
/// the same version, and that no public source holds.
/// </summary>
/// <remarks>
/// The build outputs must exist in the test's own configuration: the test project references the
/// tool project (which references the four libraries) only to have them built first. Everything the
/// packing writes goes to the temporary folder (packages, intermediate nuspec files, the tool's publish
/// folder), which is deleted at the end.
/// </remarks>
public sealed class PackageFixture : IAsyncLifetime
{
    /// <summary>The library packages, in dependency order.</summary>
    public static readonly string[] Libraries = ["Tailor.Format", "Tailor.Storage", "Tailor.Sink", "Tailor.Compaction", "Tailor.Query"];

    /// <summary>The tool package.</summary>
    public const string Tool = "Tailor.Cli";

    private readonly TempFolder _root = new("packages");

    /// <summary>The temporary folder everything of this test lives in.</summary>
    public string Root => _root.Path;

    /// <summary>The local folder the packages are packed into (the consumers' package source).</summary>
    public string Packages => Path.Combine(Root, "packages");

    /// <summary>The version every package was packed with.</summary>
    public string Version { get; } = string.Create(CultureInfo.InvariantCulture,
        $"{typeof(ShardMap).Assembly.GetName().Version!.ToString(3)}-packagetest.{DateTime.UtcNow:yyyyMMddHHmmss}");

    /// <summary>The repository's root folder (where <c>Tailor.sln</c> is).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The configuration this test assembly (and so the projects it references) was built in.</summary>
    public static string Configuration { get; } =
        typeof(PackageFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>What each step of the tests took, in order, for the logs.</summary>
    public StringBuilder Timings { get; } = new();

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        var pack = await DotnetCommand.RunAsync(DotnetCommand.Host,
            [
                "pack", Path.Combine(RepositoryRoot, "Tailor.sln"),
                "--configuration", Configuration,
                "--no-build",
                "--output", Packages,
                "--disable-build-servers",
                "-nologo",
                $"-p:PackageVersion={Version}",
                $"-p:NuspecOutputPath={Path.Combine(Root, "nuspec")}/",
                $"-p:PublishDir={Path.Combine(Root, "tool-publish")}/",
            ],
            RepositoryRoot,
            new Dictionary<string, string?>(),
            TimeSpan.FromMinutes(5));
        pack.EnsureSuccess();
        Record("pack (--no-build)", watch.Elapsed);
    }

    /// <summary>Adds a step's duration to <see cref="Timings"/>.</summary>
    public void Record(string step, TimeSpan elapsed)
    {
        lock (Timings)
        {
            Timings.Append(CultureInfo.InvariantCulture, $"{step}: {elapsed.TotalSeconds:F1} s\n");
        }
    }

    /// <summary>The path of a package file in <see cref="Packages"/>.</summary>
    public string PackagePath(string id, string extension = "nupkg") => Path.Combine(Packages, $"{id}.{Version}.{extension}");

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _root.Dispose();
        return Task.CompletedTask;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tailor.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Tailor.sln above {AppContext.BaseDirectory}: the package tests run from a build inside the repository.");
    }
}
