using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Benchmarks.Query;

/// <summary>
/// The brute-force answers the query benchmark checks the engine against: every point of every part
/// of every window of the org's shards, walked with the strict <see cref="SFileScanner"/>, filtered and
/// aggregated naively. Slow by design; shares no code with the engine.
/// </summary>
public sealed class QueryReference
{
    private readonly Dictionary<(ulong Context, long Bucket), Bucket> _buckets = [];
    private readonly List<(long T, double V)> _series = [];

    private QueryReference()
    {
    }

    /// <summary>The one series' points in the long range, in time order.</summary>
    public IReadOnlyList<(long T, double V)> Series => _series;

    /// <summary>The aggregate: per (context, step start) the count, sum and max of the points in the aggregate range.</summary>
    public IReadOnlyDictionary<(ulong Context, long Bucket), Bucket> Buckets => _buckets;

    /// <summary>Points in the aggregate range (every context of the metric).</summary>
    public long AggregatePoints { get; private set; }

    /// <summary>Every point the reference decoded, of every series of every part it read.</summary>
    public long PointsScanned { get; private set; }

    /// <summary>Parts read.</summary>
    public int Parts { get; private set; }

    /// <summary>Scans the store.</summary>
    /// <param name="store">The store.</param>
    /// <param name="shards">The shards that may hold the org.</param>
    /// <param name="orgId">The org.</param>
    /// <param name="metricId">The metric.</param>
    /// <param name="context">The one series' context (the long-range query).</param>
    /// <param name="seriesFrom">The long range's start.</param>
    /// <param name="seriesTo">The long range's end (exclusive).</param>
    /// <param name="aggregateFrom">The aggregate range's start, a multiple of the step.</param>
    /// <param name="aggregateTo">The aggregate range's end (exclusive).</param>
    /// <param name="step">The aggregate's step, seconds.</param>
    /// <param name="cancellationToken">Cancels the scan.</param>
    /// <returns>The answers.</returns>
    public static async Task<QueryReference> ScanAsync(IObjectStore store, IEnumerable<ShardName> shards, uint orgId, ulong metricId, ulong context,
        long seriesFrom, long seriesTo, long aggregateFrom, long aggregateTo, long step, CancellationToken cancellationToken)
    {
        var reference = new QueryReference();
        var from = Math.Min(seriesFrom, aggregateFrom);
        var to = Math.Max(seriesTo, aggregateTo);
        var length = CompactionWindow.DefaultLength;
        foreach (var shard in shards)
        {
            for (var w = CompactionWindow.Containing(from, length); w.StartSeconds < to; w = new CompactionWindow(w.End, length))
            {
                var key = ObjectKeys.Manifest(shard, w.Start);
                if (await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not { } info)
                {
                    continue;
                }

                var manifest = CompactionManifest.Parse(await ReadAllAsync(store, key, info.Size, cancellationToken).ConfigureAwait(false));
                foreach (var part in manifest.Outputs)
                {
                    var bytes = await ReadAllAsync(store, part.Key, part.Size, cancellationToken).ConfigureAwait(false);
                    reference.Scan(bytes, orgId, metricId, context, seriesFrom, seriesTo, aggregateFrom, aggregateTo, step);
                    reference.Parts++;
                }
            }
        }

        reference._series.Sort((a, b) => a.T.CompareTo(b.T));
        return reference;
    }

    private static async Task<byte[]> ReadAllAsync(IObjectStore store, string key, long size, CancellationToken cancellationToken)
    {
        var bytes = new byte[size];
        var read = await store.ReadAsync(key, 0, bytes, cancellationToken).ConfigureAwait(false);
        return read == size ? bytes : throw new InvalidDataException($"{key}: {read} of {size} bytes.");
    }

    private void Scan(byte[] file, uint orgId, ulong metricId, ulong context, long seriesFrom, long seriesTo, long aggregateFrom, long aggregateTo, long step)
    {
        var scanner = new SFileScanner(file);
        try
        {
            var max = Math.Max(1, scanner.Layout.Footer.Stats.MaxPointCount);
            var timestamps = new long[max];
            var values = new double[max];
            while (scanner.MoveNext())
            {
                // Every series is decoded, the org's or not: nothing is skipped on the strength of the key order.
                var key = scanner.Current.Key;
                var n = scanner.ReadPoints(timestamps, values);
                PointsScanned += n;
                if (key.OrgId != orgId || key.MetricId != metricId)
                {
                    continue;
                }

                for (var i = 0; i < n; i++)
                {
                    var t = timestamps[i];
                    if (key.ContextKey == context && t >= seriesFrom && t < seriesTo)
                    {
                        _series.Add((t, values[i]));
                    }

                    if (t >= aggregateFrom && t < aggregateTo)
                    {
                        var start = t - ((t - aggregateFrom) % step);
                        ref var bucket = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_buckets, (key.ContextKey, start), out var exists);
                        if (!exists)
                        {
                            bucket = new Bucket { Max = double.NegativeInfinity };
                        }

                        bucket.Count++;
                        bucket.Sum += values[i];
                        bucket.Max = Math.Max(bucket.Max, values[i]);
                        AggregatePoints++;
                    }
                }
            }
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>One step of one context.</summary>
    public struct Bucket
    {
        /// <summary>Points in the step.</summary>
        public long Count { get; set; }

        /// <summary>Their sum, in time order.</summary>
        public double Sum { get; set; }

        /// <summary>Their largest value.</summary>
        public double Max { get; set; }

        /// <summary>The mean.</summary>
        public readonly double Avg => Sum / Count;
    }
}
