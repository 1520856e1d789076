using System.Diagnostics;
using Tailor.Compaction.Spill;
using Tailor.Format.Segments;
using Microsoft.Extensions.Logging;
using Tailor.Storage;

namespace Tailor.Compaction.Reading;

/// <summary>
/// The decoded input of one job: every input segment fetched (or read in place), cut into byte-range
/// splits, decoded in parallel into per-thread columns, spilled to sorted files past the budget.
/// What is left in memory and the spill files are then merged by key ranges (<see cref="Merging.RangeMerge"/>).
/// </summary>
internal sealed class JobInput : IDisposable
{
    private readonly List<SpillInfo> _spills = [];
    private long _spillBytes;
    private long _spillTicks;

    private JobInput(SeriesReader[] readers) => Readers = readers;

    public SeriesReader[] Readers { get; }

    /// <summary>The part of the budget kept from the reading threads for the merge: a quarter, at most 64 MiB.</summary>
    public static long MergeReserve(CompactionOptions options) => Math.Min(options.MemoryBudgetBytes / 4, 64L << 20);

    public IReadOnlyList<SpillInfo> Spills => _spills;

    public long SpillBytes => Interlocked.Read(ref _spillBytes);

    public TimeSpan SpillTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _spillTicks));

    public TimeSpan FetchTime { get; private set; }

    public TimeSpan ReadTime { get; private set; }

    public int Segments { get; private set; }

    public int Splits { get; private set; }

    public int UnreadableSegments { get; private set; }

    /// <summary>Readable segments without an intact trailer: records past the cut are lost and cannot be counted.</summary>
    public int IncompleteSegments => IncompleteKeys.Count;

    /// <summary>The keys of the incomplete segments.</summary>
    public IReadOnlyList<string> IncompleteKeys { get; private init; } = [];

    public long LostRecords { get; private set; }

    public long DamagedRegions { get; private set; }

    public long DamagedBytes { get; private set; }

    /// <summary>The counts of every reading thread together.</summary>
    public ReadCounts Counts
    {
        get
        {
            var total = default(ReadCounts);
            foreach (var reader in Readers)
            {
                ref var c = ref reader.Counts;
                total.Records += c.Records;
                total.Points += c.Points;
                total.OutOfWindow += c.OutOfWindow;
                total.BadPayloads += c.BadPayloads;
                total.MisroutedPayloads += c.MisroutedPayloads;
                total.MisroutedPoints += c.MisroutedPoints;
                total.FrameBytes += c.FrameBytes;
                total.DecompressTicks += c.DecompressTicks;
                total.DecodeTicks += c.DecodeTicks;
                total.SortTicks += c.SortTicks;
            }

            return total;
        }
    }

    public SeriesTable[] Tables => [.. Readers.Select(r => r.Table)];

    /// <summary>Fetches and decodes the job's input.</summary>
    public static async Task<JobInput> LoadAsync(IObjectStore store, CompactionJob job, CompactionOptions options, string folder,
        ILogger logger, CancellationToken cancellationToken)
    {
        var fetchStarted = Stopwatch.GetTimestamp();
        var files = await FetchAsync(store, job, folder, cancellationToken).ConfigureAwait(false);
        var fetch = Stopwatch.GetElapsedTime(fetchStarted);

        var readStarted = Stopwatch.GetTimestamp();
        var layouts = new SegmentLayout?[files.Count];
        var unreadable = 0;
        var incomplete = new List<string>();
        for (var f = 0; f < files.Count; f++)
        {
            var layout = FileSegmentCursor.ReadLayout(files[f]);
            if (!layout.IsReadable)
            {
                unreadable++;
                logger.LogWarning("{Key}: unreadable segment ({Header}; {Footer}); its records are lost", job.Inputs[f].Key, layout.HeaderProblem, layout.FooterProblem);
                continue;
            }

            layouts[f] = layout;
            if (layout.RecordCount is null)
            {
                incomplete.Add(job.Inputs[f].Key);
                logger.LogWarning("{Key}: incomplete segment ({Footer}); records after the last one found may be lost", job.Inputs[f].Key, layout.FooterProblem);
            }
        }

        var splits = CutSplits([.. layouts.Select(l => l is null ? -1 : DataEnd(l))], options.Parallelism, options.SplitBytes);

        var threads = Math.Max(1, Math.Min(options.Parallelism, splits.Count));
        var readers = new SeriesReader[threads];
        IReadOnlySet<uint>? dedicated = options.DedicatedOrgs.Count > 0 ? new HashSet<uint>(options.DedicatedOrgs) : null;
        for (var t = 0; t < threads; t++)
        {
            readers[t] = new SeriesReader(job.Window.StartSeconds, job.Window.EndSeconds, options.MaxPayloadBytes, new RouteCheck(job.Shard, options.SharedShards, dedicated));
        }

        var input = new JobInput(readers) { Segments = files.Count, Splits = splits.Count, UnreadableSegments = unreadable, IncompleteKeys = incomplete };
        try
        {
            var splitStats = new SegmentReadStats[splits.Count];
            var next = -1;
            var share = Math.Max(8L << 20, (options.MemoryBudgetBytes - MergeReserve(options)) / threads);
            var reservedPoints = ReservedPoints(layouts, threads, share);
            foreach (var reader in readers)
            {
                reader.ReservePoints(reservedPoints);
            }

            var tasks = new Task[threads];
            for (var t = 0; t < threads; t++)
            {
                var reader = readers[t];
                tasks[t] = Task.Factory.StartNew(
                    () =>
                    {
                        int s;
                        while ((s = Interlocked.Increment(ref next)) < splits.Count)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            var (f, start, end) = splits[s];
                            using var cursor = FileSegmentCursor.Open(files[f], layouts[f]!, start, end, pool: Memory.CompactionBuffers.Pool);
                            reader.Read(cursor, r => input.SpillIfNeeded(r, share, folder));
                            splitStats[s] = cursor.State.Stats;
                        }
                    },
                    cancellationToken,
                    // Threads of their own: a reader runs for the whole reading phase, and on the
                    // thread pool it would hold a small machine's pool threads from everything else
                    // in the process (timers, the host's own work) until the pool grew.
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default);
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);

            // Damage: records lost per file (the footer's or trailer's count against what was read).
            for (var f = 0; f < files.Count; f++)
            {
                if (layouts[f] is not { } layout)
                {
                    continue;
                }

                var stats = default(SegmentReadStats);
                stats.MaxOrdinal = -1;
                for (var s = 0; s < splits.Count; s++)
                {
                    if (splits[s].File == f)
                    {
                        stats.Add(splitStats[s]);
                    }
                }

                input.LostRecords += layout.LostRecords(stats);
                input.DamagedRegions += stats.DamagedRegions;
                input.DamagedBytes += stats.DamagedBytes;
            }

            input.FetchTime = fetch;
            input.ReadTime = Stopwatch.GetElapsedTime(readStarted);
            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var reader in Readers)
        {
            reader.Dispose();
        }

        foreach (var spill in _spills)
        {
            spill.Dispose();
            SpillFile.TryDelete(spill.Path);
        }
    }

    private static long DataEnd(SegmentLayout layout) => layout.DataEnd == long.MaxValue ? layout.FileLength : layout.DataEnd;

    /// <summary>
    /// Cuts the readable files (the end of each one's records; -1 when unreadable) into splits of at
    /// most <paramref name="splitBytes"/>, smaller when the input is small (about eight per thread, at
    /// least <see cref="MinSplitBytes"/>), largest first: the threads take them in that order, so the
    /// reading phase ends on small splits.
    /// </summary>
    /// <remarks>
    /// With a 17 MB segment as one split, the second of two threads went on alone for up to a whole
    /// segment (60 to 150 ms of a 1 s reading phase in the compaction benchmark).
    /// </remarks>
    internal static List<(int File, long Start, long End)> CutSplits(IReadOnlyList<long> dataEnds, int parallelism, long splitBytes)
    {
        var totalBytes = dataEnds.Where(end => end > 0).Sum();
        var perThread = totalBytes / (8L * Math.Max(1, parallelism));
        var size = Math.Min(splitBytes, Math.Max(MinSplitBytes, perThread));
        var splits = new List<(int File, long Start, long End)>();
        for (var f = 0; f < dataEnds.Count; f++)
        {
            for (long start = 0; start < dataEnds[f]; start += size)
            {
                splits.Add((f, start, Math.Min(dataEnds[f], start + size)));
            }
        }

        splits.Sort((a, b) => (b.End - b.Start).CompareTo(a.End - a.Start) is var c && c != 0 ? c : a.File != b.File ? a.File.CompareTo(b.File) : a.Start.CompareTo(b.Start));
        return splits;
    }

    /// <summary>The smallest split cut for a small input.</summary>
    internal const long MinSplitBytes = 4L << 20;

    /// <summary>
    /// The points each reading thread's columns are sized for before reading: its part of the points the
    /// segments' footers count (some may fall outside the window), at most what the spill rule lets it
    /// hold. Sized once, the columns do not pass through every smaller block on the way: with a 1 GiB
    /// budget, the benchmark's first job asked the system for 1.6 GB of blocks for 1 GB in use.
    /// </summary>
    internal static long ReservedPoints(IReadOnlyList<SegmentLayout?> layouts, int threads, long share)
    {
        long points = 0;
        foreach (var layout in layouts)
        {
            points += layout?.Footer?.Stats.PointCount ?? 0;
        }

        // A timestamp and a value a point; the spill rule stops at two thirds of the share.
        return Math.Min((points + threads - 1) / threads, share * 2 / 3 / 16);
    }

    private void SpillIfNeeded(SeriesReader reader, long share, string folder)
    {
        // The series table stays in memory (it holds every series' key and metadata), and so do the
        // series' ranks in key order; the runs get what is left of the share. Spill at two thirds of
        // it (buffers grow by half, and only what they have written is resident), and never for less
        // than 4 MiB of runs, or a table larger than the share would spill every payload.
        var limit = Math.Max(4L << 20, (share - reader.Table.Bytes - reader.Order.SeriesBytes) * 2 / 3);
        if (reader.UsedBytes < limit)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var sortedBefore = reader.Counts.SortTicks;
        var spill = SpillFile.Write(reader, Path.Combine(folder, $"spill-{Guid.NewGuid():N}.run"));
        lock (_spills)
        {
            _spills.Add(spill);
        }

        Interlocked.Add(ref _spillBytes, spill.Bytes);
        // The spill stage is the writing; ordering the runs first counts in the sort stage.
        Interlocked.Add(ref _spillTicks, Stopwatch.GetTimestamp() - started - (reader.Counts.SortTicks - sortedBefore));
        CompactionMetrics.Spills.Add(1);
    }

    private static async Task<List<string>> FetchAsync(IObjectStore store, CompactionJob job, string folder, CancellationToken cancellationToken)
    {
        var files = new string[job.Inputs.Count];
        if (store is LocalObjectStore local)
        {
            // A local store's objects are files: read them in place.
            for (var i = 0; i < files.Length; i++)
            {
                var path = Path.GetFullPath(Path.Combine(local.RootPath, job.Inputs[i].Key.Replace('/', Path.DirectorySeparatorChar)));
                if (!path.StartsWith(local.RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new CompactionException($"The input key {job.Inputs[i].Key} would leave the store root.");
                }

                files[i] = path;
            }

            return [.. files];
        }

        await Parallel.ForEachAsync(
            Enumerable.Range(0, files.Length),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var path = Path.Combine(folder, $"input-{i:D6}.tseg");
                var source = await store.OpenReadAsync(job.Inputs[i].Key, cancellationToken: ct).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                    try
                    {
                        await source.CopyToAsync(file, 1 << 20, ct).ConfigureAwait(false);
                    }
                    catch (IOException e) when (SpillFile.IsDiskFull(e))
                    {
                        throw new CompactionException($"The local disk is full while downloading {job.Inputs[i].Key} to {folder}: free space there or set another work directory. Nothing was published.", e);
                    }
                }

                files[i] = path;
            }).ConfigureAwait(false);
        return [.. files];
    }
}
