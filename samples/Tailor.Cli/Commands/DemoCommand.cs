using System.CommandLine;
using Spectre.Console;
using Tailor.Cli.Demo;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor demo</c>: the whole pipeline on embedded defaults.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout (progress stays on stderr)." };
        var points = new Option<long>("--points") { Description = "Points of realistic traffic to produce.", DefaultValueFactory = _ => 5_000_000 };
        var series = new Option<int>("--series") { Description = "Series in the population.", DefaultValueFactory = _ => 20_000 };
        var data = new Option<string>("--data") { Description = "Local folder for the store; each run gets its own subfolder.", DefaultValueFactory = _ => "tailor-data" };
        var store = new Option<string?>("--store") { Description = "A store URI instead of a local folder, e.g. s3://bucket/demo?endpoint=http://127.0.0.1:9000." };
        var clean = new Option<bool>("--clean") { Description = "Delete the runs an earlier demo left in the data folder first (only what the demo made: it refuses a folder it did not create)." };
        var workers = new Option<int>("--workers") { Description = "Sink workers in the consumer group (1 to 8).", DefaultValueFactory = _ => 2 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the workload.", DefaultValueFactory = _ => 1 };
        var command = new Command("demo", """
            Run the whole pipeline on embedded defaults: an in-process Kafka cluster (librdkafka's mock
            brokers speaking the real protocol on loopback), realistic traffic over several topics and
            partitions, sink workers in one consumer group writing segments to a local store, compaction
            of every shard and window with input, and a one-to-one verification. Prints a summary.

            Examples:
              tailor demo
              tailor demo --points 1000000 --json
              tailor demo --clean --data /tmp/tailor-data
              tailor demo --store "s3://demo/run1?endpoint=http://127.0.0.1:9000"
            """)
        {
            json,
            points,
            series,
            data,
            store,
            clean,
            workers,
            seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new DemoOptions
            {
                Points = parse.GetValue(points),
                Series = parse.GetValue(series),
                DataFolder = parse.GetValue(data)!,
                StoreUri = parse.GetValue(store),
                Clean = parse.GetValue(clean),
                Workers = parse.GetValue(workers),
                Seed = parse.GetValue(seed),
            };
            if (options.Points < 10_000)
            {
                throw new CliException($"--points must be at least 10,000 (was {options.Points:N0}).", ExitCodes.BadArguments);
            }

            if (options.Series < 10)
            {
                throw new CliException($"--series must be at least 10 (was {options.Series:N0}).", ExitCodes.BadArguments);
            }

            if (options.Workers is < 1 or > 8)
            {
                throw new CliException($"--workers must be 1 to 8 (was {options.Workers}).", ExitCodes.BadArguments);
            }

            if (options.StoreUri is { } uri)
            {
                if (!Tailor.Storage.StoreUri.TryParse(uri, out _, out var problem))
                {
                    throw new CliException($"--store: {problem}", ExitCodes.BadArguments);
                }

                if (options.Clean || parse.GetResult(data) is { Implicit: false })
                {
                    throw new CliException("--clean and --data are for a local demo folder; with --store the demo writes to that store and deletes nothing.", ExitCodes.BadArguments);
                }
            }
            else
            {
                DemoFolder.Prepare(options.DataFolder, options.Clean);
            }

            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            var summary = await new DemoRunner(options, stderr).RunAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(summary);
            }
            else
            {
                Print(summary);
            }

            return summary.Missing + summary.Different + summary.Extra == 0 ? ExitCodes.Success : ExitCodes.VerifyMismatch;
        });
        return command;
    }

    /// <summary>
    /// The console for the summary: as wide as the terminal when stdout is one; otherwise wide enough that
    /// no line is wrapped (a file or a pipe gets each row on one line), and without colour codes.
    /// </summary>
    private static IAnsiConsole Stdout()
    {
        if (!Console.IsOutputRedirected)
        {
            return AnsiConsole.Console;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 1000;
        return console;
    }

    private static void Print(DemoSummary s)
    {
        var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.AddRow("payloads", $"{s.Payloads:N0}");
        table.AddRow("points produced", $"{s.Points:N0}");
        table.AddRow("segments", $"{s.Segments:N0} ({s.BytesIn / 1048576.0:F1} MiB, {(double)s.BytesIn / Math.Max(1, s.Points):F2} bytes/point)");
        table.AddRow("compaction jobs", $"{s.Jobs} over {string.Join(", ", s.Windows)}");
        table.AddRow("S-files", $"{s.Sfiles:N0} ({s.BytesOut / 1048576.0:F1} MiB)");
        table.AddRow("points written", $"{s.PointsOut:N0}");
        table.AddRow("bytes/point", $"{s.BytesPerPoint:F3}");
        table.AddRow("duplicates resolved", $"{s.DuplicatesResolved:N0}");
        table.AddRow("dead letters", $"{s.DeadLetters:N0}");
        foreach (var (stage, seconds) in s.StageSeconds)
        {
            table.AddRow($"time: {stage}", $"{seconds:F2} s");
        }

        table.AddRow("total time", $"{s.Seconds:F1} s");
        var ok = s.Missing + s.Different + s.Extra == 0;
        table.AddRow("verify", $"expected {s.Expected:N0}, found {s.Found:N0}, missing {s.Missing:N0}, different {s.Different:N0}, extra {s.Extra:N0} {(ok ? "[green]OK[/]" : "[red]MISMATCH[/]")}");
        Stdout().Write(table);
    }
}
