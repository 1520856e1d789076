using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Query.Tests;

/// <summary>One series as the reference computes it.</summary>
internal sealed record ReferenceSeries(SeriesKey Key, byte[] Metadata, long[] Timestamps, double[] Values, double[][] Columns);

/// <summary>The reference answer: series in key order and the absent windows.</summary>
internal sealed record ReferenceResult(IReadOnlyList<ReferenceSeries> Series, IReadOnlyList<QueryWindow> Absent);

/// <summary>
/// The brute force a query must agree with: every S-file every current manifest names, scanned whole
/// with <see cref="SFileScanner"/>, every point filtered by key and time, and the aggregations computed
/// by plain loops over each bucket's points.
/// </summary>
internal static class Reference
{
    public static async Task<ReferenceResult> ComputeAsync(IObjectStore store, QueryRequest request, int sharedShards, TimeSpan windowLength, IReadOnlyList<ShardName>? shardsRead = null)
    {
        var size = (long)windowLength.TotalSeconds;
        var points = new Dictionary<SeriesKey, List<(long T, double V, long Window, byte[] Metadata)>>();
        var absent = new List<QueryWindow>();
        var shards = shardsRead ?? [ShardName.Shared(request.OrgId % (uint)sharedShards), ShardName.Dedicated(request.OrgId)];
        for (var start = (long)Math.Floor(request.From / (double)size) * size; start < request.To; start += size)
        {
            var window = DateTimeOffset.FromUnixTimeSeconds(start);
            var any = false;
            foreach (var shard in shards)
            {
                var key = ObjectKeys.Manifest(shard, window);
                if (await store.GetInfoAsync(key) is not { } info)
                {
                    continue;
                }

                any = true;
                var manifest = CompactionManifest.Parse(await ReadAllAsync(store, key, info.Size));
                foreach (var output in manifest.Outputs)
                {
                    var file = await ReadAllAsync(store, output.Key, output.Size);
                    Scan(file, request, start, points);
                }
            }

            if (!any)
            {
                absent.Add(new QueryWindow(window, windowLength));
            }
        }

        var aggregations = request.Step is null ? [] : request.Aggregations.Count == 0 ? [QueryAggregation.Avg] : request.Aggregations.ToArray();
        var series = new List<ReferenceSeries>();
        foreach (var (key, list) in points.OrderBy(p => p.Key))
        {
            var sorted = list.OrderBy(p => p.T).ToList();
            var metadata = sorted[^1].Metadata;
            if (request.Step is not { } step)
            {
                series.Add(new ReferenceSeries(key, metadata, [.. sorted.Select(p => p.T)], [.. sorted.Select(p => p.V)], []));
                continue;
            }

            var stepSeconds = (long)step.TotalSeconds;
            var starts = new List<long>();
            var columns = aggregations.Select(_ => new List<double>()).ToArray();
            var previous = new double?[sorted.Count];
            for (var i = 1; i < sorted.Count; i++)
            {
                previous[i] = sorted[i - 1].V;
            }

            foreach (var bucket in sorted.Select((p, i) => (p, i)).GroupBy(x => (x.p.T - request.From) / stepSeconds))
            {
                var values = bucket.Select(x => x.p.V).ToArray();
                var bucketStart = request.From + (bucket.Key * stepSeconds);
                var length = Math.Min(bucketStart + stepSeconds, request.To) - bucketStart;
                var increase = 0.0;
                foreach (var (p, i) in bucket)
                {
                    if (previous[i] is { } before)
                    {
                        increase += p.V >= before ? p.V - before : p.V;
                    }
                }

                starts.Add(bucketStart);
                for (var a = 0; a < aggregations.Length; a++)
                {
                    columns[a].Add(aggregations[a] switch
                    {
                        QueryAggregation.Min => values.Aggregate(Math.Min),
                        QueryAggregation.Max => values.Aggregate(Math.Max),
                        QueryAggregation.Sum => values.Aggregate((x, y) => x + y),
                        QueryAggregation.Count => values.Length,
                        QueryAggregation.Avg => values.Aggregate((x, y) => x + y) / values.Length,
                        QueryAggregation.First => values[0],
                        QueryAggregation.Last => values[^1],
                        QueryAggregation.Rate => increase / length,
                        _ => throw new ArgumentOutOfRangeException(nameof(request)),
                    });
                }
            }

            series.Add(new ReferenceSeries(key, metadata, [.. starts], [], [.. columns.Select(c => c.ToArray())]));
        }

        return new ReferenceResult(series, absent);
    }

    private static void Scan(byte[] file, QueryRequest request, long window, Dictionary<SeriesKey, List<(long, double, long, byte[])>> points)
    {
        var scanner = new SFileScanner(file);
        try
        {
            var timestamps = new long[Math.Max(1, scanner.Layout.Footer.Stats.MaxPointCount)];
            var values = new double[timestamps.Length];
            while (scanner.MoveNext())
            {
                var key = scanner.Current.Key;
                var metadata = scanner.Metadata.ToArray();
                var n = scanner.ReadPoints(timestamps, values);
                if (key.OrgId != request.OrgId || key.MetricId != request.MetricId
                    || (request.Contexts is { Count: > 0 } contexts && !contexts.Contains(key.ContextKey)))
                {
                    continue;
                }

                for (var i = 0; i < n; i++)
                {
                    if (timestamps[i] >= request.From && timestamps[i] < request.To)
                    {
                        if (!points.TryGetValue(key, out var list))
                        {
                            points[key] = list = [];
                        }

                        list.Add((timestamps[i], values[i], window, metadata));
                    }
                }
            }
        }
        finally
        {
            scanner.Dispose();
        }
    }

    private static async Task<byte[]> ReadAllAsync(IObjectStore store, string key, long size)
    {
        var bytes = new byte[size];
        var n = await store.ReadAsync(key, 0, bytes);
        Assert.Equal(size, n);
        return bytes;
    }

    /// <summary>Compares a query result with the reference; returns null when they agree, else what differs.</summary>
    public static async Task<string?> CompareAsync(QueryResult result, ReferenceResult expected)
    {
        if (!result.AbsentWindows.SequenceEqual(expected.Absent))
        {
            return $"absent windows: got [{string.Join(", ", result.AbsentWindows)}], expected [{string.Join(", ", expected.Absent)}]";
        }

        var i = 0;
        await foreach (var series in result.ReadSeriesAsync())
        {
            if (i >= expected.Series.Count)
            {
                return $"extra series {series.Key}";
            }

            var want = expected.Series[i++];
            if (series.Key != want.Key)
            {
                return $"series {i - 1}: got {series.Key}, expected {want.Key}";
            }

            if (!series.Metadata.Span.SequenceEqual(want.Metadata))
            {
                return $"{want.Key}: metadata differs";
            }

            if (!series.Timestamps.Span.SequenceEqual(want.Timestamps))
            {
                return $"{want.Key}: timestamps differ: got {series.Count} [{string.Join(",", series.Timestamps.ToArray().Take(8))}…], expected {want.Timestamps.Length} [{string.Join(",", want.Timestamps.Take(8))}…]";
            }

            if (result.Request.Step is null)
            {
                if (Differs(series.Values.Span, want.Values) is { } at)
                {
                    return $"{want.Key}: value {at} differs: got {series.Values.Span[at]:R}, expected {want.Values[at]:R}";
                }

                continue;
            }

            for (var a = 0; a < series.Aggregations.Count; a++)
            {
                var column = series.GetColumn(series.Aggregations[a]).Span;
                if (Differs(column, want.Columns[a]) is { } at)
                {
                    return $"{want.Key} {series.Aggregations[a]}: bucket {at} differs: got {column[at]:R}, expected {want.Columns[a][at]:R}";
                }
            }
        }

        return i == expected.Series.Count ? null : $"missing series: got {i}, expected {expected.Series.Count}";
    }

    /// <summary>The first position where the values differ bit for bit (any NaN equals any NaN).</summary>
    private static int? Differs(ReadOnlySpan<double> got, double[] want)
    {
        if (got.Length != want.Length)
        {
            return Math.Min(got.Length, want.Length);
        }

        for (var i = 0; i < want.Length; i++)
        {
            if (!(double.IsNaN(got[i]) && double.IsNaN(want[i])) && BitConverter.DoubleToInt64Bits(got[i]) != BitConverter.DoubleToInt64Bits(want[i]))
            {
                return i;
            }
        }

        return null;
    }
}
