using System.Text;
using System.Text.Json;

namespace Tailor.Query;

/// <summary>
/// Writes a query result as JSON, the one body <c>tailor query --json</c> prints and <c>GET /api/v1/query</c>
/// answers: <c>series</c> (org, metric, context, metadata, with a step the <c>columns</c>, and the
/// <c>points</c> as rows of numbers), <c>absent_windows</c>, <c>unread</c> (only for a partial result),
/// <c>generations</c> and <c>stats</c>. Series are written as the result hands them out, one at a time.
/// </summary>
/// <remarks>
/// JSON has no NaN or infinities: such values are written as the strings <c>"NaN"</c>, <c>"Infinity"</c> and
/// <c>"-Infinity"</c>, which .NET and JavaScript parse back. Metadata is written as text when it is printable
/// UTF-8, else as lower-case hex.
/// </remarks>
public static class QueryResultJson
{
    private const int FlushThreshold = 1 << 16;

    /// <summary>Reads every series of <paramref name="result"/> and writes the JSON body to <paramref name="destination"/>, which stays open.</summary>
    public static async Task WriteAsync(Stream destination, QueryResult result, QueryJsonOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(result);
        options ??= new QueryJsonOptions();
        await using var json = new Utf8JsonWriter(destination);
        json.WriteStartObject();
        json.WriteStartArray("series");
        var stepped = result.Request.Step is not null;
        await foreach (var series in result.ReadSeriesAsync(cancellationToken).ConfigureAwait(false))
        {
            json.WriteStartObject();
            json.WriteNumber("org", series.Key.OrgId);
            json.WriteNumber("metric", series.Key.MetricId);
            json.WriteNumber("context", series.Key.ContextKey);
            json.WriteString("metadata", Printable(series.Metadata.Span));
            if (options.PageMembers)
            {
                json.WriteString("context_id", series.Key.ContextKey.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (stepped)
            {
                json.WriteStartArray("columns");
                json.WriteStringValue("ts");
                foreach (var aggregation in series.Aggregations)
                {
                    json.WriteStringValue(QueryAggregations.Name(aggregation));
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("points");
            var timestamps = series.Timestamps.Span;
            var columns = stepped ? series.Aggregations.Select(series.GetColumn).ToArray() : [series.Values];
            for (var i = 0; i < timestamps.Length; i++)
            {
                json.WriteStartArray();
                json.WriteNumberValue(timestamps[i]);
                foreach (var column in columns)
                {
                    WriteDouble(json, column.Span[i]);
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            if (options.FlushEachSeries || json.BytesPending > FlushThreshold)
            {
                await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (options.FlushEachSeries)
                {
                    await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        json.WriteEndArray();
        json.WriteStartArray("absent_windows");
        foreach (var window in result.AbsentWindows)
        {
            json.WriteStringValue(window.ToString());
        }

        json.WriteEndArray();
        if (result.Unread.Count > 0)
        {
            json.WriteStartArray("unread");
            foreach (var unread in result.Unread)
            {
                json.WriteStartObject();
                json.WriteString("key", unread.Key);
                json.WriteString("shard", unread.Shard.Value);
                json.WriteString("window", unread.Window.ToString());
                json.WriteString("kind", unread.Kind.ToString());
                json.WriteString("reason", unread.Reason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteStartArray("generations");
        foreach (var read in result.WindowsRead)
        {
            json.WriteStartObject();
            json.WriteString("shard", read.Shard.Value);
            json.WriteString("window", read.Window.ToString());
            json.WriteString("generation", read.Generation);
            json.WriteNumber("parts", read.Parts);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        var stats = result.Stats;
        json.WriteStartObject("stats");
        json.WriteNumber("windows", stats.Windows);
        json.WriteNumber("parts", stats.Parts);
        json.WriteNumber("reads", stats.Reads);
        json.WriteNumber("bytes", stats.Bytes);
        json.WriteNumber("seconds", Math.Round(stats.Elapsed.TotalSeconds, 6));
        json.WriteNumber("series", stats.Series);
        json.WriteNumber("points", stats.PointsReturned);
        json.WriteNumber("cache_hits", stats.CacheHits);
        json.WriteEndObject();
        if (options.PageMembers)
        {
            json.WriteNumber("from", result.Request.From);
            json.WriteNumber("to", result.Request.To);
            json.WriteStartArray("absent_ranges");
            foreach (var window in result.AbsentWindows)
            {
                json.WriteStartObject();
                json.WriteNumber("start", window.StartSeconds);
                json.WriteNumber("end", window.EndSeconds);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        if (options.Elapsed is { } elapsed)
        {
            json.WriteNumber("total_seconds", Math.Round(elapsed().TotalSeconds, 6));
        }

        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Metadata as text when it is printable UTF-8 (tags usually are), else as lower-case hex.</summary>
    /// <remarks>The tool's table and CSV output print metadata the same way.</remarks>
    public static string Printable(ReadOnlySpan<byte> metadata)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(metadata);
            return text.All(c => !char.IsControl(c)) ? text : Convert.ToHexStringLower(metadata);
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToHexStringLower(metadata);
        }
    }

    private static void WriteDouble(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }
}
