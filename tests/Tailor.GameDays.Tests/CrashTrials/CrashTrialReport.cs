using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tailor.GameDays.Tests.Kit;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>One SIGKILL: when, whom, and what the victim was doing by its own event lines.</summary>
/// <param name="Number">1 for the first kill of the trial.</param>
/// <param name="AtSeconds">Seconds since the trial's traffic started.</param>
/// <param name="Worker">The victim's name (slot and generation, e.g. <c>w1.4</c>).</param>
/// <param name="Pid">The victim's process id.</param>
/// <param name="Phase">
/// <c>starting</c> (no <c>started</c> line yet), <c>joining</c> (started, never assigned), <c>consuming</c>
/// (owns partitions, committed nothing yet), <c>committing</c> (owns partitions and has committed),
/// <c>unassigned</c> (owned partitions before, owns none now: between rebalance rounds).
/// </param>
/// <param name="Traffic"><c>producing</c> while traffic was still being produced, <c>catching-up</c> after.</param>
/// <param name="LifetimeSeconds">How long the victim had run.</param>
/// <param name="Owned">Partitions the victim owned.</param>
/// <param name="Commits">Commits the victim had made.</param>
/// <param name="ExitCode">The victim's exit code (137 after SIGKILL).</param>
internal sealed record KillRecord(int Number, double AtSeconds, string Worker, int Pid, string Phase, string Traffic, double LifetimeSeconds, int Owned, int Commits, int ExitCode);

/// <summary>A produced payload that no segment holds, and who committed past it.</summary>
internal sealed record MissingPayload(int Index, uint Org, int Points, string Position, IReadOnlyList<string> CommittedPastBy);

/// <summary>Everything one crash trial did and found; serialised as one entry of the JSON report.</summary>
internal sealed class CrashTrialReport
{
    public int Trial { get; init; }

    public int Seed { get; init; }

    public int KillsWanted { get; init; }

    public List<KillRecord> Kills { get; } = [];

    /// <summary>Kills by phase of the victim.</summary>
    public Dictionary<string, int> KillsByPhase => Kills.GroupBy(k => k.Phase).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    public int WorkersStarted { get; set; }

    /// <summary>Worker processes that made at least one commit before they died or stopped.</summary>
    public int WorkersThatCommitted { get; set; }

    public int Payloads { get; set; }

    public long Points { get; set; }

    public long PayloadBytes { get; set; }

    public int Segments { get; set; }

    public long SegmentRecords { get; set; }

    /// <summary>Copies of payloads in segments beyond those produced: re-consumption after kills.</summary>
    public long SinkDuplicateCopies { get; set; }

    /// <summary>Points in those re-consumed copies: what the kills added for compaction's duplicate rule to resolve.</summary>
    public long SinkDuplicatePoints { get; set; }

    public List<MissingPayload> MissingPayloads { get; } = [];

    public long MissingPayloadPoints => MissingPayloads.Sum(m => (long)m.Points);

    /// <summary>Segment records no produced payload explains.</summary>
    public int UnknownRecords { get; set; }

    public List<string> UnreadableSegments { get; } = [];

    /// <summary>Puts cut short by a kill that s3rver kept (S3 would not have); removed before the store is read.</summary>
    public List<TornPut> TornPuts { get; } = [];

    /// <summary>Committed offsets seen to go backwards by the sampler.</summary>
    public IReadOnlyList<string> CommitRegressions { get; set; } = [];

    public int CommitSamples { get; set; }

    public List<string> GracefulStops { get; } = [];

    public CompactionFigures? Compaction { get; set; }

    /// <summary>Verify's missing points over every job (-1 when compaction did not run).</summary>
    public long Missing => Compaction?.Missing ?? -1;

    /// <summary>Verify's different points over every job (-1 when compaction did not run).</summary>
    public long Different => Compaction?.Different ?? -1;

    /// <summary>Points compaction dropped by the duplicate rule: the workload's own resends and duplicates plus the sink's re-consumed copies.</summary>
    public long DuplicatesResolved => Compaction?.DuplicatesDropped ?? -1;

    public Dictionary<string, double> Seconds { get; } = new(StringComparer.Ordinal);

    /// <summary>The loss self-check, when this trial ran it (after passing).</summary>
    public LossSelfCheckResult? SelfCheck { get; set; }

    public string? Error { get; set; }

    /// <summary>What broke the contract; empty when the trial passed.</summary>
    public List<string> Failures
    {
        get
        {
            var failures = new List<string>();
            if (Error is not null)
            {
                failures.Add($"the trial did not finish: {Error}");
            }

            if (Kills.Count < KillsWanted)
            {
                failures.Add($"{Kills.Count} kills, fewer than {KillsWanted}");
            }

            if (Kills.FirstOrDefault(k => k.ExitCode != 137) is { } odd)
            {
                failures.Add($"kill {odd.Number} ({odd.Worker}) exited with {odd.ExitCode}, not 137");
            }

            if (MissingPayloads.Count > 0)
            {
                failures.Add($"{MissingPayloads.Count} produced payloads ({MissingPayloadPoints} points) are in no segment");
            }

            if (UnknownRecords > 0)
            {
                failures.Add($"{UnknownRecords} segment records match no produced payload");
            }

            if (UnreadableSegments.Count > 0)
            {
                failures.Add($"{UnreadableSegments.Count} segments are not whole: {string.Join("; ", UnreadableSegments.Take(5))}");
            }

            failures.AddRange(TornPuts.Where(t => !t.Killed).Select(t => $"{t.Key} ({t.Bytes} bytes) is a put cut short, but its writer {t.Writer} was not killed"));
            failures.AddRange(GracefulStops.Where(s => !s.EndsWith(" 0", StringComparison.Ordinal)).Select(s => $"a graceful stop failed: {s}"));
            if (Compaction is { } c)
            {
                if (c.Missing != 0 || c.Different != 0 || c.Extra != 0 || c.Expected != c.Found)
                {
                    failures.Add($"verify: expected {c.Expected}, found {c.Found}, missing {c.Missing}, different {c.Different}, extra {c.Extra}; {string.Join("; ", c.Samples.Take(5))}");
                }

                // Every point compaction read in a window was written or dropped as a duplicate, and the points it
                // read are exactly those produced plus those of the copies the kills made the sink write again.
                if (c.PointsOut + c.DuplicatesDropped != Points + SinkDuplicatePoints)
                {
                    failures.Add($"points written {c.PointsOut} + duplicates dropped {c.DuplicatesDropped} != produced {Points} + re-consumed {SinkDuplicatePoints}");
                }

                if (c.ReferenceMismatches.Count > 0 || c.ReferenceMatches == 0)
                {
                    failures.Add($"S-files equal to the reference {c.ReferenceMatches}, differing {c.ReferenceMismatches.Count}: {string.Join("; ", c.ReferenceMismatches.Take(5))}");
                }
            }
            else if (Error is null)
            {
                failures.Add("compaction did not run");
            }

            return failures;
        }
    }

    public bool Passed => Failures.Count == 0;

    /// <summary>One line for the summary table.</summary>
    public string Summary() =>
        $"trial {Trial} seed {Seed}: {(Passed ? "passed" : "FAILED")}; {Kills.Count} kills ({string.Join(", ", KillsByPhase.Select(p => $"{p.Key} {p.Value}"))}), "
        + $"{WorkersStarted} workers started, {WorkersThatCommitted} committed; {Payloads} payloads, {Points} points; {Segments} segments, "
        + $"{SinkDuplicateCopies} re-consumed copies ({SinkDuplicatePoints} points), {TornPuts.Count} torn puts; missing payloads {MissingPayloads.Count}; verify missing {Missing}, different {Different}; "
        + $"duplicates resolved {DuplicatesResolved}; {Seconds.GetValueOrDefault("total"):F0} s";

    /// <summary>What a person needs to reproduce and chase a failed trial.</summary>
    public string FailureReport()
    {
        var text = new StringBuilder();
        text.AppendLine($"crash trial {Trial} (seed {Seed}) broke the contract; rerun it alone with CRASH_TRIALS=1 CRASH_SEED={Seed}:");
        foreach (var failure in Failures)
        {
            text.AppendLine($"  - {failure}");
        }

        foreach (var missing in MissingPayloads.Take(10))
        {
            text.AppendLine($"  missing payload #{missing.Index} (org {missing.Org}, {missing.Points} points) at {missing.Position}; committed past by {(missing.CommittedPastBy.Count == 0 ? "nobody" : string.Join(", ", missing.CommittedPastBy))}");
        }

        text.AppendLine("  kills:");
        foreach (var kill in Kills)
        {
            text.AppendLine($"    #{kill.Number} at {kill.AtSeconds:F1} s: {kill.Worker} (pid {kill.Pid}) {kill.Phase}, {kill.Traffic}, alive {kill.LifetimeSeconds:F1} s, {kill.Owned} partitions, {kill.Commits} commits");
        }

        return text.ToString();
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
