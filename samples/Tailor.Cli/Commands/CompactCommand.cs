using System.CommandLine;
using System.Diagnostics;
using Tailor.Compaction;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor compact</c>: runs compaction jobs in this process and prints their run reports.</summary>
internal static class CompactCommand
{
    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var shard = new Option<string?>("--shard") { Description = "The shard to compact: org-mod-K or org-<id>." };
        var all = new Option<bool>("--all") { Description = "Compact every shard that has input in the window." };
        var window = CompactionArguments.Window();
        var memory = CompactionArguments.Memory();
        var parallelism = CompactionArguments.Parallelism();
        var splitBytes = new Option<string?>("--split-bytes") { Description = "The size of the byte-range splits segments are read in (default 64MiB)." };
        var partBytes = new Option<string?>("--part-bytes") { Description = "An S-file part is closed once it reaches this size (default 256MiB)." };
        var workDirectory = CompactionArguments.WorkDirectory();
        var early = CompactionArguments.EarlyAllowance();
        var late = CompactionArguments.LateAllowance();
        var force = new Option<bool>("--force") { Description = "Recompact even when the manifest already names exactly these inputs." };
        var allowDropped = new Option<bool>("--allow-dropped-inputs")
        {
            Description = "Publish even when segments the current manifest lists are gone from the store (their points leave the window; the report names them).",
        };
        var checkParts = new Option<bool>("--check-parts")
        {
            Description = "Before skipping a window whose manifest names the same inputs, check every part's SHA-256 against the manifest (existence and size are always checked) and rewrite damaged ones.",
        };
        var shards = new Option<int?>("--shards")
        {
            Description = "The sink's number of shared shards, to count payloads whose org it routes to another shard (default: only what the shard's name proves).",
        };
        var shardMap = CompactionArguments.ShardMapFile();
        var json = CompactionArguments.Json();
        var command = new Command("compact", """
            Run compaction jobs in this process: read every input segment of a shard and window, group points
            by series, sort by time, drop duplicates (latest intake time wins), write S-file parts, then the
            manifest. A job whose manifest already names the same inputs (same keys and sizes) is skipped
            unless --force, once the parts it names exist with their sizes (and, with --check-parts, their
            SHA-256): a missing or damaged part is rewritten. A job that would drop segments the manifest
            lists but the store no longer holds fails and names them, unless --allow-dropped-inputs. The
            output bytes depend only on the inputs, never on --memory, --parallelism or --split-bytes.

            The report counts what cannot be compacted as it should: damaged records, incomplete segments
            (no trailer: records past the cut lost uncounted), misplaced segments (read, but not under the
            <p> folder the sink's rule gives), and misrouted payloads (orgs that route to another shard).

            Prints each job's run report: stage seconds, points in and out, duplicates, damaged records,
            bytes in and out, the job's buffers against --memory and the process's peak working set (the
            whole process: runtime, code and mapped files besides the buffers), GC pauses and store calls. With --json and --shard, stdout
            is that report; with --all, one object with the totals and a "reports" array.

            Examples:
              tailor compact --store file:///tmp/tailor-data --shard org-mod-3 --window 2026-11-26T00:00Z/4h
              tailor compact --store file:///tmp/tailor-data --all --window 2026-11-26T00:00Z/4h --memory 512MiB --json
              tailor compact --store s3://metrics/prod --shard org-1234 --window 2026-11-26T04:00Z/4h --force --work-dir /mnt/nvme/tailor
              tailor compact --store file:///tmp/tailor-data --all --window 2026-11-26T00:00Z/4h --late-allowance 24h --force
            """)
        {
            store,
            shard,
            all,
            window,
            memory,
            parallelism,
            splitBytes,
            partBytes,
            workDirectory,
            early,
            late,
            force,
            allowDropped,
            checkParts,
            shards,
            shardMap,
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var shardText = parse.GetValue(shard);
            var everyShard = parse.GetValue(all);
            if ((shardText is null) == !everyShard)
            {
                throw new CliException(everyShard
                    ? "Give either --shard S or --all, not both."
                    : "Say what to compact: --shard S (e.g. org-mod-3) or --all (every shard with input).", ExitCodes.BadArguments);
            }

            var w = CompactionArguments.ParseWindow(parse.GetValue(window)!);
            var one = shardText is null ? (Storage.ShardName?)null : CompactionArguments.ParseShard(shardText);
            var options = CompactionArguments.JobOptions(parse, memory, parallelism, workDirectory);
            options.Force = parse.GetValue(force);
            options.AllowDroppedInputs = parse.GetValue(allowDropped);
            options.CheckParts = parse.GetValue(checkParts);
            CompactionArguments.ApplyRouting(parse, shards, shardMap, options);

            CompactionArguments.ApplyAllowances(parse, early, late, options);
            CompactionArguments.CheckReach(w, options);
            if (parse.GetValue(splitBytes) is { } split)
            {
                options.SplitBytes = CompactionArguments.ParseBytes(split, "--split-bytes");
            }

            if (parse.GetValue(partBytes) is { } part)
            {
                options.TargetPartBytes = CompactionArguments.ParseBytes(part, "--part-bytes");
            }

            CompactionArguments.Validate(options);
            await using var objects = CompactionArguments.OpenStore(parse.GetValue(store)!, mustExist: true);
            var runner = new CompactionRunner(objects, options);
            var watch = Stopwatch.StartNew();
            var asJson = parse.GetValue(json);
            if (one is { } single)
            {
                await Console.Error.WriteLineAsync($"compacting {single.Value} {w} …");
                var report = await runner.RunAsync(single, w, cancellationToken);
                if (asJson)
                {
                    JsonOutput.Write(report);
                }
                else
                {
                    Print(report, objects.Name);
                }

                if (report.Segments == 0)
                {
                    await Console.Error.WriteLineAsync($"No segments of {single.Value} hold points of {w}: nothing was written.");
                }

                return ExitCodes.Success;
            }

            await Console.Error.WriteLineAsync($"planning {w} …");
            var planStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var jobs = (await new CompactionPlanner(objects, options).PlanAllAsync(w, cancellationToken)).Where(j => j.Inputs.Count > 0).ToList();
            var listSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(planStarted).TotalSeconds;
            var reports = new List<CompactionReport>();
            foreach (var job in jobs)
            {
                await Console.Error.WriteLineAsync($"[{reports.Count + 1}/{jobs.Count}] compacting {job} ({job.Inputs.Count} segments, {CompactionArguments.Bytes(job.InputBytes)}) …");
                var report = await runner.RunAsync(job, cancellationToken);
                reports.Add(report);
                if (!asJson)
                {
                    Print(report, objects.Name);
                }
            }

            var seconds = watch.Elapsed.TotalSeconds;
            if (asJson)
            {
                JsonOutput.Write(new
                {
                    Store = objects.Name,
                    Window = w.ToString(),
                    Jobs = reports.Count,
                    Written = reports.Count(r => !r.Skipped),
                    Skipped = reports.Count(r => r.Skipped),
                    PointsIn = reports.Sum(r => r.PointsIn),
                    PointsOut = reports.Sum(r => r.PointsOut),
                    DuplicatesDropped = reports.Sum(r => r.DuplicatesDropped),
                    DamagedRecords = reports.Sum(r => r.DamagedRecords),
                    IncompleteSegments = reports.Sum(r => r.IncompleteSegments),
                    MisplacedSegments = reports.Sum(r => r.MisplacedSegments),
                    MisroutedPayloads = reports.Sum(r => r.MisroutedPayloads),
                    MisroutedPoints = reports.Sum(r => r.MisroutedPoints),
                    DroppedInputs = reports.Sum(r => r.DroppedInputs.Count),
                    RepairedParts = reports.Sum(r => r.RepairedParts.Count),
                    BytesIn = reports.Sum(r => r.BytesIn),
                    BytesOut = reports.Sum(r => r.BytesOut),
                    PeakWorkingSetBytes = reports.Count == 0 ? 0 : reports.Max(r => r.PeakWorkingSetBytes),
                    // Listing and planning ran once for every shard; the reports' stages start after it.
                    ListSeconds = Math.Round(listSeconds, 3),
                    Seconds = Math.Round(seconds, 3),
                    Reports = reports,
                });
            }
            else if (jobs.Count == 0)
            {
                await Console.Error.WriteLineAsync($"No segments in {objects.Name} hold points of {w}: nothing to compact.");
            }
            else
            {
                Console.WriteLine($"{reports.Count} jobs ({reports.Count(r => r.Skipped)} skipped): {reports.Sum(r => r.PointsOut):N0} points out of {reports.Sum(r => r.PointsIn):N0} in, "
                    + $"{CompactionArguments.Bytes(reports.Sum(r => r.BytesOut))} written in {seconds:F2} s");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(CompactionReport r, string store)
    {
        if (r.Skipped)
        {
            Console.WriteLine($"{r.Shard} {r.Window}: skipped, the manifest already names these {r.Segments} inputs (generation {r.Generation}) and its parts are in place; --force recompacts");
            if (r.MisplacedSegments > 0)
            {
                Console.WriteLine($"  misplaced   {r.MisplacedSegments} segments lie in another <p> folder than the sink's rule gives (read all the same)");
            }

            return;
        }

        if (r.Segments == 0)
        {
            Console.WriteLine($"{r.Shard} {r.Window}: no input segments");
            return;
        }

        var stages = string.Join(", ", r.StageSeconds.Where(s => s.Key != "total").Select(s => $"{s.Key} {s.Value:F2}"));
        Console.WriteLine($"{r.Shard} {r.Window}: written, generation {r.Generation}");
        Console.WriteLine($"  points      {r.PointsIn:N0} in, {r.PointsOut:N0} out, {r.DuplicatesDropped:N0} duplicates dropped, {r.OutOfWindow:N0} out of window, {r.Series:N0} series");
        Console.WriteLine($"  damage      {r.DamagedRecords:N0} records lost ({r.DamagedRegions} regions, {r.DamagedBytes:N0} bytes), {r.UnreadableSegments} unreadable segments, "
            + $"{r.IncompleteSegments} incomplete segments (no trailer: records past the cut lost uncounted)");
        if (r.MisplacedSegments > 0 || r.MisroutedPayloads > 0)
        {
            Console.WriteLine($"  routing     {r.MisplacedSegments} misplaced segments (read), {r.MisroutedPayloads:N0} misrouted payloads ({r.MisroutedPoints:N0} points of orgs that route to another shard)");
        }

        if (r.RepairedParts.Count > 0)
        {
            Console.WriteLine($"  repaired    {r.RepairedParts.Count} parts were missing or damaged and are rewritten (first: {r.RepairedParts[0]})");
        }

        if (r.DroppedInputs.Count > 0)
        {
            Console.WriteLine($"  DROPPED     {r.DroppedInputs.Count} inputs of the previous manifest are gone and left out (first: {r.DroppedInputs[0]})");
        }

        Console.WriteLine($"  bytes       {r.BytesIn:N0} in ({r.Segments} segments, {r.Splits} splits), {r.BytesOut:N0} out in {r.Parts.Count} parts ({r.BytesPerPointOut:F3} bytes/point)");
        Console.WriteLine($"  memory      job buffers peaked at {CompactionArguments.Bytes(r.PeakBufferBytes)} of the {CompactionArguments.Bytes(r.MemoryBudgetBytes)} budget, {r.Spills} spills ({CompactionArguments.Bytes(r.SpillBytes)}); "
            + $"peak working set of the whole process {CompactionArguments.Bytes(r.PeakWorkingSetBytes)} (runtime, code and mapped files besides the budgeted buffers)");
        Console.WriteLine($"  gc          {r.GcPauseSeconds:F3} s paused ({r.GcPauseFraction:P2}), {r.AllocatedBytesPerPoint:F3} bytes allocated per point");
        Console.WriteLine($"  seconds     {r.StageSeconds.GetValueOrDefault("total"):F2} total: {stages}");
        Console.WriteLine($"  store calls {string.Join(", ", r.StoreCalls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"))}");
        Console.WriteLine($"  manifest    {store}/{r.Manifest}");
    }
}
