using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tailor.Compaction;

/// <summary>
/// A time window of compaction: a start and a length, written <c>2026-11-26T00:00Z/4h</c>. The start
/// is a whole multiple of the length since the Unix epoch, so windows of one length never overlap.
/// </summary>
public readonly record struct CompactionWindow
{
    /// <summary>The default window length: 4 hours.</summary>
    public static readonly TimeSpan DefaultLength = TimeSpan.FromHours(4);

    /// <summary>Creates a window.</summary>
    /// <exception cref="ArgumentException">The length is not a positive whole number of minutes, or the start is not aligned to it.</exception>
    public CompactionWindow(DateTimeOffset start, TimeSpan length)
    {
        if (length <= TimeSpan.Zero || length.Ticks % TimeSpan.TicksPerMinute != 0 || length > TimeSpan.FromDays(366))
        {
            throw new ArgumentException($"A window length must be a whole number of minutes up to a year (was {length}).", nameof(length));
        }

        if (start > DateTimeOffset.MaxValue - length)
        {
            throw new ArgumentException($"A window must end by {DateTimeOffset.MaxValue.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}; {start.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} plus {Format(length)} does not.", nameof(start));
        }

        var seconds = start.ToUnixTimeSeconds();
        if (start.UtcTicks % TimeSpan.TicksPerSecond != 0 || seconds % (long)length.TotalSeconds != 0)
        {
            throw new ArgumentException($"A {Format(length)} window starts at a multiple of {Format(length)} since the Unix epoch; {start.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} is not one.", nameof(start));
        }

        Start = start.ToUniversalTime();
        Length = length;
    }

    /// <summary>The first second of the window.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The window's length.</summary>
    public TimeSpan Length { get; }

    /// <summary>The first second after the window.</summary>
    public DateTimeOffset End => Start + Length;

    /// <summary>The start in Unix seconds.</summary>
    public long StartSeconds => Start.ToUnixTimeSeconds();

    /// <summary>The end in Unix seconds (exclusive).</summary>
    public long EndSeconds => End.ToUnixTimeSeconds();

    /// <summary>Whether a timestamp (Unix seconds) falls in the window.</summary>
    public bool Contains(long timestampSeconds) => timestampSeconds >= StartSeconds && timestampSeconds < EndSeconds;

    /// <summary>The window of the given length that holds <paramref name="timestampSeconds"/>.</summary>
    public static CompactionWindow Containing(long timestampSeconds, TimeSpan length)
    {
        var size = (long)length.TotalSeconds;
        var start = timestampSeconds - (((timestampSeconds % size) + size) % size);
        return new CompactionWindow(DateTimeOffset.FromUnixTimeSeconds(start), length);
    }

    /// <summary>Parses <c>2026-11-26T00:00Z/4h</c> (lengths in m, h or d; the length defaults to 4h when omitted).</summary>
    /// <exception cref="FormatException">The text is not a window; the message shows the expected form.</exception>
    public static CompactionWindow Parse(string text) =>
        TryParse(text, out var window, out var problem) ? window : throw new FormatException(problem);

    /// <summary>Parses a window, reporting what is wrong.</summary>
    public static bool TryParse(string? text, out CompactionWindow window, [NotNullWhen(false)] out string? problem)
    {
        window = default;
        const string Expected = "expected a window such as 2026-11-26T00:00Z/4h (a UTC start, then a length in m, h or d)";
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"The window is empty: {Expected}.";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var startText = slash < 0 ? text : text[..slash];
        var lengthText = slash < 0 ? "4h" : text[(slash + 1)..];
        if (!DateTimeOffset.TryParse(startText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start)
            || !(startText.EndsWith('Z') || startText.EndsWith("+00:00", StringComparison.Ordinal)))
        {
            problem = $"'{startText}' is not a UTC time: {Expected}.";
            return false;
        }

        if (!TryParseLength(lengthText, out var length))
        {
            problem = $"'{lengthText}' is not a window length: {Expected}.";
            return false;
        }

        try
        {
            window = new CompactionWindow(start, length);
            problem = null;
            return true;
        }
        catch (ArgumentException e)
        {
            problem = e.Message.Split(" (Parameter", 2)[0];
            return false;
        }
    }

    /// <summary>Parses a length such as <c>4h</c>, <c>30m</c> or <c>1d</c>.</summary>
    public static bool TryParseLength(string? text, out TimeSpan length)
    {
        length = default;
        if (text is null || text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }

        long minutes = text[^1] switch
        {
            'm' => n,
            'h' => n * 60L,
            'd' => n * 1440L,
            _ => 0,
        };

        // Longer than a TimeSpan holds is not a length: say so rather than let TimeSpan throw.
        if (minutes <= 0 || minutes > (long)TimeSpan.MaxValue.TotalMinutes)
        {
            return false;
        }

        length = TimeSpan.FromMinutes(minutes);
        return true;
    }

    /// <summary>The window as <c>2026-11-26T00:00Z/4h</c>.</summary>
    public override string ToString() => $"{Start.UtcDateTime:yyyy-MM-dd'T'HH:mm'Z'}/{Format(Length)}";

    private static string Format(TimeSpan length) =>
        length.TotalDays >= 1 && length.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(int)length.TotalDays}d"
        : length.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(int)length.TotalHours}h"
        : $"{(int)length.TotalMinutes}m";
}
