using System.Globalization;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// What every game day shares: the built <c>tailor</c> program, generous timeouts (the machine has two
/// shared cores), and the knobs a person turns for a longer run through environment variables.
/// </summary>
internal static class GameDaySettings
{
    /// <summary>The longest any single wait for a condition may take before the scenario fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The <c>tailor</c> program built next to the tests.</summary>
    public static string Tailor => Path.Combine(AppContext.BaseDirectory, "tailor.dll");

    /// <summary>
    /// How long scenario 3's store answers 20% of calls with 503 Slow Down while traffic flows, in seconds:
    /// <c>GAMEDAY_SLOWDOWN_SECONDS</c>, default 20 (CI); the documented full run uses 60.
    /// </summary>
    public static double SlowDownSeconds => Number("GAMEDAY_SLOWDOWN_SECONDS", 20);

    /// <summary>A number from the environment, or <paramref name="fallback"/>.</summary>
    public static double Number(string name, double fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A string from the environment, or <paramref name="fallback"/>.</summary>
    public static string Text(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? text : fallback;
}
