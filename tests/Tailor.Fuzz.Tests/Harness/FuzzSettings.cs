using System.Globalization;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>
/// Run settings, from the environment so CI and a long local run use the same tests:
/// <list type="bullet">
/// <item><c>TAILOR_FUZZ_SCALE</c>: multiplies every target's default case count (default 1; 10 for a long run).</item>
/// <item><c>TAILOR_FUZZ_SEED</c>: the base seed, decimal or 0x-hex (default fixed, so every run is the same).</item>
/// <item><c>TAILOR_FUZZ_HANG_SECONDS</c>: a case running longer is a hang (default 30).</item>
/// <item><c>TAILOR_FUZZ_ARTIFACTS</c>: where failing inputs and reports go (default fuzz-artifacts next to the tests).</item>
/// <item><c>TAILOR_FUZZ_REPLAY</c>: <c>target:caseSeed</c> or a file path, replayed by <c>FuzzReplayTests</c>.</item>
/// </list>
/// </summary>
public static class FuzzSettings
{
    /// <summary>The base seed of the default run.</summary>
    public const ulong DefaultSeed = 0x7A11_0F22_5EED_0001;

    public static double Scale => double.TryParse(Environment.GetEnvironmentVariable("TAILOR_FUZZ_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1.0;

    public static ulong Seed => ParseSeed(Environment.GetEnvironmentVariable("TAILOR_FUZZ_SEED")) ?? DefaultSeed;

    public static TimeSpan HangAfter => TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("TAILOR_FUZZ_HANG_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30);

    public static string? Replay => Environment.GetEnvironmentVariable("TAILOR_FUZZ_REPLAY");

    public static string ArtifactsFolder
    {
        get
        {
            var folder = Environment.GetEnvironmentVariable("TAILOR_FUZZ_ARTIFACTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(AppContext.BaseDirectory, "fuzz-artifacts");
            Directory.CreateDirectory(folder);
            return folder;
        }
    }

    /// <summary>The folder of checked-in regression inputs, copied next to the tests.</summary>
    public static string RegressionsFolder => Path.Combine(AppContext.BaseDirectory, "regressions");

    public static int CasesFor(FuzzTarget target) => Math.Max(1, (int)Math.Min(int.MaxValue, target.DefaultCases * Scale));

    public static ulong? ParseSeed(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) ? hex : null
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
