using System.Diagnostics;
using System.Text.Json;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>One <c>tailor</c> command run to its end, as an operator runs it: exit code, stdout and stderr.</summary>
internal sealed record TailorRun(int Code, string Output, string Error, TimeSpan Elapsed)
{
    /// <summary>Runs <c>tailor ARGS</c> with the same dotnet host as the tests and waits for its exit.</summary>
    public static async Task<TailorRun> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(GameDaySettings.Tailor);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(GameDaySettings.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"tailor {string.Join(' ', arguments)} did not exit within {GameDaySettings.Timeout}.");
        }

        return new TailorRun(process.ExitCode, await output, await error, clock.Elapsed);
    }

    /// <summary>Stdout as the one JSON object a <c>--json</c> command prints.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Output);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"exit {Code} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Output}\nstderr:\n{Error}";
}
