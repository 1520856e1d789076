using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tailor.Compaction;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor verify</c>: a one-to-one join of segment points against S-file points; exit code 3 on any difference.</summary>
internal static class VerifyCommand
{
    /// <summary>The exit code of <c>nothing_to_verify</c>: no segment and no S-file holds points of the window.</summary>
    public const int NothingToVerify = 4;

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
        var shardMap = CompactionArguments.ShardMapFile();
        var json = CompactionArguments.Json();
        var acceptIncomplete = new Option<bool>("--accept-incomplete")
        {
            Description = "Accept segments without an intact trailer (records past the cut are lost without a count): they no longer fail the check.",
        };
        var shards = new Option<int?>("--shards")
        {
            Description = "The sink's number of shared shards, to count payloads whose org it routes to another shard (default: only what the shard's name proves).",
        };
        var command = new Command("verify", """
            Check a compacted window one to one: every point of the window's segments, after the duplicate
            rule, against the points of the S-files its manifest names, streamed in key order within the
            memory budget. Give the same --early-allowance and --late-allowance as the compaction. Prints expected, found, missing, different (same series and time, other value)
            and extra (in the S-files, not in the segments), with samples of the first problems.

            Outcomes (the "outcome" field of --json, which also carries a "message" and the "fix" to run):
              ok                   every point found once with its value, nothing lost uncounted   exit 0
              damaged_parts        an S-file part the manifest names is missing, resized or unreadable   exit 3
              inputs_missing       segments the manifest lists are gone from the store              exit 3
              mismatch             missing, different or extra points (a window never compacted
                                   reports every point missing)                                     exit 3
              misrouted            payloads of orgs that route to another shard (see --shards)      exit 3
              incomplete_segments  segments without their trailer, unless --accept-incomplete        exit 3
              nothing_to_verify    no segment and no S-file holds points of the window              exit 4
            Exit 1: the check could not run; 2: bad arguments.

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
            acceptIncomplete,
            shards,
            shardMap,
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
            CompactionArguments.ApplyRouting(parse, shards, shardMap, options);

            CompactionArguments.CheckReach(w, options);
            CompactionArguments.Validate(options);
            var storeUri = parse.GetValue(store)!;
            var asJson = parse.GetValue(json);
            await using var objects = CompactionArguments.OpenStore(storeUri, mustExist: true);
            if (parse.GetValue(all))
            {
                return await VerifyAllShards.RunAsync(objects, w, options, parse.GetValue(acceptIncomplete), asJson, cancellationToken);
            }

            var s = CompactionArguments.ParseShard(parse.GetValue(shard)!);
            await Console.Error.WriteLineAsync($"verifying {s.Value} {w} …");
            var compact = $"tailor compact --store {storeUri} --shard {s.Value} --window {w}";
            VerifyReport report;
            try
            {
                report = await new CompactionVerifier(objects, options) { AcceptIncomplete = parse.GetValue(acceptIncomplete) }.VerifyAsync(s, w, cancellationToken);
            }
            catch (Exception e) when (e is FormatException or CompactionException or ObjectStoreException)
            {
                var message = e is FormatException ? $"The manifest of {s.Value} {w} is unreadable: {e.Message}" : e.Message;
                var fix = e is FormatException ? $"{compact} (rewrites the manifest from the segments)" : "see the message; run the same command again once it is fixed";
                if (!asJson)
                {
                    throw new CliException($"{message} Fix: {fix}", ExitCodes.Failure);
                }

                JsonOutput.Write(new { Shard = s.Value, Window = w.ToString(), Outcome = "error", Message = message, Fix = fix });
                return ExitCodes.Failure;
            }

            var (text, advice) = Explain(report, compact, storeUri);
            if (asJson)
            {
                var node = (JsonObject)JsonSerializer.SerializeToNode(report, JsonOutput.Options)!;
                node["message"] = text;
                node["fix"] = advice;
                Console.Out.WriteLine(node.ToJsonString(JsonOutput.Options));
            }
            else
            {
                Console.WriteLine($"expected   {report.Expected:N0}");
                Console.WriteLine($"found      {report.Found:N0}");
                Console.WriteLine($"missing    {report.Missing:N0}");
                Console.WriteLine($"different  {report.Different:N0}");
                Console.WriteLine($"extra      {report.Extra:N0}");
                Console.WriteLine($"series     {report.SeriesExpected:N0} expected, {report.SeriesFound:N0} found");
                Console.WriteLine($"inputs     {report.Segments} segments ({report.DamagedRecords} damaged records, {report.IncompleteSegments} incomplete, {report.MisplacedSegments} misplaced), {report.Parts} S-file parts; "
                    + (!report.HasManifest ? "no manifest: the window is not compacted"
                        : report.MissingInputs.Count > 0 ? $"{report.MissingInputs.Count} inputs the manifest lists are missing from the store"
                        : report.ManifestInputsCurrent ? "the manifest names the current segments"
                        : $"{report.NewInputs} segments arrived or changed since the manifest: recompact"));
                if (report.MisroutedPayloads > 0)
                {
                    Console.WriteLine($"misrouted  {report.MisroutedPayloads:N0} payloads ({report.MisroutedPoints:N0} points) of orgs that route to another shard");
                }

                foreach (var sample in report.Samples)
                {
                    Console.WriteLine($"  {sample}");
                }

                Console.WriteLine(report.Outcome == "ok" ? "OK: one to one" : $"{report.Outcome.ToUpperInvariant().Replace('_', ' ')}: {text}");
                if (advice is not null)
                {
                    Console.WriteLine($"fix: {advice}");
                }
            }

            return report.Outcome switch
            {
                "ok" => ExitCodes.Success,
                "nothing_to_verify" => NothingToVerify,
                _ => ExitCodes.VerifyMismatch,
            };
        });
        return command;
    }

    /// <summary>What the outcome means for this window, and the command or step that fixes it (none for ok).</summary>
    private static (string Message, string? Fix) Explain(VerifyReport r, string compact, string store) => r.Outcome switch
    {
        "ok" => ("every point found once with its value", null),
        "damaged_parts" => ($"{r.DamagedParts.Count} S-file parts the manifest names are missing or damaged (first: {r.DamagedParts[0]})",
            $"{compact} --check-parts (rewrites them from the segments), then verify again"),
        "inputs_missing" => ($"{r.MissingInputs.Count} segments the manifest lists are no longer in the store (first: {r.MissingInputs[0]}); their points can no longer be checked",
            $"restore them and verify again; to accept their loss, {compact} --allow-dropped-inputs"),
        "mismatch" when !r.HasManifest => ($"the window is not compacted: {r.Missing:N0} points are in no S-file", compact),
        "mismatch" when !r.ManifestInputsCurrent => ($"{r.Missing:N0} missing, {r.Different:N0} different, {r.Extra:N0} extra points; {r.NewInputs} segments arrived or changed since the manifest", compact),
        "mismatch" => ($"{r.Missing:N0} missing, {r.Different:N0} different, {r.Extra:N0} extra points", $"{compact} --force (rewrites the window from the segments), then verify again"),
        "misrouted" => ($"{r.MisroutedPayloads:N0} payloads ({r.MisroutedPoints:N0} points) are of orgs that route to another shard than {r.Shard}: readers will not look for them here",
            "give every sink the same shard map, and --shards the number of shared shards it uses"),
        "incomplete_segments" => ($"{r.IncompleteSegments} segments have no intact trailer: records past the cut are lost without a count",
            $"look at them with 'tailor inspect' (the samples and the compaction log name them); to accept the loss, verify again with --accept-incomplete"),
        "nothing_to_verify" => ($"no segment of {r.Shard} holds points of {r.Window}, and no S-file does",
            $"check --shard and --window: tailor plan --store {store} --window {r.Window} lists the shards with input"),
        _ => (r.Outcome, null),
    };
}
