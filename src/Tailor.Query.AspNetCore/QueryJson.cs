using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;

namespace Tailor.Query.AspNetCore;

/// <summary>
/// Writes a query result as JSON, one series at a time, flushing after each, so a large result starts
/// arriving before it is complete. Series are columns (<c>timestamps</c>, then <c>values</c> or one array
/// per aggregation), never an object per point; ids are strings because 64-bit keys do not fit a
/// JavaScript number.
/// </summary>
internal static class QueryJson
{
    public static async Task WriteAsync(PipeWriter body, QueryResult result, Stopwatch watch, CancellationToken cancellationToken)
    {
        var request = result.Request;
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartObject();
        json.WriteString("org", request.OrgId.ToString(CultureInfo.InvariantCulture));
        json.WriteString("metric", request.MetricId.ToString(CultureInfo.InvariantCulture));
        json.WriteNumber("from", request.From);
        json.WriteNumber("to", request.To);
        if (request.Step is { } step)
        {
            json.WriteNumber("step", (long)step.TotalSeconds);
        }
        else
        {
            json.WriteNull("step");
        }

        var aggregations = request.Step is null ? [] : request.Aggregations.Count > 0 ? request.Aggregations : [QueryAggregation.Avg];
        json.WriteStartArray("aggregations");
        foreach (var aggregation in aggregations)
        {
            json.WriteStringValue(QueryAggregations.Name(aggregation));
        }

        json.WriteEndArray();
        Ranges(json, "windows", result.Windows);
        Ranges(json, "absent_windows", result.AbsentWindows);
        json.WriteBoolean("partial", result.IsPartial);
        json.WriteStartArray("unread");
        foreach (var unread in result.Unread)
        {
            json.WriteStartObject();
            json.WriteString("shard", unread.Shard.Value);
            json.WriteNumber("window_start", unread.Window.StartSeconds);
            json.WriteString("key", unread.Key);
            json.WriteString("reason", unread.Reason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("series");
        await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
        await foreach (var series in result.ReadSeriesAsync(cancellationToken).ConfigureAwait(false))
        {
            json.WriteStartObject();
            json.WriteString("context", series.ContextKey.ToString(CultureInfo.InvariantCulture));
            json.WriteNumber("points", series.Count);
            json.WriteStartArray("timestamps");
            foreach (var t in series.Timestamps.Span)
            {
                json.WriteNumberValue(t);
            }

            json.WriteEndArray();
            if (aggregations.Count == 0)
            {
                Column(json, "values", series.Values.Span);
            }
            else
            {
                foreach (var aggregation in aggregations)
                {
                    Column(json, QueryAggregations.Name(aggregation), series.GetColumn(aggregation).Span);
                }
            }

            json.WriteEndObject();
            await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
        }

        json.WriteEndArray();
        var stats = result.Stats;
        json.WriteStartObject("stats");
        json.WriteNumber("windows", stats.Windows);
        json.WriteNumber("absent_windows", result.AbsentWindows.Count);
        json.WriteNumber("parts", stats.Parts);
        json.WriteNumber("reads", stats.Reads);
        json.WriteNumber("bytes", stats.Bytes);
        json.WriteNumber("cache_hits", stats.CacheHits);
        json.WriteNumber("cache_misses", stats.CacheMisses);
        json.WriteNumber("series", result.SeriesCount);
        json.WriteNumber("points_decoded", stats.PointsDecoded);
        json.WriteNumber("points_returned", stats.PointsReturned);
        json.WriteNumber("query_ms", Math.Round(stats.Elapsed.TotalMilliseconds, 1));
        json.WriteNumber("total_ms", Math.Round(watch.Elapsed.TotalMilliseconds, 1));
        json.WriteEndObject();
        json.WriteEndObject();
        await FlushAsync(json, body, cancellationToken).ConfigureAwait(false);
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

    private static void Column(Utf8JsonWriter json, string name, ReadOnlySpan<double> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            // JSON has no NaN or infinities: they are written as null.
            if (double.IsFinite(v))
            {
                json.WriteNumberValue(v);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        json.WriteEndArray();
    }

    private static async ValueTask FlushAsync(Utf8JsonWriter json, PipeWriter body, CancellationToken cancellationToken)
    {
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
