using Tailor.Compaction;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor verify --all</c>: every shard the planner finds input for in the window, verified one after another, as <c>compact --all</c> compacts them.</summary>
internal static class VerifyAllShards
{
    public static async Task<int> RunAsync(IObjectStore objects, CompactionWindow window, CompactionOptions options, bool acceptIncomplete, bool json, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"planning {window} …");
        var shards = (await new CompactionPlanner(objects, options).PlanAllAsync(window, cancellationToken)).Where(j => j.Inputs.Count > 0).Select(j => j.Shard).ToList();
        if (shards.Count == 0)
        {
            // Nothing to verify is not "one to one": no shard has input in the window (the outcome and exit code of one shard's verify).
            var message = $"No segments in {objects.Name} hold points of {window}: nothing to verify.";
            if (json)
            {
                JsonOutput.Write(new { Store = objects.Name, Window = window.ToString(), Shards = 0, Exact = false, Outcome = "nothing_to_verify", Reports = Array.Empty<VerifyReport>(), Message = message, Fix = $"check --window: tailor plan --store {objects.Name} --window {window} lists the shards with input" });
                await Console.Error.WriteLineAsync(message);
            }
            else
            {
                throw new CliException(message, VerifyCommand.NothingToVerify);
            }

            return VerifyCommand.NothingToVerify;
        }

        var verifier = new CompactionVerifier(objects, options) { AcceptIncomplete = acceptIncomplete };
        var reports = new List<VerifyReport>();
        foreach (var shard in shards)
        {
            await Console.Error.WriteLineAsync($"[{reports.Count + 1}/{shards.Count}] verifying {shard.Value} {window} …");
            var report = await verifier.VerifyAsync(shard, window, cancellationToken);
            reports.Add(report);
            if (!json)
            {
                Console.WriteLine($"{shard.Value,-16} expected {report.Expected:N0}, found {report.Found:N0}, missing {report.Missing:N0}, different {report.Different:N0}, "
                    + $"extra {report.Extra:N0}: {(report.Outcome == "ok" ? "OK" : report.Outcome.ToUpperInvariant())}");
                foreach (var sample in report.Samples)
                {
                    Console.WriteLine($"  {sample}");
                }
            }
        }

        var exact = reports.All(r => r.Outcome is "ok" or "nothing_to_verify");
        if (json)
        {
            JsonOutput.Write(new
            {
                Store = objects.Name,
                Window = window.ToString(),
                Shards = reports.Count,
                Exact = exact,
                Outcome = exact ? "ok" : "mismatch",
                Mismatched = reports.Where(r => r.Outcome is not ("ok" or "nothing_to_verify")).Select(r => r.Shard).ToArray(),
                Expected = reports.Sum(r => r.Expected),
                Found = reports.Sum(r => r.Found),
                Missing = reports.Sum(r => r.Missing),
                Different = reports.Sum(r => r.Different),
                Extra = reports.Sum(r => r.Extra),
                Reports = reports,
            });
        }
        else
        {
            Console.WriteLine($"{reports.Count} shards: expected {reports.Sum(r => r.Expected):N0}, found {reports.Sum(r => r.Found):N0}, missing {reports.Sum(r => r.Missing):N0}, "
                + $"different {reports.Sum(r => r.Different):N0}, extra {reports.Sum(r => r.Extra):N0}");
            Console.WriteLine(exact ? "OK: one to one" : $"MISMATCH in {reports.Count(r => r.Outcome is not ("ok" or "nothing_to_verify"))} of {reports.Count} shards (see each shard's outcome above)");
        }

        return exact ? ExitCodes.Success : ExitCodes.VerifyMismatch;
    }
}
