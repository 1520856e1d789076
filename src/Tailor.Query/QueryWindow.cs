using System.Globalization;
using Tailor.Storage;

namespace Tailor.Query;

/// <summary>A compaction window: a start (a multiple of the length since the Unix epoch) and a length, written <c>2026-11-26T00:00Z/4h</c>.</summary>
/// <param name="Start">The window's first second, UTC.</param>
/// <param name="Length">The window's length.</param>
public readonly record struct QueryWindow(DateTimeOffset Start, TimeSpan Length)
{
    /// <summary>The first second after the window.</summary>
    public DateTimeOffset End => Start + Length;

    /// <summary>The start in Unix seconds.</summary>
    public long StartSeconds => Start.ToUnixTimeSeconds();

    /// <summary>The end in Unix seconds (exclusive).</summary>
    public long EndSeconds => End.ToUnixTimeSeconds();

    /// <summary>The window as the command line writes it, e.g. <c>2026-11-26T00:00Z/4h</c>.</summary>
    /// <returns>The text form.</returns>
    public override string ToString()
    {
        var minutes = (long)Length.TotalMinutes;
        var length = minutes % (24 * 60) == 0 ? $"{minutes / (24 * 60)}d" : minutes % 60 == 0 ? $"{minutes / 60}h" : $"{minutes}m";
        return string.Create(CultureInfo.InvariantCulture, $"{ObjectKeys.FormatWindowStart(Start)}/{length}");
    }
}
