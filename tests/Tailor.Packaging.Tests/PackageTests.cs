using System.IO.Compression;
using System.Security;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace Tailor.Packaging.Tests;

/// <summary>
/// The packages as a user receives them: what each one holds and says about itself, a program that
/// references them by version from a package source (not the projects) builds and round-trips data, and
/// the tool installs from its package and runs.
/// </summary>
public sealed class PackageTests(PackageFixture packages, ITestOutputHelper output) : IClassFixture<PackageFixture>
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public void Pack_makes_the_five_libraries_with_symbols_and_the_tool_and_nothing_else()
    {
        var expected = PackageFixture.Libraries.SelectMany(id => new[] { $"{id}.{packages.Version}.nupkg", $"{id}.{packages.Version}.snupkg" })
            .Append($"{PackageFixture.Tool}.{packages.Version}.nupkg")
            .Order(StringComparer.Ordinal);
        var made = Directory.GetFiles(packages.Packages).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, made);
        output.WriteLine(packages.Timings.ToString());
    }

    [Theory]
    [InlineData("Tailor.Format", new string[0])]
    [InlineData("Tailor.Storage", new string[0])]
    [InlineData("Tailor.Sink", new[] { "Tailor.Format", "Tailor.Storage" })]
    [InlineData("Tailor.Compaction", new[] { "Tailor.Format", "Tailor.Storage" })]
    [InlineData("Tailor.Query", new[] { "Tailor.Format", "Tailor.Storage" })]
    public void A_library_package_carries_its_metadata_readme_docs_and_symbols(string id, string[] tailorDependencies)
    {
        using var package = ZipFile.OpenRead(packages.PackagePath(id));
        var files = package.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains($"lib/net10.0/{id}.dll", files);
        Assert.Contains($"lib/net10.0/{id}.xml", files);
        Assert.Contains("README.md", files);

        var metadata = Metadata(package, id);
        Assert.Equal(id, Value(metadata, "id"));
        Assert.Equal(packages.Version, Value(metadata, "version"));
        Assert.Equal("Tailor contributors", Value(metadata, "authors"));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")));
        Assert.Equal("MIT", Value(metadata, "license"));
        Assert.Equal("README.md", Value(metadata, "readme"));
        Assert.StartsWith("https://github.com/", Value(metadata, "projectUrl"), StringComparison.Ordinal);
        Assert.Contains("tailor", Value(metadata, "tags").Split(' '));
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.StartsWith("https://github.com/", (string?)repository.Attribute("url"), StringComparison.Ordinal);

        // Tailor packages depend on each other at exactly the version packed with them.
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => ((string)e.Attribute("id")!, (string)e.Attribute("version")!)).ToList();
        Assert.Equal(tailorDependencies.Order(), dependencies.Where(d => d.Item1.StartsWith("Tailor.", StringComparison.Ordinal)).Select(d => d.Item1).Order());
        Assert.All(dependencies.Where(d => d.Item1.StartsWith("Tailor.", StringComparison.Ordinal)), d => Assert.Equal(packages.Version, d.Item2));

        // A real README: an example and links, not the description again.
        var readme = Read(package, "README.md");
        Assert.Contains("```csharp", readme, StringComparison.Ordinal);
        Assert.Contains("](https://", readme, StringComparison.Ordinal);

        using var symbols = ZipFile.OpenRead(packages.PackagePath(id, "snupkg"));
        Assert.Contains($"lib/net10.0/{id}.pdb", symbols.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void The_tool_package_is_a_dotnet_tool_with_its_readme_and_no_compiler_docs()
    {
        using var package = ZipFile.OpenRead(packages.PackagePath(PackageFixture.Tool));
        var metadata = Metadata(package, PackageFixture.Tool);
        Assert.Equal("DotnetTool", (string?)metadata.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name"));
        Assert.Equal("README.md", Value(metadata, "readme"));
        var files = package.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("tools/net10.0/any/tailor.dll", files);
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", files);
        Assert.DoesNotContain(files, f => f.StartsWith("tools/", StringComparison.Ordinal) && f.EndsWith(".xml", StringComparison.Ordinal) && !f.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));

        // `tailor bench` ships its peers (ParquetSharp, DuckDB) with their native libraries: that is what makes the tool large.
        Assert.Contains("tools/net10.0/any/DuckDB.NET.Data.dll", files);
        Assert.Contains("tools/net10.0/any/ParquetSharp.dll", files);
        output.WriteLine($"{PackageFixture.Tool} package: {new FileInfo(packages.PackagePath(PackageFixture.Tool)).Length / (1 << 20)} MiB, "
            + $"{package.Entries.Sum(e => e.Length) / (1 << 20)} MiB unpacked");
    }

    [Fact]
    public async Task A_consumer_referencing_the_packages_by_version_builds_and_round_trips_a_segment_and_an_S_file()
    {
        var consumer = Path.Combine(packages.Root, "consumer");
        Directory.CreateDirectory(consumer);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "Program.cs"), Path.Combine(consumer, "Program.cs"));
        File.WriteAllText(Path.Combine(consumer, "consumer.csproj"), ConsumerProject());
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), await ConsumerNuGetConfigAsync());
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(packages.Root, "consumer-packages") };

        var build = (await DotnetCommand.RunAsync(DotnetCommand.Host, ["build", "--configuration", "Release", "--disable-build-servers", "-nologo"],
            consumer, environment, StepTimeout)).EnsureSuccess();
        packages.Record("consumer restore and build", build.Elapsed);

        // Only Tailor packages came from the local folder; everything else from the machine's source (or its cache).
        var restored = Directory.GetDirectories(Path.Combine(packages.Root, "consumer-packages")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(PackageFixture.Libraries.Select(id => id.ToLowerInvariant()).Order(StringComparer.Ordinal), restored.Where(p => p!.StartsWith("tailor.", StringComparison.Ordinal)));

        var run = (await DotnetCommand.RunAsync(DotnetCommand.Host, ["exec", Path.Combine(consumer, "bin", "Release", "net10.0", "consumer.dll"), Path.Combine(consumer, "work")],
            consumer, environment, StepTimeout)).EnsureSuccess();
        packages.Record("consumer run", run.Elapsed);
        output.WriteLine(run.Output);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("segment ok: 3 records, 120 points,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("sfile ok: 40 points scanned, series 1:3:42 found", StringComparison.Ordinal));
        Assert.Contains("compaction ok: 120 points written, verify found 120, missing 0, different 0, extra 0", lines);
        output.WriteLine(packages.Timings.ToString());
    }

    [Fact]
    public async Task The_tool_installs_from_its_package_into_a_tool_path_and_runs()
    {
        // A folder with no nuget.config of its own: the machine's sources plus --add-source, as the
        // README tells a user (the CLI refuses --add-source where package source mapping is configured).
        var directory = Path.Combine(packages.Root, "tool-install");
        var toolPath = Path.Combine(packages.Root, "tools");
        Directory.CreateDirectory(directory);
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(packages.Root, "tool-packages") };
        var install = (await DotnetCommand.RunAsync(DotnetCommand.Host,
            ["tool", "install", PackageFixture.Tool, "--version", packages.Version, "--tool-path", toolPath, "--add-source", packages.Packages],
            directory, environment, StepTimeout)).EnsureSuccess();
        packages.Record("tool install", install.Elapsed);

        var help = (await DotnetCommand.RunAsync(Path.Combine(toolPath, OperatingSystem.IsWindows() ? "tailor.exe" : "tailor"), ["--help"],
            directory, environment, StepTimeout)).EnsureSuccess();
        packages.Record("tailor --help", help.Elapsed);
        Assert.Contains("Usage:", help.Output, StringComparison.Ordinal);
        foreach (var command in new[] { "demo", "sink", "gen", "plan", "compact", "worker", "verify", "inspect", "read", "query", "bench" })
        {
            Assert.Matches($"(?m)^  {command}\\b", help.Output);
        }

        output.WriteLine(packages.Timings.ToString());
    }

    private string ConsumerProject()
    {
        var references = string.Concat(PackageFixture.Libraries.Select(id => $"""
                <PackageReference Include="{id}" Version="{packages.Version}" />

            """));
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- The test is about Tailor's packages; advisories for third-party ones are the repository build's concern. -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
            {references}  </ItemGroup>
            </Project>

            """;
    }

    /// <summary>
    /// Adds the local folder as a source for Tailor.* only; every other package maps to the machine's
    /// own source (key <c>nuget.org</c>), with no source cleared. The machine's package cache is a
    /// read-only fallback, so packages the repository already restored are not downloaded again, while
    /// the Tailor packages land in a fresh folder of the test's own.
    /// </summary>
    private async Task<string> ConsumerNuGetConfigAsync()
    {
        var locals = (await DotnetCommand.RunAsync(DotnetCommand.Host, ["nuget", "locals", "global-packages", "--list"],
            packages.Root, new Dictionary<string, string?>(), StepTimeout)).EnsureSuccess();
        var machineCache = locals.Output.Trim()["global-packages:".Length..].Trim();
        Assert.True(Directory.Exists(machineCache), $"The machine's package cache {machineCache} does not exist.");
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="tailor-local" value="{SecurityElement.Escape(packages.Packages)}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="tailor-local">
                  <package pattern="Tailor.*" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <add key="machine-cache" value="{SecurityElement.Escape(machineCache)}" />
              </fallbackPackageFolders>
            </configuration>

            """;
    }

    private static XElement Metadata(ZipArchive package, string id)
    {
        var nuspec = XDocument.Parse(Read(package, $"{id}.nuspec"));
        return nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Value(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? throw new Xunit.Sdk.XunitException($"The nuspec has no <{name}>.");

    private static string Read(ZipArchive package, string entry)
    {
        using var reader = new StreamReader(package.GetEntry(entry)?.Open() ?? throw new Xunit.Sdk.XunitException($"The package has no {entry}."));
        return reader.ReadToEnd();
    }
}
