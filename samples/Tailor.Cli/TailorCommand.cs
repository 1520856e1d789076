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
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }

            await Console.Error.WriteLineAsync("Run with --help for usage and examples.");
            return ExitCodes.BadArguments;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cancel.Cancel();
        });
        try
        {
            // Commands report failures by throwing CliException; the library's own handler would turn
            // those into a stack trace and exit code 1, so it is off and the catch below maps them.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancel.Token);
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Tailor.Storage.ObjectStoreException e)
        {
            await Console.Error.WriteLineAsync($"error: the store failed: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is Tailor.Compaction.CompactionException or TimeoutException or Tailor.Format.Segments.SegmentFormatException
            or Tailor.Format.Series.SFileFormatException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Confluent.Kafka.KafkaException e)
        {
            await Console.Error.WriteLineAsync($"error: Kafka: {e.Error.Reason}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("stopped.");
            return ExitCodes.Failure;
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
