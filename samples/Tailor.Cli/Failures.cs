using System.Text.RegularExpressions;
using Tailor.Compaction;
using Tailor.Format.Segments;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Cli;

/// <summary>
/// The one place that turns a failure into the line a user reads and the exit code a script checks:
/// every command's exceptions end here, so none ends in an unhandled exception with a stack trace.
/// </summary>
/// <remarks>docs/operations.md ("Exit codes and failures of the tailor command") lists the outcomes.</remarks>
internal static partial class Failures
{
    /// <summary>Set to 1 to have the stack trace printed after the one-line message (for bug reports).</summary>
    public const string StackTraceVariable = "TAILOR_STACK_TRACE";

    /// <summary>The message (one line, starting <c>error:</c> or <c>stopped.</c>) and exit code of a failure.</summary>
    /// <param name="failure">What the command threw.</param>
    /// <param name="stopping">Whether Ctrl-C or SIGTERM asked the command to stop.</param>
    public static (string Message, int Code) Describe(Exception failure, bool stopping)
    {
        var e = Unwrap(failure);
        return e switch
        {
            CliException cli => ($"error: {OneLine(cli.Message)}", cli.ExitCode),
            OperationCanceledException when stopping => ("stopped.", ExitCodes.Failure),
            ObjectStoreException store => ($"error: the store failed: {OneLine(store.Message)}", ExitCodes.Failure),
            CompactionException or TimeoutException or SegmentFormatException or SFileFormatException => ($"error: {OneLine(e.Message)}", ExitCodes.Failure),
            Confluent.Kafka.KafkaException kafka => ($"error: Kafka: {OneLine(kafka.Error.Reason)}", ExitCodes.Failure),
            UnauthorizedAccessException or IOException => ($"error: the local file system refused: {OneLine(e.Message)}", ExitCodes.Failure),
            OutOfMemoryException => ("error: out of memory: give the command a smaller --memory or more memory.", ExitCodes.Failure),
            _ => ($"error: unexpected failure ({e.GetType().Name}): {OneLine(e.Message)} Set {StackTraceVariable}=1 to print where it happened, and report it.", ExitCodes.Failure),
        };
    }

    /// <summary>Rewrites a parser message that names a .NET type into words about the option.</summary>
    public static string DescribeParseError(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var what = match.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "a whole number",
            "System.UInt32" or "System.UInt64" => "a whole number of 0 or more",
            "System.Double" or "System.Nullable`1[System.Double]" => "a number",
            "System.Boolean" => "true or false",
            _ => "a valid value",
        };
        return $"{match.Groups["name"].Value}: '{match.Groups["value"].Value}' is not {what}.";
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    e = aggregate.InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(" (Parameter '", 2)[0].Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|argument|command) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();
}
