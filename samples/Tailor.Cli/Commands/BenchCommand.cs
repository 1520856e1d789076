using System.CommandLine;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor bench (format|compaction|sink)</c>: side-by-side throughput figures as JSON.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Run a throughput benchmark and print its figures (format, compaction or sink).");
        return command;
    }
}
