using System.CommandLine;
using Tailor.Compaction;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor verify</c>: a one-to-one join of segment points against S-file points; exit code 3 on any difference.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var shard = new Option<string?>("--shard") { Description = "The shard: org-mod-K or org-<id>." };
        var all = new Option<bool>("--all") { Description = "Verify every shard that has input in the window." };
        var window = CompactionArguments.Window();
        var memory = CompactionArguments.Memory();
        var parallelism = CompactionArguments.Parallelism();
        var workDirectory = CompactionArguments.WorkDirectory();
        var early = CompactionArguments.EarlyAllowance();
        var late = CompactionArguments.LateAllowance();
        var json = CompactionArguments.Json();
        var command = new Command("verify", """
            Check a compacted window one to one: every point of the window's segments, after the duplicate
            rule, against the points of the S-files its manifest names, streamed in key order within the
            memory budget. Give the same --early-allowance and --late-allowance as the compaction. Prints expected, found, missing, different (same series and time, other value)
            and extra (in the S-files, not in the segments), with samples of the first problems.

            Exit codes: 0 every point found once with its value; 3 any missing, different or extra point
            (a window never compacted reports every point missing); 1 the check could not run; 2 bad arguments.

            Examples:
              tailor verify --store file:///tmp/tailor-data --shard org-mod-3 --window 2026-11-26T00:00Z/4h
              tailor verify --store s3://metrics/prod --shard org-1234 --window 2026-11-26T04:00Z/4h --json
              tailor verify --store file:///tmp/tailor-data --all --window 2026-11-26T00:00Z/4h
            """)
        {
            store,
            shard,
            all,
            window,
            memory,
            parallelism,
            workDirectory,
            early,
            late,
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if ((parse.GetValue(shard) is null) == !parse.GetValue(all))
            {
                throw new CliException(parse.GetValue(all)
                    ? "Give either --shard S or --all, not both."
                    : "Say what to verify: --shard S (e.g. org-mod-3) or --all (every shard with input).", ExitCodes.BadArguments);
            }

            var w = CompactionArguments.ParseWindow(parse.GetValue(window)!);
            var options = CompactionArguments.JobOptions(parse, memory, parallelism, workDirectory);
            CompactionArguments.ApplyAllowances(parse, early, late, options);
            CompactionArguments.CheckReach(w, options);
            CompactionArguments.Validate(options);
            await using var objects = CompactionArguments.OpenStore(parse.GetValue(store)!, mustExist: true);
            if (parse.GetValue(all))
            {
                return await VerifyAllShards.RunAsync(objects, w, options, parse.GetValue(json), cancellationToken);
            }

            var s = CompactionArguments.ParseShard(parse.GetValue(shard)!);
            await Console.Error.WriteLineAsync($"verifying {s.Value} {w} …");
            VerifyReport report;
            try
            {
                report = await new CompactionVerifier(objects, options).VerifyAsync(s, w, cancellationToken);
            }
            catch (FormatException e)
            {
                throw new CliException($"The manifest of {s.Value} {w} is unreadable: {e.Message}", ExitCodes.Failure);
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(report);
            }
            else
            {
                Console.WriteLine($"expected   {report.Expected:N0}");
                Console.WriteLine($"found      {report.Found:N0}");
                Console.WriteLine($"missing    {report.Missing:N0}");
                Console.WriteLine($"different  {report.Different:N0}");
                Console.WriteLine($"extra      {report.Extra:N0}");
                Console.WriteLine($"series     {report.SeriesExpected:N0} expected, {report.SeriesFound:N0} found");
                Console.WriteLine($"inputs     {report.Segments} segments ({report.DamagedRecords} damaged records), {report.Parts} S-file parts; "
                    + (!report.HasManifest ? "no manifest: the window is not compacted" : report.ManifestInputsCurrent ? "the manifest names the current segments" : "late segments arrived since the manifest: recompact"));
                foreach (var sample in report.Samples)
                {
                    Console.WriteLine($"  {sample}");
                }

                Console.WriteLine(report.IsExact ? "OK: one to one" : "MISMATCH");
            }

            return report.IsExact ? ExitCodes.Success : ExitCodes.VerifyMismatch;
        });
        return command;
    }
}
