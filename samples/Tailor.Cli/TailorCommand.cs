using System.CommandLine;
using Tailor.Cli.Commands;

namespace Tailor.Cli;

/// <summary>The tailor command: builds the command tree and maps failures to exit codes.</summary>
internal static class TailorCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Tailor: Kafka metric payloads to compact per-series files on object storage.");
        root.Add(DemoCommand.Create());
        root.Add(SinkCommand.Create());
        root.Add(GenCommand.Create());
        root.Add(PlanCommand.Create());
        root.Add(CompactCommand.Create());
        root.Add(WorkerCommand.Create());
        root.Add(VerifyCommand.Create());
        root.Add(InspectCommand.Create());
        root.Add(ReadCommand.Create());
        root.Add(QueryCommand.Create());
        root.Add(ExportCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(ServeCommand.Create());
        return root;
    }

    /// <summary>How long a command other than sink, worker and gen (twice this) may take to stop after Ctrl-C or SIGTERM.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {Failures.DescribeParseError(error.Message)}");
            }

            await Console.Error.WriteLineAsync("Run with --help for usage and examples.");
            return ExitCodes.BadArguments;
        }

        using var cancel = new CancellationTokenSource();
        var signals = 0;

        // sink and worker have graceful stops of their own (upload and commit; --stop-timeout), bounded by
        // their options; gen --to-kafka delivers what it has queued (a flush of at most 5 s); every other
        // command has nothing to finish, so it gets a few seconds at most.
        TimeSpan? grace = args.Length > 0 && args[0] is "sink" or "worker" ? null : args.Length > 0 && args[0] == "gen" ? 2 * StopGrace : StopGrace;
        void Stop()
        {
            // The first Ctrl-C or SIGTERM asks the command to stop; a second one ends the process at
            // once, so nothing can keep a user waiting who asked twice.
            if (Interlocked.Increment(ref signals) > 1)
            {
                Console.Error.WriteLine("stopped at once (second signal).");
                Environment.Exit(ExitCodes.Failure);
            }

            cancel.Cancel();
            if (grace is { } bound)
            {
                _ = Task.Delay(bound).ContinueWith(_ =>
                {
                    Console.Error.WriteLine($"stopped at once: the command was still stopping {bound.TotalSeconds:F0} s after the signal.");
                    Environment.Exit(ExitCodes.Failure);
                }, TaskScheduler.Default);
            }
        }

        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            Stop();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            Stop();
        });
        try
        {
            // Commands report failures by throwing; the library's own handler would turn those into a
            // stack trace and exit code 1, so it is off and Failures maps every exception to one line.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancel.Token);
        }
        catch (Exception e)
        {
            var (message, code) = Failures.Describe(e, cancel.IsCancellationRequested);
            await Console.Error.WriteLineAsync(message);
            if (Environment.GetEnvironmentVariable(Failures.StackTraceVariable) is "1" or "true")
            {
                await Console.Error.WriteLineAsync(e.ToString());
            }

            return code;
        }
    }
}

/// <summary>The exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadArguments = 2;
    public const int VerifyMismatch = 3;
}

/// <summary>A failure with a message that says what to fix, and its exit code.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
