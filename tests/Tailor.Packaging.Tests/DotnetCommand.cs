using System.Diagnostics;
using System.Text;

namespace Tailor.Packaging.Tests;

/// <summary>Runs the <c>dotnet</c> CLI (or a program it installed) to its end, as a person at a terminal would.</summary>
internal static class DotnetCommand
{
    /// <summary>The <c>dotnet</c> host that runs the tests (the CLI names itself to child processes).</summary>
    public static string Host
    {
        get
        {
            var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(fromCli) && File.Exists(fromCli) ? fromCli : "dotnet";
        }
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="directory"/>.</summary>
    /// <param name="program">The executable: <see cref="Host"/>, or an installed tool's command.</param>
    /// <param name="arguments">The arguments, passed as they are (no shell).</param>
    /// <param name="directory">The working directory: it decides which <c>nuget.config</c> files apply.</param>
    /// <param name="environment">Variables to set (a null value removes the variable).</param>
    /// <param name="timeout">Past it the process tree is killed and the run fails.</param>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> arguments, string directory,
        IReadOnlyDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host inherits MSBuild's variables from `dotnet test`; a nested CLI must find its own.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{Describe(program, start.ArgumentList)} did not finish within {timeout}.\nstdout:\n{Text(output)}\nstderr:\n{Text(error)}");
        }

        // The asynchronous readers may still hold the last lines: this waits for their end-of-stream.
        process.WaitForExit();
        return new Result(Describe(program, start.ArgumentList), process.ExitCode, Text(output), Text(error), watch.Elapsed);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string Describe(string program, IEnumerable<string> arguments) => $"{Path.GetFileName(program)} {string.Join(' ', arguments)}";

    /// <summary>How a run ended.</summary>
    /// <param name="Command">The command line, for messages.</param>
    /// <param name="ExitCode">The exit code.</param>
    /// <param name="Output">Standard output.</param>
    /// <param name="Error">Standard error.</param>
    /// <param name="Elapsed">How long it took.</param>
    public sealed record Result(string Command, int ExitCode, string Output, string Error, TimeSpan Elapsed)
    {
        /// <summary>Fails the test with the whole output unless the exit code is 0.</summary>
        public Result EnsureSuccess()
        {
            Assert.True(ExitCode == 0, $"{Command} exited {ExitCode} after {Elapsed.TotalSeconds:F0} s.\nstdout:\n{Output}\nstderr:\n{Error}");
            return this;
        }
    }
}
