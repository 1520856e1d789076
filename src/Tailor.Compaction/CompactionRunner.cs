using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;
using Tailor.Compaction.Spill;
using Tailor.Compaction.Writing;
using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>
/// Runs compaction jobs: reads every input segment of a (shard, window) by byte-range splits in
/// parallel, groups points by series, sorts them by time, drops duplicates by the DESIGN's rule,
/// writes S-file parts and, last, the manifest. Memory stays within
/// <see cref="CompactionOptions.MemoryBudgetBytes"/>: past it, sorted runs spill to local disk.
/// </summary>
/// <remarks>
/// The output bytes depend only on the job's input segments: not on thread count, split size or
/// memory budget. A job whose manifest already names the same inputs is skipped unless forced.
/// </remarks>
public sealed class CompactionRunner
{
    private readonly IObjectStore _store;
    private readonly CompactionOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a runner.</summary>
    public CompactionRunner(IObjectStore store, CompactionOptions? options = null, ILogger<CompactionRunner>? logger = null)
    {
        _options = options ?? new CompactionOptions();
        _options.Validate();
        _store = store;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Plans and runs the job of one shard and window.</summary>
    public async Task<CompactionReport> RunAsync(ShardName shard, CompactionWindow window, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var job = await new CompactionPlanner(_store, _options).PlanAsync(shard, window, cancellationToken).ConfigureAwait(false);
        var report = await RunAsync(job, cancellationToken).ConfigureAwait(false);
        var stages = new Dictionary<string, double>(report.StageSeconds) { ["list"] = Stopwatch.GetElapsedTime(started).TotalSeconds - report.StageSeconds.GetValueOrDefault("total") };
        return report with { StageSeconds = stages };
    }

    /// <summary>Runs one planned job.</summary>
    /// <exception cref="CompactionException">The job failed (full disk, unreadable store, …); nothing was published.</exception>
    public async Task<CompactionReport> RunAsync(CompactionJob job, CancellationToken cancellationToken = default)
    {
        using var activity = CompactionMetrics.ActivitySource.StartActivity("compact");
        activity?.SetTag("shard", job.Shard.Value);
        activity?.SetTag("window", job.Window.ToString());
        var manifestKey = ObjectKeys.Manifest(job.Shard, job.Window.Start);
        var previous = await ReadManifestAsync(manifestKey, cancellationToken).ConfigureAwait(false);
        if (!_options.Force && previous is not null && previous.Generation == job.Generation && previous.Codec == _options.Codec.Name)
        {
            CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "skipped"));
            _logger.LogInformation("{Job}: the manifest already names these {Count} inputs; nothing to do", job, job.Inputs.Count);
            return new CompactionReport { Shard = job.Shard.Value, Window = job.Window.ToString(), Generation = job.Generation, Skipped = true, Segments = job.Inputs.Count, Manifest = manifestKey };
        }

        if (job.Inputs.Count == 0)
        {
            return new CompactionReport { Shard = job.Shard.Value, Window = job.Window.ToString(), Generation = job.Generation, Segments = 0, MemoryBudgetBytes = _options.MemoryBudgetBytes };
        }

        var folder = Path.Combine(_options.WorkDirectory, $"{job.Shard.Value}-{job.Window.StartSeconds}-{job.Generation}-{Guid.NewGuid():N}"[..60]);
        Directory.CreateDirectory(folder);
        try
        {
            var run = new JobRun(this, job, folder);
            var report = await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            var manifest = new CompactionManifest
            {
                Shard = job.Shard.Value,
                Window = job.Window.ToString(),
                Generation = job.Generation,
                Codec = _options.Codec.Name,
                Inputs = job.Inputs,
                Outputs = report.Parts,
                Stats = new ManifestStats
                {
                    PointsIn = report.PointsIn,
                    PointsOut = report.PointsOut,
                    Duplicates = report.DuplicatesDropped,
                    OutOfWindow = report.OutOfWindow,
                    DamagedRecords = report.DamagedRecords,
                    Series = report.Series,
                    BytesIn = report.BytesIn,
                    BytesOut = report.BytesOut,
                },
            };
            var manifestStarted = Stopwatch.GetTimestamp();
            await _store.PutAsync(manifestKey, manifest.ToJson(), cancellationToken).ConfigureAwait(false);
            await DeleteStalePartsAsync(job, previous, report.Parts, cancellationToken).ConfigureAwait(false);
            var stages = new Dictionary<string, double>(report.StageSeconds) { ["manifest"] = Stopwatch.GetElapsedTime(manifestStarted).TotalSeconds };
            stages["total"] += stages["manifest"];
            CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "written"));
            _logger.LogInformation("{Job}: {PointsOut} points of {Series} series in {Parts} parts ({BytesOut} bytes), {Duplicates} duplicates dropped, {Damaged} damaged records",
                job, report.PointsOut, report.Series, report.Parts.Count, report.BytesOut, report.DuplicatesDropped, report.DamagedRecords);
            return report with { StageSeconds = stages, Manifest = manifestKey };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            if (e is CompactionException)
            {
                throw;
            }

            throw new CompactionException($"Compaction of {job} failed: {e.Message}", e);
        }
        finally
        {
            TryDeleteFolder(folder);
        }
    }

    private async Task<CompactionManifest?> ReadManifestAsync(string key, CancellationToken cancellationToken)
    {
        var info = await _store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            return null;
        }

        var bytes = new byte[info.Size];
        await _store.ReadAsync(key, 0, bytes, cancellationToken).ConfigureAwait(false);
        try
        {
            return CompactionManifest.Parse(bytes);
        }
        catch (FormatException e)
        {
            _logger.LogWarning("The manifest {Key} is unreadable ({Problem}); the window is recompacted", key, e.Message);
            return null;
        }
    }

    private async Task DeleteStalePartsAsync(CompactionJob job, CompactionManifest? previous, IReadOnlyList<PartInfo> parts, CancellationToken cancellationToken)
    {
        // Parts of other generations are no longer named by the manifest: remove them now that it points elsewhere.
        var keep = parts.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        await foreach (var info in _store.ListAsync(ObjectKeys.SeriesWindowPrefix(job.Shard, job.Window.Start), cancellationToken).ConfigureAwait(false))
        {
            if (ObjectKeys.TryParseSeriesFile(info.Key, out _) && !keep.Contains(info.Key))
            {
                await _store.DeleteAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
        }

        _ = previous;
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The state of one job's execution.</summary>
    private sealed class JobRun(CompactionRunner runner, CompactionJob job, string folder)
    {
        private readonly CompactionOptions _options = runner._options;
        private readonly Dictionary<string, long> _storeCalls = [];
        private readonly List<SpillInfo> _spills = [];
        private long _spillBytes;
        private long _spillTicks;
        private long _sortTicks;
        private long _peakWorkingSet;

        public async Task<CompactionReport> ExecuteAsync(CancellationToken cancellationToken)
        {
            using var listener = ListenToStore();
            var gcBefore = GC.GetTotalPauseDuration();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            MemoryTracker.ResetPeak();
            var total = Stopwatch.GetTimestamp();
            using var sampler = new Timer(_ => SampleWorkingSet(), null, 0, 50);

            // Fetch: local stores are read in place; others are downloaded to the work folder.
            var fetchStarted = Stopwatch.GetTimestamp();
            var files = await FetchAsync(cancellationToken).ConfigureAwait(false);
            var fetch = Stopwatch.GetElapsedTime(fetchStarted);

            // Read: splits in parallel, each thread decoding into its own columns, spilling past its share.
            var readStarted = Stopwatch.GetTimestamp();
            var splits = new List<(int File, long Start, long End)>();
            var layouts = new SegmentLayout?[files.Count];
            var unreadable = 0;
            for (var f = 0; f < files.Count; f++)
            {
                var layout = FileSegmentCursor.ReadLayout(files[f]);
                if (!layout.IsReadable)
                {
                    unreadable++;
                    runner._logger.LogWarning("{Key}: unreadable segment ({Header}; {Footer}); its records are counted as lost", job.Inputs[f].Key, layout.HeaderProblem, layout.FooterProblem);
                    continue;
                }

                layouts[f] = layout;
                var end = layout.DataEnd == long.MaxValue ? layout.FileLength : layout.DataEnd;
                for (long start = 0; start < end; start += _options.SplitBytes)
                {
                    splits.Add((f, start, Math.Min(end, start + _options.SplitBytes)));
                }
            }

            var threads = Math.Max(1, Math.Min(_options.Parallelism, splits.Count));
            var readers = new SeriesReader[threads];
            var splitStats = new SegmentReadStats[splits.Count];
            var next = -1;
            var share = Math.Max(8L << 20, (_options.MemoryBudgetBytes - Reserve) / threads);
            var tasks = new Task[threads];
            for (var t = 0; t < threads; t++)
            {
                var reader = readers[t] = new SeriesReader(job.Window.StartSeconds, job.Window.EndSeconds, _options.MaxPayloadBytes);
                tasks[t] = Task.Factory.StartNew(
                    () =>
                    {
                        int s;
                        while ((s = Interlocked.Increment(ref next)) < splits.Count)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            var (f, start, end) = splits[s];
                            using var cursor = FileSegmentCursor.Open(files[f], layouts[f]!, start, end);
                            reader.Read(cursor, r => SpillIfNeeded(r, share));
                            splitStats[s] = cursor.State.Stats;
                        }
                    },
                    cancellationToken,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default);
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
                var read = Stopwatch.GetElapsedTime(readStarted);

                // Merge and encode: the key space is cut into ranges of about equal points; workers merge
                // and encode ranges in parallel, and the parts are written in key order as ranges finish.
                var encodeStarted = Stopwatch.GetTimestamp();
                var sortStarted = Stopwatch.GetTimestamp();
                Parallel.ForEach(readers, new ParallelOptions { MaxDegreeOfParallelism = threads }, MemoryRunSource.SortRuns);
                _sortTicks += Stopwatch.GetTimestamp() - sortStarted;
                var tables = readers.Select(r => r.Table).ToArray();
                var boundaries = KeyRanges.Build(tables, _options.Parallelism * 4);
                await using var parts = new PartWriter(runner._store, job, _options, folder);
                parts.Start(cancellationToken);
                var merged = await MergeAndEncodeAsync(readers, tables, boundaries, parts, cancellationToken).ConfigureAwait(false);
                var encode = Stopwatch.GetElapsedTime(encodeStarted);
                var uploadStarted = Stopwatch.GetTimestamp();
                var written = await parts.FinishAsync().ConfigureAwait(false);
                var upload = Stopwatch.GetElapsedTime(uploadStarted);

                // Damage: records lost per file (from the footer or trailer count) plus payloads that did not decode.
                long lost = 0;
                long regions = 0;
                long damagedBytes = 0;
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

                    lost += layout.LostRecords(stats);
                    regions += stats.DamagedRegions;
                    damagedBytes += stats.DamagedBytes;
                }

                var counts = default(ReadCounts);
                foreach (var reader in readers)
                {
                    ref var c = ref reader.Counts;
                    counts.Points += c.Points;
                    counts.OutOfWindow += c.OutOfWindow;
                    counts.BadPayloads += c.BadPayloads;
                    counts.Records += c.Records;
                    counts.DecompressTicks += c.DecompressTicks;
                    counts.DecodeTicks += c.DecodeTicks;
                }

                var wall = Stopwatch.GetElapsedTime(total);
                var gc = GC.GetTotalPauseDuration() - gcBefore;
                SampleWorkingSet();
                var report = new CompactionReport
                {
                    Shard = job.Shard.Value,
                    Window = job.Window.ToString(),
                    Generation = job.Generation,
                    Segments = files.Count,
                    Splits = splits.Count,
                    UnreadableSegments = unreadable,
                    PointsIn = counts.Points,
                    PointsOut = merged.Points,
                    DuplicatesDropped = merged.Duplicates,
                    OutOfWindow = counts.OutOfWindow,
                    DamagedRecords = lost + counts.BadPayloads,
                    DamagedRegions = regions,
                    DamagedBytes = damagedBytes,
                    Series = merged.Series,
                    BytesIn = job.InputBytes,
                    BytesOut = parts.BytesWritten,
                    Spills = _spills.Count,
                    SpillBytes = _spillBytes,
                    StageSeconds = new Dictionary<string, double>
                    {
                        ["fetch"] = fetch.TotalSeconds,
                        ["read"] = read.TotalSeconds,
                        ["decompress"] = Stopwatch.GetElapsedTime(0, counts.DecompressTicks).TotalSeconds,
                        ["decode"] = Stopwatch.GetElapsedTime(0, counts.DecodeTicks).TotalSeconds,
                        ["sort"] = Stopwatch.GetElapsedTime(0, _sortTicks).TotalSeconds,
                        ["spill"] = Stopwatch.GetElapsedTime(0, _spillTicks).TotalSeconds,
                        ["encode"] = encode.TotalSeconds,
                        ["upload"] = upload.TotalSeconds,
                        ["total"] = wall.TotalSeconds,
                    },
                    PeakWorkingSetBytes = Interlocked.Read(ref _peakWorkingSet),
                    PeakBufferBytes = MemoryTracker.Peak,
                    MemoryBudgetBytes = _options.MemoryBudgetBytes,
                    GcPauseSeconds = gc.TotalSeconds,
                    GcPauseFraction = gc.TotalSeconds / wall.TotalSeconds,
                    AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore,
                    StoreCalls = _storeCalls,
                    Parts = written,
                };
                Record(report);
                return report;
            }
            finally
            {
                foreach (var reader in readers)
                {
                    reader?.Dispose();
                }

                foreach (var spill in _spills)
                {
                    SpillFile.TryDelete(spill.Path);
                }
            }
        }

        /// <summary>Memory kept back from the readers' shares for the merge and the writers.</summary>
        private long Reserve => Math.Min(_options.MemoryBudgetBytes / 4, 64L << 20);

        private void SpillIfNeeded(SeriesReader reader, long share)
        {
            // The series table stays in memory (it holds every series' key and metadata); the runs get
            // what is left of the share. Buffers grow by half, so spill at two thirds of it, and never
            // for less than 4 MiB of runs, or a table larger than the share would spill every payload.
            var limit = Math.Max(4L << 20, (share - reader.Table.Bytes) * 2 / 3);
            if (reader.Buffer.UsedBytes < limit)
            {
                return;
            }

            var started = Stopwatch.GetTimestamp();
            var path = Path.Combine(folder, $"spill-{Guid.NewGuid():N}.run");
            var spill = SpillFile.Write(reader, path);
            lock (_spills)
            {
                _spills.Add(spill);
            }

            reader.Buffer.Timestamps.Trim(1 << 16);
            reader.Buffer.Values.Trim(1 << 16);
            reader.Buffer.Runs.Trim(1 << 12);
            Interlocked.Add(ref _spillBytes, spill.Bytes);
            Interlocked.Add(ref _spillTicks, Stopwatch.GetTimestamp() - started);
            CompactionMetrics.Spills.Add(1);
        }

        private async Task<(long Series, long Points, long Duplicates)> MergeAndEncodeAsync(SeriesReader[] readers, SeriesTable[] tables,
            CompactKey[] boundaries, PartWriter parts, CancellationToken cancellationToken)
        {
            var ranges = boundaries.Length + 1;
            var workers = Math.Max(1, _options.Parallelism);
            var results = new Task<(EncodedChunk Chunk, long Series, long Points, long Duplicates)>[ranges];
            using var room = new SemaphoreSlim(workers + 1);
            var spills = _spills.ToArray();
            var free = new System.Collections.Concurrent.ConcurrentBag<EncodedChunk>();
            var producer = Task.Run(
                async () =>
                {
                    for (var i = 0; i < ranges; i++)
                    {
                        await room.WaitAsync(cancellationToken).ConfigureAwait(false);
                        var range = i;
                        results[range] = Task.Run(
                            () =>
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
                                        sources.Add(new SpillRunSource(spill, lo, hi));
                                    }

                                    var chunk = free.TryTake(out var reused) ? reused : new EncodedChunk(_options.Codec);
                                    chunk.Clear();
                                    using var merger = new SeriesMerger(sources, tables);
                                    merger.Run(chunk, cancellationToken);
                                    return (chunk, merger.Series, merger.PointsOut, merger.Duplicates);
                                }
                                finally
                                {
                                    foreach (var source in sources)
                                    {
                                        source.Dispose();
                                    }
                                }
                            },
                            cancellationToken);
                    }
                },
                cancellationToken);

            long series = 0;
            long points = 0;
            long duplicates = 0;
            try
            {
                for (var i = 0; i < ranges; i++)
                {
                    while (Volatile.Read(ref results[i]) is null)
                    {
                        await Task.WhenAny(producer, Task.Delay(1, cancellationToken)).ConfigureAwait(false);
                        if (producer.IsFaulted)
                        {
                            await producer.ConfigureAwait(false);
                        }
                    }

                    var (chunk, s, p, d) = await results[i].ConfigureAwait(false);
                    parts.Accept(chunk);
                    free.Add(chunk);
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
                            free.Add((await task.ConfigureAwait(false)).Chunk);
                        }
                        catch (Exception)
                        {
                            // The failure surfaces from the loop above.
                        }
                    }
                }

                foreach (var chunk in free.Distinct())
                {
                    chunk.Dispose();
                }
            }

            return (series, points, duplicates);
        }

        private async Task<List<string>> FetchAsync(CancellationToken cancellationToken)
        {
            var files = new string[job.Inputs.Count];
            if (runner._store is LocalObjectStore local)
            {
                for (var i = 0; i < files.Length; i++)
                {
                    files[i] = LocalPath(local, job.Inputs[i].Key);
                }

                return [.. files];
            }

            await Parallel.ForEachAsync(
                Enumerable.Range(0, files.Length),
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var path = Path.Combine(folder, $"input-{i:D6}.tseg");
                    var input = await runner._store.OpenReadAsync(job.Inputs[i].Key, cancellationToken: ct).ConfigureAwait(false);
                    await using (input.ConfigureAwait(false))
                    {
                        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                        try
                        {
                            await input.CopyToAsync(file, 1 << 20, ct).ConfigureAwait(false);
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

        private static string LocalPath(LocalObjectStore store, string key)
        {
            var path = Path.GetFullPath(Path.Combine(store.RootPath, key.Replace('/', Path.DirectorySeparatorChar)));
            if (!path.StartsWith(store.RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new CompactionException($"The input key {key} would leave the store root.");
            }

            return path;
        }

        private MeterListener ListenToStore()
        {
            var listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == ObjectStoreMetrics.MeterName && instrument.Name == ObjectStoreMetrics.RequestsName)
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? operation = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "operation")
                    {
                        operation = tag.Value?.ToString();
                    }
                }

                if (operation is not null)
                {
                    lock (_storeCalls)
                    {
                        _storeCalls[operation] = _storeCalls.GetValueOrDefault(operation) + value;
                    }
                }
            });
            listener.Start();
            return listener;
        }

        private void SampleWorkingSet()
        {
            var now = Environment.WorkingSet;
            long peak;
            while (now > (peak = Interlocked.Read(ref _peakWorkingSet)) && Interlocked.CompareExchange(ref _peakWorkingSet, now, peak) != peak)
            {
            }
        }

        private static void Record(CompactionReport report)
        {
            CompactionMetrics.PointsIn.Add(report.PointsIn);
            CompactionMetrics.PointsOut.Add(report.PointsOut);
            CompactionMetrics.Duplicates.Add(report.DuplicatesDropped);
            CompactionMetrics.OutOfWindow.Add(report.OutOfWindow);
            CompactionMetrics.DamagedRecords.Add(report.DamagedRecords);
            CompactionMetrics.BytesIn.Add(report.BytesIn);
            CompactionMetrics.BytesOut.Add(report.BytesOut);
            foreach (var (stage, seconds) in report.StageSeconds)
            {
                CompactionMetrics.StageDuration.Record(seconds, new KeyValuePair<string, object?>("stage", stage));
            }
        }
    }
}
