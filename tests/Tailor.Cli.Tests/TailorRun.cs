using System.Diagnostics;
using System.Text.Json;
using Tailor.Testing;

namespace Tailor.Cli.Tests;

/// <summary>The built <c>tailor</c> executable (copied next to the tests), run to its end or started as a process.</summary>
internal static class TailorRun
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "tailor.dll");

    /// <summary>Runs <c>tailor ARGS</c> and returns its exit code, stdout and stderr.</summary>
    public static async Task<Result> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Say what the command was doing instead of a bare cancellation.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"tailor {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds:F0} s.\nstdout: {await output}\nstderr: {await error}");
        }

        return new Result(arguments, process.ExitCode, await output, await error);
    }

    /// <summary>Starts <c>tailor ARGS</c> as a long-running process (a worker).</summary>
    public static ChildProcess Start(params string[] arguments) => ChildProcess.StartDotnet(Dll, arguments);

    public sealed record Result(string[] Arguments, int Code, string Output, string Error)
    {
        /// <summary>Stdout as the one JSON object a --json command prints; fails when there is anything else.</summary>
        public JsonElement Json()
        {
            Assert.True(Code is 0 or 3, $"tailor {string.Join(' ', Arguments)} exited {Code}: {Error}");
            using var document = JsonDocument.Parse(Output);
            return document.RootElement.Clone();
        }

        public override string ToString() => $"tailor {string.Join(' ', Arguments)} → {Code}\nstdout: {Output}\nstderr: {Error}";
    }
}

/// <summary>A store with generated segments for the store commands: <c>tailor gen</c> runs once per test class.</summary>
public sealed class GeneratedStore : IAsyncLifetime
{
    public const string Window = "2026-11-26T00:00Z/4h";

    private readonly TempFolder _folder = new("cli-store");

    public string Path => _folder.Path;

    public string Uri => _folder.Uri;

    internal TailorRun.Result Gen { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Gen = await TailorRun.RunAsync("gen", "--store", Uri, "--points", "150000", "--series", "1500", "--orgs", "12", "--shards", "3", "--seed", "5", "--json");

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}
