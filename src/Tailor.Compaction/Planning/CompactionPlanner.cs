using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>
/// Finds the input of (shard, window) jobs: lists the segment hours that can hold the window's points
/// (from the window start minus <see cref="CompactionOptions.EarlyAllowance"/> to its end plus
/// <see cref="CompactionOptions.LateAllowance"/>), reads only each candidate's trailer and footer,
/// and drops segments whose time range misses the window. A segment without an intact footer is kept.
/// </summary>
/// <remarks>
/// Every <c>.tseg</c> object under a shard-hour is a candidate, also one whose <c>&lt;p&gt;</c> folder is
/// not the one its writer id and sequence give (a store copied or restored by a tool that did not keep
/// the rule): it is read like any other and counted in <see cref="CompactionJob.MisplacedInputs"/>.
/// </remarks>
public sealed class CompactionPlanner
{
    private readonly IObjectStore _store;
    private readonly CompactionOptions _options;

    /// <summary>Creates a planner over a store.</summary>
    public CompactionPlanner(IObjectStore store, CompactionOptions? options = null)
    {
        _store = store;
        _options = options ?? new CompactionOptions();
    }

    /// <summary>Segments read (tail only) while planning, and those skipped by their footer.</summary>
    public (long Candidates, long SkippedByFooter) Counts => (Interlocked.Read(ref _candidates), Interlocked.Read(ref _skipped));

    private long _candidates;
    private long _skipped;

    /// <summary>Plans the job of one shard and window.</summary>
    public async Task<CompactionJob> PlanAsync(ShardName shard, CompactionWindow window, CancellationToken cancellationToken = default)
    {
        var candidates = new List<ObjectInfo>();
        foreach (var hour in Hours(window))
        {
            await foreach (var info in _store.ListAsync(ObjectKeys.SegmentHourPrefix(shard, hour), cancellationToken).ConfigureAwait(false))
            {
                if (TryParseInput(info.Key, out var found) && found.Shard == shard && found.Hour == hour)
                {
                    candidates.Add(info);
                }
            }
        }

        return new CompactionJob(shard, window, await FilterAsync(candidates, window, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Plans every shard that has candidate segments for the window, by listing the segment area once.</summary>
    public async Task<IReadOnlyList<CompactionJob>> PlanAllAsync(CompactionWindow window, CancellationToken cancellationToken = default)
    {
        var hours = Hours(window).ToHashSet();
        var byShard = new SortedDictionary<string, (ShardName Shard, List<ObjectInfo> Segments)>(StringComparer.Ordinal);
        await foreach (var info in _store.ListAsync(ObjectKeys.SegmentsRoot, cancellationToken).ConfigureAwait(false))
        {
            if (!TryParseInput(info.Key, out var segment) || !hours.Contains(segment.Hour))
            {
                continue;
            }

            if (!byShard.TryGetValue(segment.Shard.Value, out var entry))
            {
                byShard[segment.Shard.Value] = entry = (segment.Shard, []);
            }

            entry.Segments.Add(info);
        }

        var jobs = new List<CompactionJob>();
        foreach (var (_, (shard, segments)) in byShard)
        {
            var inputs = await FilterAsync(segments, window, cancellationToken).ConfigureAwait(false);
            if (inputs.Count > 0)
            {
                jobs.Add(new CompactionJob(shard, window, inputs));
            }
        }

        return jobs;
    }

    /// <summary>The segment hours that can hold the window's points.</summary>
    public IEnumerable<DateTimeOffset> Hours(CompactionWindow window)
    {
        var first = Floor(window.Start - _options.EarlyAllowance);
        var last = window.End + _options.LateAllowance;
        for (var hour = first; hour < last; hour = hour.AddHours(1))
        {
            yield return hour;
        }
    }

    /// <summary>
    /// The shard and hour of a segment object: a key <see cref="ObjectKeys.TryParseSegment"/> accepts, or
    /// any other <c>.tseg</c> key under <c>segments/&lt;shard&gt;/&lt;yyyy-MM-ddTHH&gt;/</c> (a misplaced segment).
    /// </summary>
    internal static bool TryParseInput(string key, out (ShardName Shard, DateTimeOffset Hour) segment)
    {
        segment = default;
        if (ObjectKeys.TryParseSegment(key, out var exact))
        {
            segment = (exact.Shard, exact.Hour);
            return true;
        }

        if (!key.StartsWith(ObjectKeys.SegmentsRoot, StringComparison.Ordinal) || !key.EndsWith(".tseg", StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key.Split('/');
        if (parts.Length < 4 || !ShardName.TryParse(parts[1], out var shard) ||
            !DateTime.TryParseExact(parts[2], "yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var hour))
        {
            return false;
        }

        segment = (shard, new DateTimeOffset(hour, TimeSpan.Zero));
        return true;
    }

    private static DateTimeOffset Floor(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);

    private async Task<List<SegmentInput>> FilterAsync(List<ObjectInfo> candidates, CompactionWindow window, CancellationToken cancellationToken)
    {
        var keep = new SegmentInput?[candidates.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, candidates.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var info = candidates[i];
                Interlocked.Increment(ref _candidates);
                var layout = await ReadLayoutAsync(info, ct).ConfigureAwait(false);
                if (layout.Footer is { } footer && Misses(footer.Stats, window))
                {
                    Interlocked.Increment(ref _skipped);
                    return;
                }

                keep[i] = new SegmentInput(info.Key, info.Size, info.ETag);
            }).ConfigureAwait(false);
        return [.. keep.Where(k => k is not null).Select(k => k!)];
    }

    private static bool Misses(SegmentStats stats, CompactionWindow window) =>
        stats.RecordCount == 0
        || stats.MinTimestamp > stats.MaxTimestamp
        || stats.MaxTimestamp < window.StartSeconds
        || stats.MinTimestamp >= window.EndSeconds;

    /// <summary>Reads a segment's trailer and footer with one ranged read (two when the footer is large).</summary>
    internal async Task<SegmentLayout> ReadLayoutAsync(ObjectInfo info, CancellationToken cancellationToken)
    {
        var pool = Memory.CompactionBuffers.Pool;
        var tailLength = (int)Math.Min(info.Size, SegmentLayout.DefaultTailBytes);
        var tail = pool.Rent(tailLength);
        try
        {
            var read = await _store.ReadAsync(info.Key, info.Size - tailLength, tail.AsMemory(0, tailLength), cancellationToken).ConfigureAwait(false);
            var layout = SegmentLayout.Parse([], tail.AsSpan(0, read), info.Size, out var needed);
            if (needed > read)
            {
                pool.Return(tail);
                tail = pool.Rent(needed);
                read = await _store.ReadAsync(info.Key, info.Size - needed, tail.AsMemory(0, needed), cancellationToken).ConfigureAwait(false);
                layout = SegmentLayout.Parse([], tail.AsSpan(0, read), info.Size, out _);
            }

            return layout;
        }
        finally
        {
            pool.Return(tail);
        }
    }
}
