using Tailor.GameDays.Tests.Kit;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>
/// The size of a crash-trial run. The defaults are the CI size (2 trials of at least 20 kills, fit for
/// two shared cores within about three minutes); the environment turns the knobs for a larger run.
/// </summary>
/// <param name="Trials"><c>CRASH_TRIALS</c>: trials to run, one after another.</param>
/// <param name="Kills"><c>CRASH_KILLS</c>: the fewest SIGKILLs per trial.</param>
/// <param name="Seed"><c>CRASH_SEED</c>: the first trial's seed; trial <c>i</c> uses <c>Seed + i</c>, so one trial reruns alone with <c>CRASH_TRIALS=1 CRASH_SEED=&lt;its seed&gt;</c>.</param>
/// <param name="Points"><c>CRASH_POINTS</c>: points generated per trial.</param>
/// <param name="KillMinMilliseconds"><c>CRASH_KILL_MIN_MS</c>: the shortest wait before a kill.</param>
/// <param name="KillMaxMilliseconds"><c>CRASH_KILL_MAX_MS</c>: the longest wait before a kill.</param>
/// <param name="Workers"><c>CRASH_WORKERS</c>: sink worker processes in the group.</param>
internal sealed record CrashTrialSettings(int Trials, int Kills, int Seed, long Points, int KillMinMilliseconds, int KillMaxMilliseconds, int Workers)
{
    /// <summary>Kills stop at this multiple of <see cref="Kills"/> even if traffic is still being produced, so a trial always ends.</summary>
    public const int KillCapFactor = 3;

    public static CrashTrialSettings FromEnvironment() => new(
        Trials: (int)GameDaySettings.Number("CRASH_TRIALS", 2),
        Kills: (int)GameDaySettings.Number("CRASH_KILLS", 20),
        Seed: (int)GameDaySettings.Number("CRASH_SEED", 8_001),
        Points: (long)GameDaySettings.Number("CRASH_POINTS", 200_000),
        KillMinMilliseconds: (int)GameDaySettings.Number("CRASH_KILL_MIN_MS", 300),
        KillMaxMilliseconds: (int)GameDaySettings.Number("CRASH_KILL_MAX_MS", 3_000),
        Workers: (int)GameDaySettings.Number("CRASH_WORKERS", 2));

    /// <summary>The mean wait between kills.</summary>
    public TimeSpan MeanKillInterval => TimeSpan.FromMilliseconds((KillMinMilliseconds + KillMaxMilliseconds) / 2.0);

    /// <summary>Where the JSON report goes: <c>CRASH_REPORT</c>, or <c>crash-trials-report.json</c> in the test output folder.</summary>
    public static string ReportPath => GameDaySettings.Text("CRASH_REPORT", Path.Combine(AppContext.BaseDirectory, "crash-trials-report.json"));

    public override string ToString() =>
        $"{Trials} trials x at least {Kills} kills, seed {Seed}, {Points} points, kill every {KillMinMilliseconds}-{KillMaxMilliseconds} ms, {Workers} workers";
}
