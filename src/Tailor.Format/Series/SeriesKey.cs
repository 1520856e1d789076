using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Tailor.Format.Series;

/// <summary>
/// The identity of one time series: org, metric and tag set. S-files are sorted by it: by org id, then
/// metric id, then context key, each compared as an unsigned integer.
/// </summary>
/// <param name="OrgId">The customer (the unit of sharding).</param>
/// <param name="MetricId">The metric name, interned by the producer.</param>
/// <param name="ContextKey">The identity of one tag set of the metric.</param>
/// <remarks>On disk a key is 20 bytes: <c>u32</c> org id, <c>u64</c> metric id, <c>u64</c> context key, little-endian
/// (<see cref="EncodedLength"/>). The text form is <c>ORG:METRIC:CONTEXT</c> in decimal.</remarks>
public readonly record struct SeriesKey(uint OrgId, ulong MetricId, ulong ContextKey) : IComparable<SeriesKey>, IComparable
{
    /// <summary>The length of a key on disk: 20 bytes.</summary>
    public const int EncodedLength = 20;

    /// <summary>The smallest key (0:0:0).</summary>
    public static SeriesKey MinValue => default;

    /// <summary>The largest key.</summary>
    public static SeriesKey MaxValue => new(uint.MaxValue, ulong.MaxValue, ulong.MaxValue);

    /// <summary>Compares keys in S-file order: org id, then metric id, then context key.</summary>
    /// <param name="other">The other key.</param>
    /// <returns>Negative, zero or positive as this key sorts before, with or after <paramref name="other"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareTo(SeriesKey other)
    {
        if (OrgId != other.OrgId)
        {
            return OrgId < other.OrgId ? -1 : 1;
        }

        if (MetricId != other.MetricId)
        {
            return MetricId < other.MetricId ? -1 : 1;
        }

        return ContextKey == other.ContextKey ? 0 : ContextKey < other.ContextKey ? -1 : 1;
    }

    /// <inheritdoc />
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        SeriesKey key => CompareTo(key),
        _ => throw new ArgumentException("The object is not a SeriesKey.", nameof(obj)),
    };

    /// <summary>Whether <paramref name="left"/> sorts before <paramref name="right"/>.</summary>
    public static bool operator <(SeriesKey left, SeriesKey right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> sorts after <paramref name="right"/>.</summary>
    public static bool operator >(SeriesKey left, SeriesKey right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> sorts before or equals <paramref name="right"/>.</summary>
    public static bool operator <=(SeriesKey left, SeriesKey right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> sorts after or equals <paramref name="right"/>.</summary>
    public static bool operator >=(SeriesKey left, SeriesKey right) => left.CompareTo(right) >= 0;

    /// <summary>Writes the key's 20 bytes at the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedLength"/> bytes.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination[12..EncodedLength], ContextKey);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, OrgId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], MetricId);
    }

    /// <summary>Reads a key from its 20 bytes.</summary>
    /// <param name="source">At least <see cref="EncodedLength"/> bytes.</param>
    /// <returns>The key.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SeriesKey Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt64LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[12..EncodedLength]));

    /// <summary>The key as <c>ORG:METRIC:CONTEXT</c> in decimal, the form <see cref="TryParse(string?, out SeriesKey)"/> reads.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{OrgId}:{MetricId}:{ContextKey}");

    /// <summary>Parses <c>ORG:METRIC:CONTEXT</c>: three unsigned decimal numbers (digits only, no sign or spaces)
    /// that fit a <c>u32</c>, a <c>u64</c> and a <c>u64</c>.</summary>
    /// <param name="text">The text, e.g. <c>42:7:18446744073709551615</c>.</param>
    /// <param name="key">The key, when the text is valid.</param>
    /// <returns>Whether the text is a valid key.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out SeriesKey key) => TryParse(text.AsSpan(), out key);

    /// <summary>Parses <c>ORG:METRIC:CONTEXT</c>; see <see cref="TryParse(string?, out SeriesKey)"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="key">The key, when the text is valid.</param>
    /// <returns>Whether the text is a valid key.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out SeriesKey key)
    {
        key = default;
        var first = text.IndexOf(':');
        if (first < 0)
        {
            return false;
        }

        var rest = text[(first + 1)..];
        var second = rest.IndexOf(':');
        if (second < 0)
        {
            return false;
        }

        if (!uint.TryParse(text[..first], NumberStyles.None, CultureInfo.InvariantCulture, out var org)
            || !ulong.TryParse(rest[..second], NumberStyles.None, CultureInfo.InvariantCulture, out var metric)
            || !ulong.TryParse(rest[(second + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var context))
        {
            return false;
        }

        key = new SeriesKey(org, metric, context);
        return true;
    }

    /// <summary>Parses <c>ORG:METRIC:CONTEXT</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">The text is not three unsigned decimal numbers separated by colons.</exception>
    public static SeriesKey Parse(string text) => TryParse(text, out var key)
        ? key
        : throw new FormatException($"'{text}' is not a series key: expected ORG:METRIC:CONTEXT, three unsigned decimal numbers (org < 2^32, metric and context < 2^64).");
}
