using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// The figures of one scenario: a timestamped log line per step in the test output, and at the end one
/// <c>figures &lt;scenario&gt;: {json}</c> line. When <c>GAMEDAY_REPORT</c> names a file, the JSON is
/// also appended to it (one line per scenario), which is where docs/game-days.md takes its figures from.
/// </summary>
internal sealed class Figures(ITestOutputHelper output, string scenario)
{
    private static readonly Lock FileLock = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal) { ["scenario"] = scenario };

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public void Log(string message)
    {
        try
        {
            output.WriteLine($"{Clock.Elapsed.TotalSeconds,7:F2}s {message}");
        }
        catch (InvalidOperationException)
        {
            // The test is over; its output is closed.
        }
    }

    /// <summary>Sets a figure; seconds are rounded to 0.1, other doubles to 3 decimals.</summary>
    public void Set(string name, object? value) => _values[name] = value switch
    {
        TimeSpan t => Math.Round(t.TotalSeconds, 1),
        double d => Math.Round(d, 3),
        _ => value,
    };

    public object? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>Prints every figure as one JSON line (and appends it to the report file, if any).</summary>
    public void Print()
    {
        _values["seconds"] = Math.Round(Clock.Elapsed.TotalSeconds, 1);
        _values["finished_utc"] = DateTimeOffset.UtcNow.ToString("O");
        var json = JsonSerializer.Serialize(_values);
        Log($"figures {scenario}: {json}");
        if (Environment.GetEnvironmentVariable("GAMEDAY_REPORT") is { Length: > 0 } file)
        {
            lock (FileLock)
            {
                File.AppendAllText(file, json + "\n");
            }
        }
    }
}
