using System.Text.Json;
using Tailor.GameDays.Tests.Kit;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>
/// Issue 8's crash trials: sink workers killed with SIGKILL at seeded random moments, at least 20 times
/// per trial, then compaction and verification of everything. The contract under test: a crash at any
/// instant loses nothing, it can only duplicate, and compaction's duplicate rule resolves every duplicate.
/// </summary>
/// <remarks>
/// Every trial runs to its end even when an earlier one failed, so the report holds the figures of all;
/// the JSON report goes to <see cref="CrashTrialSettings.ReportPath"/>. See docs/crash-trials.md.
/// </remarks>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "CrashTrials")]
[Trait("Category", "GameDays")]
public sealed class SinkWorkerCrashTrials(S3rverFixture s3, ITestOutputHelper output)
{
    [Fact]
    public async Task Sink_workers_killed_at_random_moments_lose_no_point_and_compaction_resolves_every_duplicate()
    {
        var settings = CrashTrialSettings.FromEnvironment();
        var figures = new Figures(output, "crash-trials");
        figures.Log($"crash trials: {settings}");
        var reports = new List<CrashTrialReport>();
        for (var trial = 0; trial < settings.Trials; trial++)
        {
            var report = await new CrashTrial(settings, trial, selfCheck: trial == 0, s3, figures).RunAsync();
            reports.Add(report);
            figures.Log(report.Summary());
            if (!report.Passed)
            {
                figures.Log(report.FailureReport());
            }
        }

        var path = CrashTrialSettings.ReportPath;
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { settings, reports, finished_utc = DateTimeOffset.UtcNow }, CrashTrialReport.Json));
        figures.Log($"report written to {path}");
        foreach (var report in reports)
        {
            figures.Log(report.Summary());
        }

        Assert.All(reports, report => Assert.True(report.Passed, report.FailureReport()));
        Assert.All(reports, report => Assert.True(report.Kills.Count >= settings.Kills, $"trial {report.Trial}: {report.Kills.Count} kills"));
        Assert.Equal(0, reports.Sum(r => r.MissingPayloads.Count));
        Assert.Equal(0, reports.Sum(r => r.Missing));
        Assert.Equal(0, reports.Sum(r => r.Different));
        Assert.Equal(reports.Sum(r => r.Compaction!.Expected), reports.Sum(r => r.Compaction!.Found));

        // The checks above can fail: with one segment deleted on purpose, the first trial's audit names
        // exactly the payloads that went with it and the S-files no longer equal the reference.
        var selfCheck = reports[0].SelfCheck;
        Assert.NotNull(selfCheck);
        Assert.True(selfCheck.ExpectedMissingPayloads > 0);
        Assert.Equal(selfCheck.ExpectedMissingPayloads, selfCheck.MissingPayloads);
        Assert.True(selfCheck.ReferenceMismatches > 0, "the S-files still equal the reference with a segment gone");
        Assert.Equal([selfCheck.DeletedShard], selfCheck.MismatchedShards);
    }
}
