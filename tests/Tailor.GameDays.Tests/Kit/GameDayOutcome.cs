using Tailor.Storage;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// How a sink scenario ended, read from the data: the segments record by record against the generated
/// payloads, then every window compacted, verified and compared with the reference.
/// </summary>
internal sealed class GameDayOutcome
{
    private GameDayOutcome(SegmentAudit audit, IReadOnlyList<int> missing, CompactionFigures compaction)
    {
        Audit = audit;
        Missing = missing;
        Compaction = compaction;
    }

    public SegmentAudit Audit { get; }

    /// <summary>Indexes of generated payloads that are in no segment.</summary>
    public IReadOnlyList<int> Missing { get; }

    public CompactionFigures Compaction { get; }

    /// <summary>Audits <paramref name="store"/>, compacts and verifies every window in <paramref name="workDirectory"/>, and logs both.</summary>
    public static async Task<GameDayOutcome> ReadAsync(IObjectStore store, GameDayWorkload workload, ShardMap map, string workDirectory, Figures figures)
    {
        var audit = await SegmentAudit.ReadAsync(store);
        var missing = audit.Missing(workload);
        var compaction = await CompactionCheck.RunAsync(store, workload, map, workDirectory);
        figures.Log($"segments: {audit.Segments} ({audit.Records} records), {missing.Count} payloads missing, {audit.Duplicates(workload)} duplicate copies");
        figures.Log($"compaction: {compaction}");
        return new GameDayOutcome(audit, missing, compaction);
    }

    /// <summary>Sets the figures every sink scenario reports: segments, missing payloads, duplicate copies, compaction.</summary>
    public void SetFigures(Figures figures, GameDayWorkload workload)
    {
        figures.Set("segments", Audit.Segments);
        figures.Set("missing_payloads", Missing.Count);
        figures.Set("duplicate_copies", Audit.Duplicates(workload));
        figures.Set("compaction", Compaction);
    }

    /// <summary>Every segment readable, every payload in one, nothing unknown, verify exact and the S-files equal to the reference.</summary>
    public void AssertNothingLost(GameDayWorkload workload)
    {
        Assert.Empty(Audit.Unreadable);
        Assert.Empty(Missing);
        Assert.Equal(0, Audit.Unknown(workload));
        CompactionCheck.AssertNothingLost(Compaction);
    }
}
