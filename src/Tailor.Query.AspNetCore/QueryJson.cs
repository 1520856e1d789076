using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Tailor.Query.AspNetCore;

/// <summary>
/// Writes a query result as the JSON body of <c>tailor query --json</c> (series with their points as rows
/// of numbers, absent windows, generations, stats), one series at a time, flushing after each, so a
/// large result starts arriving before it is complete; plus a few members pages need (a context key as a
/// string, since a 64-bit key does not fit a JavaScript number; the range and absent windows in seconds).
/// </summary>
internal static class QueryJson
{
    public static async Task WriteAsync(PipeWriter body, QueryResult result, Stopwatch watch, CancellationToken cancellationToken)
    {
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartObject();
        json.WriteStartArray("series");
        await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
        var stepped = result.Request.Step is not null;
        await foreach (var series in result.ReadSeriesAsync(cancellationToken).ConfigureAwait(false))
        {
            json.WriteStartObject();
            json.WriteNumber("org", series.Key.OrgId);
            json.WriteNumber("metric", series.Key.MetricId);
            json.WriteNumber("context", series.Key.ContextKey);
            json.WriteString("metadata", Printable(series.Metadata.Span));

            // A 64-bit key does not fit a JavaScript number: the same key as a string, for pages.
            json.WriteString("context_id", series.Key.ContextKey.ToString(CultureInfo.InvariantCulture));
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
            await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
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

        // Beyond tailor query's body, for pages: the range and absent windows in Unix seconds, and the time with the response.
        json.WriteNumber("from", result.Request.From);
        json.WriteNumber("to", result.Request.To);
        Ranges(json, "absent_ranges", result.AbsentWindows);
        json.WriteNumber("total_seconds", Math.Round(watch.Elapsed.TotalSeconds, 6));
        json.WriteEndObject();
        await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
    }

    private static string Printable(ReadOnlySpan<byte> metadata)
    {
        try
        {
            var text = new UTF8Encoding(false, true).GetString(metadata);
            return text.Any(char.IsControl) ? Convert.ToBase64String(metadata) : text;
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToBase64String(metadata);
        }
    }

    private static void WriteDouble(Utf8JsonWriter json, double value)
    {
        // JSON has no NaN or infinities: written as the strings .NET and JavaScript parse back (as tailor query does).
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void Ranges(Utf8JsonWriter json, string name, IReadOnlyList<QueryWindow> windows)
    {
        json.WriteStartArray(name);
        foreach (var window in windows)
        {
            json.WriteStartObject();
            json.WriteNumber("start", window.StartSeconds);
            json.WriteNumber("end", window.EndSeconds);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static async ValueTask FlushAsync(Utf8JsonWriter json, PipeWriter body, CancellationToken cancellationToken)
    {
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
