using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Tailor.Format.Series;
using Tailor.Query.Reading;
using Tailor.Query.Results;
using Tailor.Storage;

namespace Tailor.Query;

/// <summary>
/// Reads series back from a Tailor store: one org and metric (all contexts or some), over any half-open
/// time range, across windows, shards and recompacted generations, as raw points or step aggregations.
/// </summary>
/// <remarks>
/// <para>For each window the range touches, the engine reads the manifest of each shard that can hold
/// the org (its shared shard <c>org-mod-K</c> and its dedicated shard <c>org-&lt;id&gt;</c>), the parts whose
/// key range holds wanted series, the index pages that can hold them, and their blocks, coalescing
/// adjacent blocks into few range reads. Manifests, S-file tails and decoded index pages stay in a cache
/// bounded by <see cref="QueryEngineOptions.CacheBytes"/>, so a warm query costs one range read per
/// (part, window). Windows are read concurrently (at most <see cref="QueryEngineOptions.MaxConcurrentReads"/>
/// store calls at once per query) and folded in time order.</para>
/// <para>Thread-safe: any number of queries may run at once and share the cache. The engine does not own
/// the store; dispose the store after the engine's last query.</para>
/// </remarks>
public sealed class QueryEngine
{
    private readonly IObjectStore _store;
    private readonly QueryEngineOptions _options;
    private readonly QueryCache _cache;
    private readonly WindowReader _reader;

    /// <summary>Creates an engine over a store.</summary>
    /// <param name="store">The store holding <c>series/</c>.</param>
    /// <param name="options">The options; null for the defaults. Read once: later changes have no effect.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public QueryEngine(IObjectStore store, QueryEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var o = options ?? new QueryEngineOptions();
        o.Validate();
        _options = new QueryEngineOptions
        {
            ShardMap = o.ShardMap,
            FormerShardMaps = [.. o.FormerShardMaps],
            WindowLength = o.WindowLength,
            CacheBytes = o.CacheBytes,
            ManifestTtl = o.ManifestTtl,
            MaxConcurrentReads = o.MaxConcurrentReads,
            Timeout = o.Timeout,
            MaxPoints = o.MaxPoints,
            MaxMemoryBytes = o.MaxMemoryBytes,
            TailReadBytes = o.TailReadBytes,
            CoalesceGapBytes = o.CoalesceGapBytes,
            MaxReadBytes = o.MaxReadBytes,
            MaxManifestBytes = o.MaxManifestBytes,
            Codecs = o.Codecs,
            TimeProvider = o.TimeProvider,
        };
        _store = store;
        _cache = new QueryCache(_options.CacheBytes);
        _reader = new WindowReader(store, _options, _cache);
    }

    /// <summary>The bytes the cache holds now.</summary>
    public long CacheBytesUsed => _cache.Bytes;

    /// <summary>The number of manifests, tails and index pages the cache holds now.</summary>
    public int CacheItems => _cache.Count;

    /// <summary>Drops everything the cache holds.</summary>
    public void ClearCache() => _cache.Clear();

    /// <summary>The windows of <see cref="QueryEngineOptions.WindowLength"/> that [<paramref name="from"/>, <paramref name="to"/>) touches, in time order.</summary>
    /// <param name="from">The range's first second (Unix seconds).</param>
    /// <param name="to">The range's end (exclusive; Unix seconds).</param>
    /// <returns>The windows; empty when <paramref name="to"/> ≤ <paramref name="from"/>.</returns>
    public IReadOnlyList<QueryWindow> WindowsOf(long from, long to)
    {
        var size = (long)_options.WindowLength.TotalSeconds;
        var windows = new List<QueryWindow>();
        if (to <= from)
        {
            return windows;
        }

        for (var start = from - (((from % size) + size) % size); start < to; start += size)
        {
            windows.Add(new QueryWindow(DateTimeOffset.FromUnixTimeSeconds(start), _options.WindowLength));
        }

        return windows;
    }

    /// <summary>
    /// The shards a query of <paramref name="orgId"/> reads in every window: its shared shard under each former
    /// map, then under the current one, then its dedicated shard (the map routes the org to one of the last two today).
    /// </summary>
    /// <param name="orgId">The org.</param>
    /// <returns>The shard names, each once.</returns>
    public IReadOnlyList<ShardName> ShardsOf(uint orgId) =>
        [.. _options.FormerShardMaps.Append(_options.ShardMap).Select(map => ShardName.Shared(orgId % (uint)map.SharedShards)).Append(ShardName.Dedicated(orgId)).Distinct()];

    /// <summary>Runs a query: reads every window of the range and returns its series, absent windows and costs.</summary>
    /// <param name="request">The query.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The result; its series are enumerated with <see cref="QueryResult.ReadSeriesAsync"/>.</returns>
    /// <exception cref="QueryException">The request is invalid, a limit or the timeout was passed, or a manifest or part is damaged or missing (unless <see cref="QueryRequest.AllowPartial"/>).</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    public async Task<QueryResult> QueryAsync(QueryRequest request, CancellationToken cancellationToken = default)
    {
        var (range, aggregations, step) = Validate(request);
        var windows = WindowsOf(request.From, request.To);
        var context = new QueryContext(_options.MaxMemoryBytes, _options.MaxPoints);
        using var activity = QueryMetrics.ActivitySource.StartActivity("tailor.query");
        activity?.SetTag("tailor.org", request.OrgId);
        activity?.SetTag("tailor.metric", request.MetricId);
        activity?.SetTag("tailor.windows", windows.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var folder = await RunAsync(context, windows, range, listOnly: false, request.AllowPartial, request.Timeout,
                key => new SeriesAccumulator(context, key, aggregations, request.From, request.To, step), cancellationToken).ConfigureAwait(false);
            var series = new List<QuerySeries?>();
            foreach (var accumulator in folder.Series.OrderBy(s => s.Key))
            {
                series.Add(accumulator.Finish());
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var stats = context.Stats(windows.Count, series.Count, elapsed);
            var outcome = folder.Unread.Count > 0 ? "partial" : "ok";
            QueryMetrics.Queries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            QueryMetrics.Points.Add(stats.PointsReturned);
            QueryMetrics.Duration.Record(elapsed.TotalSeconds);
            activity?.SetTag("tailor.series", series.Count);
            activity?.SetTag("tailor.reads", stats.Reads);
            return new QueryResult(request, windows, folder.Absent, folder.Read, folder.Unread, series, stats);
        }
        catch (Exception e)
        {
            QueryMetrics.Queries.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            QueryMetrics.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>Lists the series of one org and metric in a range from the index alone: keys, metadata and counts, no block read.</summary>
    /// <param name="orgId">The org.</param>
    /// <param name="metricId">The metric.</param>
    /// <param name="from">The range's first second (Unix seconds).</param>
    /// <param name="to">The range's end (exclusive; Unix seconds).</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The series in key order, with the windows read and the absent ones.</returns>
    /// <exception cref="QueryException">The range is invalid, the timeout was passed, or a manifest or part is damaged or missing.</exception>
    public async Task<SeriesListing> ListSeriesAsync(uint orgId, ulong metricId, long from, long to, CancellationToken cancellationToken = default)
    {
        if (to <= from)
        {
            throw new QueryException(QueryErrorKind.InvalidRequest, $"To ({to}) must be after From ({from}): the range is half-open [From, To).");
        }

        var windows = WindowsOf(from, to);
        var context = new QueryContext(_options.MaxMemoryBytes, _options.MaxPoints);
        var started = Stopwatch.GetTimestamp();
        var infos = new Dictionary<SeriesKey, (byte[] Metadata, long Points, long Min, long Max)>();
        var folder = await RunAsync(context, windows, new KeyRange(orgId, metricId, null, from, to), listOnly: true, allowPartial: false, null,
            null, cancellationToken, chunk =>
            {
                lock (infos)
                {
                    // Windows finish in any order: the metadata kept is that of the chunk with the latest point.
                    infos[chunk.Key] = infos.TryGetValue(chunk.Key, out var old)
                        ? (chunk.MaxTimestamp > old.Max ? chunk.Metadata : old.Metadata, old.Points + chunk.Points, Math.Min(old.Min, chunk.MinTimestamp), Math.Max(old.Max, chunk.MaxTimestamp))
                        : (chunk.Metadata, chunk.Points, chunk.MinTimestamp, chunk.MaxTimestamp);
                }
            }).ConfigureAwait(false);
        var series = infos.OrderBy(p => p.Key).Select(p => new SeriesInfo(p.Key, p.Value.Metadata, p.Value.Points, p.Value.Min, p.Value.Max)).ToList();
        return new SeriesListing(series, folder.Absent, folder.Read, context.Stats(windows.Count, series.Count, Stopwatch.GetElapsedTime(started)));
    }

    private async Task<WindowFolder> RunAsync(QueryContext context, IReadOnlyList<QueryWindow> windows, KeyRange range, bool listOnly, bool allowPartial, TimeSpan? timeout,
        Func<SeriesKey, SeriesAccumulator>? create, CancellationToken cancellationToken, Action<SeriesChunk>? listed = null)
    {
        var limit = timeout ?? _options.Timeout;
        using var timer = new CancellationTokenSource(limit, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var parallelism = _options.MaxConcurrentReads;
        using var lookahead = new SemaphoreSlim(parallelism * 2);
        var folder = new WindowFolder(context, windows, create ?? (key => new SeriesAccumulator(context, key, [], range.From, range.To, 0)), lookahead);
        var shards = ShardsOf(range.Low.OrgId);
        try
        {
            await Parallel.ForEachAsync(Indexes(windows.Count, lookahead, linked.Token), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = linked.Token },
                async (index, token) =>
                {
                    var results = new ShardWindowResult[shards.Count];
                    for (var s = 0; s < shards.Count; s++)
                    {
                        results[s] = await _reader.ReadAsync(context, shards[s], windows[index], range, listOnly, allowPartial, token).ConfigureAwait(false);
                        if (listed is not null)
                        {
                            foreach (var chunk in results[s].Chunks)
                            {
                                listed(chunk);
                            }

                            foreach (var chunk in results[s].Chunks)
                            {
                                context.Release(chunk.SizeInBytes);
                            }

                            results[s].Chunks.Clear();
                        }
                    }

                    folder.Complete(index, results);
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QueryException(QueryErrorKind.Timeout, string.Create(CultureInfo.InvariantCulture,
                $"The query ran longer than its timeout of {limit.TotalSeconds:0.###} s ({windows.Count} windows): narrow the range, or raise the timeout."), null, e);
        }

        return folder;
    }

    private static async IAsyncEnumerable<int> Indexes(int count, SemaphoreSlim lookahead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await lookahead.WaitAsync(cancellationToken).ConfigureAwait(false);
            yield return i;
        }
    }

    private static (KeyRange Range, QueryAggregation[] Aggregations, long Step) Validate(QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.To <= request.From)
        {
            throw Invalid($"To ({request.To}) must be after From ({request.From}): the range is half-open [From, To).");
        }

        long step = 0;
        var aggregations = (request.Aggregations ?? []).ToArray();
        if (request.Step is { } s)
        {
            if (s <= TimeSpan.Zero || s.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                throw Invalid($"Step ({s}) must be a positive whole number of seconds.");
            }

            step = (long)s.TotalSeconds;
            if (aggregations.Length == 0)
            {
                aggregations = [QueryAggregation.Avg];
            }
        }
        else if (aggregations.Length > 0)
        {
            throw Invalid("Aggregations need a Step: name the bucket length (e.g. 1h) or ask for raw points without aggregations.");
        }

        if (aggregations.Distinct().Count() != aggregations.Length || aggregations.Any(a => !Enum.IsDefined(a)))
        {
            throw Invalid($"Aggregations ({string.Join(", ", aggregations)}) must be distinct members of QueryAggregation.");
        }

        if (request.Timeout is { } t && t <= TimeSpan.Zero)
        {
            throw Invalid($"Timeout ({t}) must be positive.");
        }

        ulong[]? contexts = null;
        if (request.Contexts is { Count: > 0 } named)
        {
            contexts = [.. named.Distinct().Order()];
        }

        return (new KeyRange(request.OrgId, request.MetricId, contexts, request.From, request.To), aggregations, step);
    }

    private static QueryException Invalid(string message) => new(QueryErrorKind.InvalidRequest, message);
}
