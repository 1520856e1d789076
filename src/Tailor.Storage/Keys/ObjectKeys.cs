using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;

namespace Tailor.Storage;

/// <summary>
/// The key layout of a Tailor store, built and parsed in one place:
/// <code>
/// segments/&lt;shard&gt;/&lt;yyyy-MM-ddTHH&gt;/&lt;p&gt;/&lt;writer id&gt;-&lt;sequence&gt;.tseg
/// series/&lt;shard&gt;/&lt;window start&gt;/&lt;part&gt;.tsf
/// series/&lt;shard&gt;/&lt;window start&gt;/_manifest.json
/// deadletter/&lt;topic&gt;/&lt;partition&gt;/&lt;offset&gt;.bin
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// <c>&lt;p&gt;</c> is a short hex hash of writer id and sequence (two digits by default) that spreads one
/// shard-hour over up to 256 sub-prefixes: S3 scales request rates per prefix and answers a hot one with
/// 503 Slow Down, while listing a shard-hour stays one prefix. The writer id is a random 64-bit number
/// printed as 16 lower-case hex digits; numbers are zero-padded (sequence 10 digits, part 5, offset 19)
/// so listings sort numerically. Times are UTC: the hour a segment was opened, and window starts written
/// like <c>2026-11-26T00:00Z</c>.
/// </para>
/// <para>
/// Every piece of a key is validated or formatted from a number, so no input can make a key leave its
/// prefix. Each parser accepts exactly what the builder produces (one spelling per key) and returns
/// <see langword="false"/> for anything else.
/// </para>
/// </remarks>
public static class ObjectKeys
{
    /// <summary>The top folder of segment files: <c>segments/</c>.</summary>
    public const string SegmentsRoot = "segments/";

    /// <summary>The top folder of S-files and manifests: <c>series/</c>.</summary>
    public const string SeriesRoot = "series/";

    /// <summary>The top folder of dead letters: <c>deadletter/</c>.</summary>
    public const string DeadLetterRoot = "deadletter/";

    /// <summary>The file name of a window's manifest: <c>_manifest.json</c>.</summary>
    public const string ManifestFileName = "_manifest.json";

    /// <summary>Hex digits of the spreading hash by default: 2 (256 sub-prefixes per shard-hour).</summary>
    public const int DefaultSpreadDigits = 2;

    private const string SegmentExtension = ".tseg";
    private const string SeriesExtension = ".tsf";
    private const string DeadLetterExtension = ".bin";
    private const string HourFormat = "yyyy-MM-dd'T'HH";
    private const string WindowFormat = "yyyy-MM-dd'T'HH:mm'Z'";

    /// <summary>A new random writer id (never zero).</summary>
    /// <returns>64 random bits.</returns>
    public static ulong NewWriterId()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = BitConverter.ToUInt64(bytes);
        }
        while (id == 0);
        return id;
    }

    /// <summary>A writer id as 16 lower-case hex digits.</summary>
    /// <param name="writerId">The writer id.</param>
    /// <returns>E.g. <c>00f3a9c2b18e4d77</c>.</returns>
    public static string FormatWriterId(ulong writerId) => writerId.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>An hour as it appears in segment keys: <c>yyyy-MM-ddTHH</c>, UTC.</summary>
    /// <param name="time">Any time in the hour.</param>
    /// <returns>E.g. <c>2026-11-26T05</c>.</returns>
    public static string FormatHour(DateTimeOffset time) => time.UtcDateTime.ToString(HourFormat, CultureInfo.InvariantCulture);

    /// <summary>A window start as it appears in keys and on the command line: <c>yyyy-MM-ddTHH:mmZ</c>, UTC.</summary>
    /// <param name="windowStart">The window's start; must fall on a whole minute.</param>
    /// <returns>E.g. <c>2026-11-26T00:00Z</c>.</returns>
    /// <exception cref="ArgumentException">The time has seconds or a fraction of one.</exception>
    public static string FormatWindowStart(DateTimeOffset windowStart)
    {
        if (windowStart.UtcTicks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentException($"A window start falls on a whole minute; {windowStart:O} does not.", nameof(windowStart));
        }

        return windowStart.UtcDateTime.ToString(WindowFormat, CultureInfo.InvariantCulture);
    }

    /// <summary>Parses a window start written <c>yyyy-MM-ddTHH:mmZ</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="windowStart">The time, in UTC, when valid.</param>
    /// <returns>Whether the text is a window start in exactly that form.</returns>
    public static bool TryParseWindowStart([NotNullWhen(true)] string? text, out DateTimeOffset windowStart)
    {
        windowStart = default;
        if (text is null || !DateTime.TryParseExact(text, WindowFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        windowStart = new DateTimeOffset(time, TimeSpan.Zero);
        return true;
    }

    /// <summary>The spreading sub-prefix of a segment: a stable hash of writer id and sequence in <paramref name="digits"/> hex digits.</summary>
    /// <param name="writerId">The writer id.</param>
    /// <param name="sequence">The segment's sequence number.</param>
    /// <param name="digits">How many hex digits, 1 to 4.</param>
    /// <returns>E.g. <c>a7</c>.</returns>
    public static string Spread(ulong writerId, long sequence, int digits = DefaultSpreadDigits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(digits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digits, 4);

        // SplitMix64's finaliser: consecutive sequences of one writer land on unrelated prefixes, the
        // same inputs always on the same one (in every process and version).
        var z = writerId ^ unchecked((ulong)sequence * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var value = (uint)(z >> (64 - (4 * digits)));
        return value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>The key of a segment file.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="openedAt">When the segment was opened (its hour names the folder).</param>
    /// <param name="writerId">The writer's random id.</param>
    /// <param name="sequence">The writer's sequence number of this segment, from 0.</param>
    /// <param name="spreadDigits">Hex digits of the spreading sub-prefix, 1 to 4.</param>
    /// <returns>E.g. <c>segments/org-mod-7/2026-11-26T05/a7/00f3a9c2b18e4d77-0000000042.tseg</c>.</returns>
    public static string Segment(ShardName shard, DateTimeOffset openedAt, ulong writerId, long sequence, int spreadDigits = DefaultSpreadDigits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        return $"{SegmentHourPrefix(shard, openedAt)}{Spread(writerId, sequence, spreadDigits)}/{FormatWriterId(writerId)}-{sequence.ToString("D10", CultureInfo.InvariantCulture)}{SegmentExtension}";
    }

    /// <summary>The prefix of every segment of a shard: <c>segments/&lt;shard&gt;/</c>.</summary>
    /// <param name="shard">The shard.</param>
    /// <returns>The prefix, ending with <c>/</c>.</returns>
    public static string SegmentShardPrefix(ShardName shard) => $"{SegmentsRoot}{Checked(shard)}/";

    /// <summary>The prefix of every segment of a shard opened in one hour: <c>segments/&lt;shard&gt;/&lt;yyyy-MM-ddTHH&gt;/</c>.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="hour">Any time in the hour.</param>
    /// <returns>The prefix, ending with <c>/</c>.</returns>
    public static string SegmentHourPrefix(ShardName shard, DateTimeOffset hour) => $"{SegmentShardPrefix(shard)}{FormatHour(hour)}/";

    /// <summary>Parses a segment key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="segment">Its parts, when valid.</param>
    /// <returns>Whether the key is a segment key exactly as <see cref="Segment"/> builds them.</returns>
    public static bool TryParseSegment([NotNullWhen(true)] string? key, out SegmentKey segment)
    {
        segment = default;
        if (key is null || !key.StartsWith(SegmentsRoot, StringComparison.Ordinal) || !key.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key.Split('/');
        if (parts.Length != 5 || !ShardName.TryParse(parts[1], out var shard) ||
            !DateTime.TryParseExact(parts[2], HourFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hour) ||
            parts[3].Length is < 1 or > 4 || !parts[3].All(char.IsAsciiHexDigitLower))
        {
            return false;
        }

        var file = parts[4].AsSpan(0, parts[4].Length - SegmentExtension.Length);
        if (file.Length < 16 + 1 + 10 || file[16] != '-' ||
            !IsLowerHex(file[..16]) || !ulong.TryParse(file[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var writer) ||
            !TryParsePadded(file[17..], 10, out var sequence) ||
            Spread(writer, sequence, parts[3].Length) != parts[3])
        {
            return false;
        }

        segment = new SegmentKey(shard, new DateTimeOffset(hour, TimeSpan.Zero), parts[3], writer, sequence);
        return true;
    }

    /// <summary>The key of one S-file of a window.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="windowStart">The window's start (a whole minute).</param>
    /// <param name="part">The file's number within the window, from 0.</param>
    /// <param name="generation">
    /// Optional: 8 lowercase hex digits naming the input set that produced the file, so a recompaction
    /// with other inputs never overwrites a file an older manifest still names.
    /// </param>
    /// <returns>E.g. <c>series/org-mod-7/2026-11-26T00:00Z/00003.tsf</c> or <c>…/3fa2c19b-00003.tsf</c>.</returns>
    public static string SeriesFile(ShardName shard, DateTimeOffset windowStart, int part, string? generation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        if (generation is not null && !IsGeneration(generation))
        {
            throw new ArgumentException($"'{generation}' is not a generation (8 lowercase hex digits).", nameof(generation));
        }

        var prefix = generation is null ? "" : generation + "-";
        return $"{SeriesWindowPrefix(shard, windowStart)}{prefix}{part.ToString("D5", CultureInfo.InvariantCulture)}{SeriesExtension}";
    }

    private static bool IsGeneration(ReadOnlySpan<char> text)
    {
        if (text.Length != 8)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The key of a window's manifest, written last as the window's commit point.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="windowStart">The window's start (a whole minute).</param>
    /// <returns>E.g. <c>series/org-mod-7/2026-11-26T00:00Z/_manifest.json</c>.</returns>
    public static string Manifest(ShardName shard, DateTimeOffset windowStart) => SeriesWindowPrefix(shard, windowStart) + ManifestFileName;

    /// <summary>The prefix of every S-file of a shard: <c>series/&lt;shard&gt;/</c>.</summary>
    /// <param name="shard">The shard.</param>
    /// <returns>The prefix, ending with <c>/</c>.</returns>
    public static string SeriesShardPrefix(ShardName shard) => $"{SeriesRoot}{Checked(shard)}/";

    /// <summary>The prefix of a window's S-files and manifest: <c>series/&lt;shard&gt;/&lt;window start&gt;/</c>.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="windowStart">The window's start (a whole minute).</param>
    /// <returns>The prefix, ending with <c>/</c>.</returns>
    public static string SeriesWindowPrefix(ShardName shard, DateTimeOffset windowStart) => $"{SeriesShardPrefix(shard)}{FormatWindowStart(windowStart)}/";

    /// <summary>Parses an S-file key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="file">Its parts, when valid.</param>
    /// <returns>Whether the key is an S-file key exactly as <see cref="SeriesFile"/> builds them.</returns>
    public static bool TryParseSeriesFile([NotNullWhen(true)] string? key, out SeriesFileKey file)
    {
        file = default;
        if (!TrySplitSeries(key, out var shard, out var window, out var name) || !name.EndsWith(SeriesExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var stem = name.AsSpan(0, name.Length - SeriesExtension.Length);
        string? generation = null;
        if (stem.Length == 14 && stem[8] == '-' && IsGeneration(stem[..8]))
        {
            generation = stem[..8].ToString();
            stem = stem[9..];
        }

        if (!TryParsePadded(stem, 5, out var part) || part > int.MaxValue)
        {
            return false;
        }

        file = new SeriesFileKey(shard, window, (int)part, generation);
        return true;
    }

    /// <summary>Parses a manifest key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="shard">The shard, when valid.</param>
    /// <param name="windowStart">The window's start, when valid.</param>
    /// <returns>Whether the key is a manifest key exactly as <see cref="Manifest"/> builds them.</returns>
    public static bool TryParseManifest([NotNullWhen(true)] string? key, out ShardName shard, out DateTimeOffset windowStart) =>
        TrySplitSeries(key, out shard, out windowStart, out var name) && name == ManifestFileName;

    /// <summary>The key of a dead letter: a Kafka record that could not be processed, kept for inspection.</summary>
    /// <param name="topic">The record's topic (a legal Kafka topic name).</param>
    /// <param name="partition">The record's partition.</param>
    /// <param name="offset">The record's offset.</param>
    /// <returns>E.g. <c>deadletter/metrics-3/12/0000000000000004711.bin</c>.</returns>
    /// <exception cref="ArgumentException">The topic is not a legal Kafka topic name, or a number is negative.</exception>
    public static string DeadLetter(string topic, int partition, long offset)
    {
        if (!IsTopicName(topic))
        {
            throw new ArgumentException($"'{topic}' is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -, not '.' or '..').", nameof(topic));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return $"{DeadLetterRoot}{topic}/{partition.ToString(CultureInfo.InvariantCulture)}/{offset.ToString("D19", CultureInfo.InvariantCulture)}{DeadLetterExtension}";
    }

    /// <summary>Parses a dead-letter key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="deadLetter">Its parts, when valid.</param>
    /// <returns>Whether the key is a dead-letter key exactly as <see cref="DeadLetter"/> builds them.</returns>
    public static bool TryParseDeadLetter([NotNullWhen(true)] string? key, out DeadLetterKey deadLetter)
    {
        deadLetter = default;
        if (key is null || !key.StartsWith(DeadLetterRoot, StringComparison.Ordinal) || !key.EndsWith(DeadLetterExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key.Split('/');
        if (parts.Length != 4 || !IsTopicName(parts[1]) ||
            !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var partition) ||
            partition.ToString(CultureInfo.InvariantCulture) != parts[2] ||
            !TryParsePadded(parts[3].AsSpan(0, parts[3].Length - DeadLetterExtension.Length), 19, out var offset))
        {
            return false;
        }

        deadLetter = new DeadLetterKey(parts[1], partition, offset);
        return true;
    }

    private static string Checked(ShardName shard) =>
        shard.IsEmpty ? throw new ArgumentException("default(ShardName) names no shard.", nameof(shard)) : shard.Value;

    private static bool IsTopicName(string? topic) =>
        topic is { Length: > 0 and <= 249 } and not ("." or "..") &&
        topic.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A non-negative decimal written with at least <paramref name="width"/> digits, in its one canonical spelling.</summary>
    private static bool TryParsePadded(ReadOnlySpan<char> text, int width, out long value)
    {
        value = 0;
        return text.Length >= width && (text.Length == width || text[0] != '0') &&
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TrySplitSeries(string? key, out ShardName shard, out DateTimeOffset window, out string name)
    {
        shard = default;
        window = default;
        name = string.Empty;
        if (key is null || !key.StartsWith(SeriesRoot, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key.Split('/');
        if (parts.Length != 4 || !ShardName.TryParse(parts[1], out shard) || !TryParseWindowStart(parts[2], out window))
        {
            return false;
        }

        name = parts[3];
        return true;
    }
}

/// <summary>The parts of a segment key.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Hour">The hour the segment was opened (UTC, whole hour).</param>
/// <param name="Spread">The spreading sub-prefix (hex).</param>
/// <param name="WriterId">The writer's id.</param>
/// <param name="Sequence">The writer's sequence number of the segment.</param>
public readonly record struct SegmentKey(ShardName Shard, DateTimeOffset Hour, string Spread, ulong WriterId, long Sequence)
{
    /// <summary>The key these parts make.</summary>
    /// <returns>The segment key.</returns>
    public string ToKey() => ObjectKeys.Segment(Shard, Hour, WriterId, Sequence, Spread.Length);
}

/// <summary>The parts of an S-file key.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="WindowStart">The window's start (UTC).</param>
/// <param name="Part">The file's number within the window.</param>
/// <param name="Generation">The input set's 8-hex-digit name, when the key has one.</param>
public readonly record struct SeriesFileKey(ShardName Shard, DateTimeOffset WindowStart, int Part, string? Generation = null)
{
    /// <summary>The key these parts make.</summary>
    /// <returns>The S-file key.</returns>
    public string ToKey() => ObjectKeys.SeriesFile(Shard, WindowStart, Part, Generation);
}

/// <summary>The parts of a dead-letter key.</summary>
/// <param name="Topic">The record's topic.</param>
/// <param name="Partition">The record's partition.</param>
/// <param name="Offset">The record's offset.</param>
public readonly record struct DeadLetterKey(string Topic, int Partition, long Offset)
{
    /// <summary>The key these parts make.</summary>
    /// <returns>The dead-letter key.</returns>
    public string ToKey() => ObjectKeys.DeadLetter(Topic, Partition, Offset);
}
