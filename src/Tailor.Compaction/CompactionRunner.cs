using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;
using Tailor.Compaction.Writing;
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
        CompactionJob job;
        IReadOnlyDictionary<string, long> planCalls;
        using (var calls = new StoreCallCounter())
        {
            job = await new CompactionPlanner(_store, _options).PlanAsync(shard, window, cancellationToken).ConfigureAwait(false);
            planCalls = calls.Snapshot();
        }

        var list = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var report = await RunAsync(job, cancellationToken).ConfigureAwait(false);
        var stages = new Dictionary<string, double>(report.StageSeconds) { ["list"] = list };
        var storeCalls = new Dictionary<string, long>(report.StoreCalls);
        foreach (var (operation, count) in planCalls)
        {
            storeCalls[operation] = storeCalls.GetValueOrDefault(operation) + count;
        }

        CompactionMetrics.StageDuration.Record(list, new KeyValuePair<string, object?>("stage", "list"));
        RecordStoreCalls(planCalls);
        return report with { StageSeconds = stages, StoreCalls = storeCalls };
    }

    /// <summary>Runs one planned job.</summary>
    /// <exception cref="CompactionException">The job failed (full disk, unreadable store, …); nothing was published.</exception>
    public async Task<CompactionReport> RunAsync(CompactionJob job, CancellationToken cancellationToken = default)
    {
        using var activity = CompactionMetrics.ActivitySource.StartActivity("compact");
        activity?.SetTag("shard", job.Shard.Value);
        activity?.SetTag("window", job.Window.ToString());
        var manifestKey = ObjectKeys.Manifest(job.Shard, job.Window.Start);
        using var calls = new StoreCallCounter();
        var previous = await ReadManifestAsync(manifestKey, cancellationToken).ConfigureAwait(false);
        var inputs = await InputReconciliation.ReconcileAsync(_store, previous, job, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> repairs = [];
        if (!_options.Force && previous is not null && inputs.SameInputs && previous.Codec == _options.Codec.Name)
        {
            repairs = await CheckPartsAsync(previous, cancellationToken).ConfigureAwait(false);
            if (repairs.Count == 0)
            {
                CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "skipped"));
                _logger.LogInformation("{Job}: the manifest already names these {Count} inputs; nothing to do", job, inputs.Job.Inputs.Count);
                var skippedCalls = calls.Snapshot();
                RecordStoreCalls(skippedCalls);
                return new CompactionReport
                {
                    Shard = job.Shard.Value, Window = job.Window.ToString(), Generation = previous.Generation, Skipped = true, Segments = inputs.Job.Inputs.Count, Manifest = manifestKey,
                    StoreCalls = skippedCalls, MisplacedSegments = inputs.Job.MisplacedInputs.Count,
                };
            }

            _logger.LogWarning("{Job}: {Count} parts the manifest names are damaged or missing ({First}); the window is compacted again", job, repairs.Count, repairs[0]);
        }

        if (inputs.Missing.Count > 0 && !_options.AllowDroppedInputs)
        {
            CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            throw new CompactionException(
                $"{job}: {inputs.Missing.Count} input segments the manifest lists are no longer in the store (first: {inputs.Missing[0].Key}); compacting now would drop their points. "
                + "Restore them and compact again, or accept the loss with AllowDroppedInputs (tailor compact --allow-dropped-inputs). Nothing was published.");
        }

        if (inputs.Kept.Count > 0)
        {
            _logger.LogInformation("{Job}: {Count} inputs the manifest lists lie outside this plan's hours and are read as well", job, inputs.Kept.Count);
        }

        IReadOnlyList<string> dropped = [.. inputs.Missing.Select(i => i.Key)];
        job = inputs.Job;
        if (job.Inputs.Count == 0)
        {
            return new CompactionReport
            {
                Shard = job.Shard.Value, Window = job.Window.ToString(), Generation = job.Generation, Segments = 0, MemoryBudgetBytes = _options.MemoryBudgetBytes,
                StoreCalls = calls.Snapshot(), DroppedInputs = dropped,
            };
        }

        var folder = Path.Combine(_options.WorkDirectory, $"{job.Shard.Value}-{job.Window.StartSeconds}-{job.Generation}-{Guid.NewGuid():N}"[..60]);
        Directory.CreateDirectory(folder);
        Memory.NativePool.Shared.JobStarted(_options.MemoryBudgetBytes);
        try
        {
            var run = new JobRun(this, job, folder);
            var report = await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            report = report with { DroppedInputs = dropped, RepairedParts = repairs, KeptInputs = inputs.Kept.Count };
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
                    IncompleteSegments = report.IncompleteSegments,
                    MisplacedSegments = report.MisplacedSegments,
                    MisroutedPayloads = report.MisroutedPayloads,
                    MisroutedPoints = report.MisroutedPoints,
                },
                DroppedInputs = dropped.Count == 0 ? null : dropped,
            };
            var manifestStarted = Stopwatch.GetTimestamp();
            await _store.PutAsync(manifestKey, manifest.ToJson(), cancellationToken).ConfigureAwait(false);
            await DeleteStalePartsAsync(job, previous, report.Parts, cancellationToken).ConfigureAwait(false);
            var stages = new Dictionary<string, double>(report.StageSeconds) { ["manifest"] = Stopwatch.GetElapsedTime(manifestStarted).TotalSeconds };
            stages["total"] += stages["manifest"];
            report = report with { StageSeconds = stages, Manifest = manifestKey, StoreCalls = calls.Snapshot() };
            Record(report);
            CompactionMetrics.Jobs.Add(1, new KeyValuePair<string, object?>("outcome", "written"));
            _logger.LogInformation("{Job}: {PointsOut} points of {Series} series in {Parts} parts ({BytesOut} bytes), {Duplicates} duplicates dropped, {Damaged} damaged records",
                job, report.PointsOut, report.Series, report.Parts.Count, report.BytesOut, report.DuplicatesDropped, report.DamagedRecords);
            if (dropped.Count > 0)
            {
                _logger.LogWarning("{Job}: published without {Count} inputs the previous manifest listed (first: {First}); their points left the window", job, dropped.Count, dropped[0]);
            }

            if (report.IncompleteSegments > 0 || report.MisroutedPayloads > 0 || report.MisplacedSegments > 0)
            {
                _logger.LogWarning("{Job}: {Incomplete} incomplete segments (no trailer), {Misrouted} misrouted payloads ({MisroutedPoints} points), {Misplaced} misplaced segments",
                    job, report.IncompleteSegments, report.MisroutedPayloads, report.MisroutedPoints, report.MisplacedSegments);
            }
            return report;
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
            Memory.NativePool.Shared.JobEnded();
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

    /// <summary>
    /// The parts of a manifest that are missing, of another size, or (with <see cref="CompactionOptions.CheckParts"/>)
    /// of another SHA-256 than the manifest holds, each as "key: problem".
    /// </summary>
    private async Task<IReadOnlyList<string>> CheckPartsAsync(CompactionManifest manifest, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var part in manifest.Outputs)
        {
            var info = await _store.GetInfoAsync(part.Key, cancellationToken).ConfigureAwait(false);
            if (info is null)
            {
                problems.Add($"{part.Key}: missing");
            }
            else if (info.Size != part.Size)
            {
                problems.Add($"{part.Key}: {info.Size} bytes, the manifest says {part.Size}");
            }
            else if (_options.CheckParts)
            {
                using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                var source = await _store.OpenReadAsync(part.Key, cancellationToken: cancellationToken).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
                    try
                    {
                        int read;
                        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                        }
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!string.Equals(sha, part.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{part.Key}: SHA-256 {sha[..12]}…, the manifest says {part.Sha256[..Math.Min(12, part.Sha256.Length)]}…");
                }
            }
        }

        return problems;
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

        public async Task<CompactionReport> ExecuteAsync(CancellationToken cancellationToken)
        {
            var gcBefore = GC.GetTotalPauseDuration();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            MemoryTracker.ResetPeak();
            var total = Stopwatch.GetTimestamp();
            using var sampler = new PeakWorkingSetSampler();

            using var input = await JobInput.LoadAsync(runner._store, job, _options, folder, runner._logger, cancellationToken).ConfigureAwait(false);

            // Merge and encode key ranges in parallel; write the parts in key order as ranges finish.
            var encodeStarted = Stopwatch.GetTimestamp();
            await using var parts = new PartWriter(runner._store, job, _options, folder);
            parts.Start(cancellationToken);
            var merged = await RangeMerge.RunAsync(
                    input, _options.Parallelism, EncodedChunk.BytesPerPointEstimate, JobInput.MergeReserve(_options), () => new EncodedChunk(_options.Codec), parts.Accept, cancellationToken)
                .ConfigureAwait(false);
            var encode = Stopwatch.GetElapsedTime(encodeStarted);
            var uploadStarted = Stopwatch.GetTimestamp();
            var written = await parts.FinishAsync().ConfigureAwait(false);
            var upload = Stopwatch.GetElapsedTime(uploadStarted);

            var counts = input.Counts;
            var wall = Stopwatch.GetElapsedTime(total);
            var gc = GC.GetTotalPauseDuration() - gcBefore;
            sampler.Sample();
            var report = new CompactionReport
            {
                Shard = job.Shard.Value,
                Window = job.Window.ToString(),
                Generation = job.Generation,
                Segments = input.Segments,
                Splits = input.Splits,
                UnreadableSegments = input.UnreadableSegments,
                IncompleteSegments = input.IncompleteSegments,
                MisplacedSegments = job.MisplacedInputs.Count,
                MisroutedPayloads = counts.MisroutedPayloads,
                MisroutedPoints = counts.MisroutedPoints,
                PointsIn = counts.Points,
                PointsOut = merged.Points,
                DuplicatesDropped = merged.Duplicates,
                OutOfWindow = counts.OutOfWindow,
                DamagedRecords = input.LostRecords + counts.BadPayloads,
                DamagedRegions = input.DamagedRegions,
                DamagedBytes = input.DamagedBytes,
                Series = merged.Series,
                BytesIn = job.InputBytes,
                BytesOut = parts.BytesWritten,
                Spills = input.Spills.Count,
                SpillBytes = input.SpillBytes,
                StageSeconds = new Dictionary<string, double>
                {
                    ["fetch"] = input.FetchTime.TotalSeconds,
                    ["read"] = input.ReadTime.TotalSeconds,
                    ["decompress"] = Stopwatch.GetElapsedTime(0, counts.DecompressTicks).TotalSeconds,
                    ["decode"] = Stopwatch.GetElapsedTime(0, counts.DecodeTicks).TotalSeconds,
                    ["sort"] = Stopwatch.GetElapsedTime(0, counts.SortTicks).TotalSeconds,
                    ["spill"] = input.SpillTime.TotalSeconds,
                    ["encode"] = encode.TotalSeconds,
                    ["upload"] = upload.TotalSeconds,
                    ["total"] = wall.TotalSeconds,
                },
                PeakWorkingSetBytes = sampler.Peak,
                PeakBufferBytes = MemoryTracker.Peak,
                MemoryBudgetBytes = _options.MemoryBudgetBytes,
                GcPauseSeconds = gc.TotalSeconds,
                GcPauseFraction = gc.TotalSeconds / wall.TotalSeconds,
                AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore,
                Parts = written,
            };
            return report;
        }
    }

    /// <summary>A written job's figures on the <c>Tailor.Compaction</c> meter (the planning's list stage and calls are recorded where it runs).</summary>
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

        CompactionMetrics.PeakWorkingSet.Record(report.PeakWorkingSetBytes);
        CompactionMetrics.GcPause.Record(report.GcPauseSeconds);
        RecordStoreCalls(report.StoreCalls);
    }

    private static void RecordStoreCalls(IReadOnlyDictionary<string, long> calls)
    {
        foreach (var (operation, count) in calls)
        {
            CompactionMetrics.StoreCalls.Add(count, new KeyValuePair<string, object?>("operation", operation));
        }
    }
}

/// <summary>
/// Counts the object store calls of one job by operation, from the <c>Tailor.Storage</c> meter: a
/// call counts when it is made in the job's asynchronous flow (the tasks and threads the job starts
/// inherit it), so jobs running side by side in one process, or other work there, never count each
/// other's calls. Counters nest: the innermost one alive in a flow counts.
/// </summary>
internal sealed class StoreCallCounter : IDisposable
{
    private static readonly AsyncLocal<StoreCallCounter?> Current = new();
    private static readonly MeterListener Listener = StartListener();
    private readonly Dictionary<string, long> _calls = [];
    private readonly StoreCallCounter? _outer;

    public StoreCallCounter()
    {
        _ = Listener;
        _outer = Current.Value;
        Current.Value = this;
    }

    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_calls)
        {
            return new Dictionary<string, long>(_calls);
        }
    }

    public void Dispose()
    {
        if (Current.Value == this)
        {
            Current.Value = _outer;
        }
    }

    private static MeterListener StartListener()
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
            if (Current.Value is not { } counter)
            {
                return;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "operation" && tag.Value?.ToString() is { } operation)
                {
                    lock (counter._calls)
                    {
                        counter._calls[operation] = counter._calls.GetValueOrDefault(operation) + value;
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }
}
