using Tailor.Format.Segments;
using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>What the trial's checks said after one segment was deleted on purpose.</summary>
/// <param name="DeletedSegment">The segment key deleted.</param>
/// <param name="RecordsInSegment">Records it held.</param>
/// <param name="ExpectedMissingPayloads">Produced payloads whose every copy was in that segment.</param>
/// <param name="MissingPayloads">Produced payloads the audit then found in no segment.</param>
/// <param name="ReferenceMismatches">(shard, window) S-files then differing from the reference.</param>
/// <param name="DeletedShard">The shard of the deleted segment.</param>
/// <param name="MismatchedShards">The shards whose S-files then differ from the reference (only <paramref name="DeletedShard"/> may).</param>
/// <param name="VerifyMissing">Verify's missing count then (segments against S-files: it cannot see a segment that is gone).</param>
/// <param name="FailureReport">The failure report the sabotaged trial gives.</param>
internal sealed record LossSelfCheckResult(string DeletedSegment, long RecordsInSegment, int ExpectedMissingPayloads, int MissingPayloads, int ReferenceMismatches, string DeletedShard, IReadOnlyList<string> MismatchedShards, long VerifyMissing, string FailureReport);

/// <summary>
/// Proves that a crash trial's checks can fail: after a trial passed, one segment whose payloads have no
/// other copy is deleted, as a lost upload would be, and the audit and the reference comparison are run
/// again. They must name exactly the payloads that went with it, and only that shard's S-files may differ
/// from the reference.
/// </summary>
internal static class LossSelfCheck
{
    public static async Task<LossSelfCheckResult> RunAsync(IObjectStore store, GameDayWorkload workload, SegmentAudit audit, ShardMap map, string workDirectory, CrashTrialReport passed, Func<int, MissingPayload> describe)
    {
        // The first segment (in a seeded order) with a payload that exists nowhere else.
        var random = new Random(passed.Seed);
        string? victim = null;
        Dictionary<string, int> inVictim = [];
        foreach (var key in audit.Keys.OrderBy(_ => random.Next()))
        {
            var copies = await CopiesInAsync(store, key);
            if (copies.Any(c => audit.Copies[c.Key] == c.Value))
            {
                victim = key;
                inVictim = copies;
                break;
            }
        }

        if (victim is null)
        {
            throw new InvalidOperationException("Every payload has a copy in two segments: no segment can be deleted to lose data.");
        }

        var lost = inVictim.Where(c => audit.Copies[c.Key] == c.Value).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var expectedMissing = workload.Frames.Count(f => lost.Contains(f.Hash));
        await store.DeleteAsync(victim);

        // Compaction skips a job whose manifest is current: remove every S-file so each job is written anew.
        var written = new List<string>();
        await foreach (var info in store.ListAsync(ObjectKeys.SeriesRoot))
        {
            written.Add(info.Key);
        }

        foreach (var key in written)
        {
            await store.DeleteAsync(key);
        }

        var after = await SegmentAudit.ReadAsync(store);
        var compaction = await CompactionCheck.RunAsync(store, workload, map, workDirectory);
        var sabotaged = new CrashTrialReport { Trial = passed.Trial, Seed = passed.Seed, KillsWanted = passed.KillsWanted, Compaction = compaction };
        sabotaged.Kills.AddRange(passed.Kills);
        foreach (var index in after.Missing(workload))
        {
            sabotaged.MissingPayloads.Add(describe(index));
        }

        ObjectKeys.TryParseSegment(victim, out var parsed);
        var mismatchedShards = compaction.ReferenceMismatches.Select(m => m.Split(' ')[0]).Distinct(StringComparer.Ordinal).ToList();
        return new LossSelfCheckResult(victim, inVictim.Values.Sum(), expectedMissing, sabotaged.MissingPayloads.Count, compaction.ReferenceMismatches.Count,
            parsed.Shard.Value, mismatchedShards, compaction.Missing, sabotaged.FailureReport());
    }

    /// <summary>Copies of each frame (by hash) in one segment.</summary>
    private static async Task<Dictionary<string, int>> CopiesInAsync(IObjectStore store, string key)
    {
        var bytes = await CompactionCheck.ReadAllAsync(store, key);
        var reader = SegmentReader.OverFile(bytes, SegmentLayout.Read(bytes).CreateFileState());
        var copies = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.TryReadRecord(out var record))
        {
            var hash = GameDayWorkload.HashOf(record.Frame);
            copies[hash] = copies.GetValueOrDefault(hash) + 1;
        }

        return copies;
    }
}
