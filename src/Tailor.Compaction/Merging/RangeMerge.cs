using System.Collections.Concurrent;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Merging;

/// <summary>A sink of one key range's merged series that can be reused for another range.</summary>
internal interface IRangeSink : IMergedSeriesSink, IDisposable
{
    void Clear();
}

/// <summary>
/// Merges a job's input by key ranges in parallel and hands each range's result to a consumer in
/// key order: at most parallelism ranges merging, and 2 x parallelism + 1 in memory, merging or
/// merged and waiting their turn (with parallelism + 1, one slow range left a thread idle once the
/// ranges after it were done; with two threads the two more cost about 8 MB of encoded series in
/// the compaction benchmark and shortened its merge by 3 to 4%).
/// </summary>
/// <remarks>
/// 16 ranges per thread, or more when the ranges in memory would otherwise pass the caller's
/// allowance: a range's sink grows with the points of its range, so with a fixed number of ranges
/// the merge's memory grew with the input, not with the budget.
/// </remarks>
internal static class RangeMerge
{
    /// <summary>The most ranges a merge cuts the key space into.</summary>
    public const int MaxRanges = 1 << 16;

    /// <summary>How many ranges to cut <paramref name="points"/> into: 16 per thread, more when (2 x parallelism + 1) ranges at <paramref name="sinkBytesPerPoint"/> would pass <paramref name="allowance"/>.</summary>
    public static int RangeCount(long points, int parallelism, double sinkBytesPerPoint, long allowance)
    {
        var perThread = parallelism * 16;
        var needed = Math.Ceiling(points * sinkBytesPerPoint * ((2 * parallelism) + 1) / Math.Max(1, allowance));
        return (int)Math.Clamp(needed, perThread, Math.Max(perThread, MaxRanges));
    }

    /// <param name="input">The job's input, read.</param>
    /// <param name="parallelism">Ranges merged at once.</param>
    /// <param name="sinkBytesPerPoint">About how many bytes a sink holds per point it accepted.</param>
    /// <param name="allowance">The memory the sinks of the ranges in memory may hold together.</param>
    /// <param name="create">Makes a sink (sinks are reused from range to range).</param>
    /// <param name="consume">Takes each range's sink in key order.</param>
    /// <param name="cancellationToken">Stops the merge.</param>
    public static async Task<(long Series, long Points, long Duplicates)> RunAsync<TSink>(JobInput input, int parallelism, double sinkBytesPerPoint,
        long allowance, Func<TSink> create, Action<TSink> consume, CancellationToken cancellationToken)
        where TSink : class, IRangeSink
    {
        var readers = input.Readers;
        Parallel.ForEach(readers, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, MemoryRunSource.SortRuns);
        foreach (var reader in readers)
        {
            // Reading is over and the runs are in key order: the sort's buffers go back to the pool for the merge.
            reader.TrimBuffers();
        }

        var tables = input.Tables;
        var boundaries = KeyRanges.Build(readers, RangeCount(KeyRanges.Points(readers), parallelism, sinkBytesPerPoint, allowance));
        var ranges = boundaries.Length + 1;
        var results = new Task<(TSink Sink, long Series, long Points, long Duplicates)>?[ranges];
        using var room = new SemaphoreSlim((2 * parallelism) + 1);
        // At most parallelism ranges merge at once, whatever threads the pool has: each holds a reader
        // of every spill file.
        using var running = new SemaphoreSlim(parallelism);
        var spills = input.Spills.ToArray();
        var free = new ConcurrentBag<TSink>();
        var started = new SemaphoreSlim(0);
        var producer = Task.Run(
            async () =>
            {
                for (var i = 0; i < ranges; i++)
                {
                    await room.WaitAsync(cancellationToken).ConfigureAwait(false);
                    await running.WaitAsync(cancellationToken).ConfigureAwait(false);
                    var range = i;
                    results[range] = Task.Run(
                        () =>
                        {
                            try
                            {
                                return Merge(range);
                            }
                            finally
                            {
                                running.Release();
                            }
                        },
                        cancellationToken);
                    started.Release();
                }
            },
            cancellationToken);

        (TSink, long, long, long) Merge(int range)
        {
            CompactKey? lo = range == 0 ? null : boundaries[range - 1];
            CompactKey? hi = range == ranges - 1 ? null : boundaries[range];
            var sources = new List<RunSource>(readers.Length + spills.Length);
            try
            {
                foreach (var reader in readers)
                {
                    sources.Add(new MemoryRunSource(reader, lo, hi));
                }

                foreach (var spill in spills)
                {
                    sources.Add(Spill.SpillRunSource.Open(spill, lo, hi));
                }

                var sink = free.TryTake(out var reused) ? reused : create();
                sink.Clear();
                using var merger = new SeriesMerger(sources, tables);
                merger.Run(sink, cancellationToken);
                return (sink, merger.Series, merger.PointsOut, merger.Duplicates);
            }
            finally
            {
                foreach (var source in sources)
                {
                    source.Dispose();
                }
            }
        }

        long series = 0;
        long points = 0;
        long duplicates = 0;
        var owned = new List<TSink>();
        try
        {
            for (var i = 0; i < ranges; i++)
            {
                await started.WaitAsync(cancellationToken).ConfigureAwait(false);
                var (sink, s, p, d) = await results[i]!.ConfigureAwait(false);
                if (!owned.Contains(sink))
                {
                    owned.Add(sink);
                }

                consume(sink);
                free.Add(sink);
                room.Release();
                series += s;
                points += p;
                duplicates += d;
            }

            await producer.ConfigureAwait(false);
        }
        finally
        {
            foreach (var task in results)
            {
                if (task is not null)
                {
                    try
                    {
                        var sink = (await task.ConfigureAwait(false)).Sink;
                        if (!owned.Contains(sink))
                        {
                            owned.Add(sink);
                        }
                    }
                    catch (Exception)
                    {
                        // The failure surfaces from the loop above.
                    }
                }
            }

            foreach (var sink in owned)
            {
                sink.Dispose();
            }
        }

        return (series, points, duplicates);
    }
}
