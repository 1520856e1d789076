using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tailor.Format.Payloads;
using Tailor.Format.Zstd;
using Tailor.Sink.Offsets;
using Tailor.Sink.Segments;
using Tailor.Storage;

namespace Tailor.Sink;

/// <summary>What a sink engine has done so far.</summary>
/// <param name="Payloads">Payloads written to segments.</param>
/// <param name="Bytes">Payload bytes written to segments.</param>
/// <param name="SegmentsCompleted">Segments uploaded completely.</param>
/// <param name="SegmentsFailed">Segments aborted or failed.</param>
/// <param name="DeadLetters">Messages sent to the dead-letter area.</param>
/// <param name="Rewinds">Times partitions were re-read after a failure.</param>
/// <param name="OpenSegments">Segments being written or uploaded now.</param>
/// <param name="BufferedBytes">Bytes held for segments not yet uploaded.</param>
/// <param name="PeakBufferedBytes">The most bytes held at once.</param>
/// <param name="PausedPartitions">Partitions paused for lack of buffer room now.</param>
public sealed record SinkStatus(long Payloads, long Bytes, long SegmentsCompleted, long SegmentsFailed, long DeadLetters, long Rewinds,
    int OpenSegments, long BufferedBytes, long PeakBufferedBytes, int PausedPartitions);

/// <summary>
/// The sink: consumes payloads from an <see cref="IPayloadSource"/>, routes them by org to one open
/// segment per shard, streams segments to the store, and commits a partition's offset only past
/// records whose segment upload has completed.
/// </summary>
/// <remarks>
/// <para>One dedicated poll thread does all the work on messages; uploads run as background tasks and
/// report back through a queue, so the poll loop never waits on the store longer than its poll
/// interval. Memory is bounded by <see cref="SinkOptions.BufferBudgetBytes"/>: past it the largest
/// open segment is completed early, and while uploads keep memory above it every partition is
/// paused.</para>
/// <para>A failed upload (after the store's retries) aborts every open segment and re-reads all
/// partitions from their last commit: duplicates, never loss.</para>
/// </remarks>
public sealed class SinkEngine : IPayloadSourceListener, IAsyncDisposable
{
    private readonly SinkOptions _options;
    private readonly IObjectStore _store;
    private readonly IPayloadSource _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PayloadDecoder _decoder;
    private readonly Dictionary<ShardName, OpenSegment> _open = [];
    private readonly HashSet<OpenSegment> _live = [];
    private readonly Dictionary<SourcePartition, PartitionTracker> _partitions = [];
    private readonly ConcurrentQueue<OpenSegment> _settled = new();
    private readonly ConcurrentDictionary<Task, byte> _deadLetterWrites = new();
    private readonly List<SourcePartition> _paused = [];
    private ulong _sequence;
    private long _payloads;
    private long _bytes;
    private long _segmentsCompleted;
    private long _segmentsFailed;
    private long _deadLetters;
    private long _rewinds;
    private long _bufferedBytes;
    private long _peakBufferedBytes;
    private long _lastHousekeeping;
    private long _lastCommit;
    private int _sinceBudgetCheck;
    private int _deadLetterFailures;
    private long _lastRefusalLog = -1L << 62;
    private volatile SinkStatus _status = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    private int _assignedPartitions;

    /// <summary>Creates an engine. It does nothing until <see cref="RunAsync"/>.</summary>
    public SinkEngine(SinkOptions options, IObjectStore store, IPayloadSource source, ILogger<SinkEngine>? logger = null, TimeProvider? time = null)
    {
        options.Validate();
        _options = options;
        _store = store;
        _source = source;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _decoder = new PayloadDecoder(options.MaxPayloadBytes);
        WriterId = options.WriterId ?? ObjectKeys.NewWriterId();
        SinkMetrics.Register(this);
    }

    /// <summary>This worker's id: every segment key it writes starts with it.</summary>
    public ulong WriterId { get; }

    /// <summary>
    /// The partitions the source has assigned to this worker now (0 before the first assignment, and
    /// for a worker the group keeps on standby); safe to read from any thread. A readiness check of a
    /// sink host is "above zero".
    /// </summary>
    public int AssignedPartitions => Volatile.Read(ref _assignedPartitions);

    /// <summary>The source's lag per partition held now (see <see cref="IPayloadSource.GetLag"/>).</summary>
    internal IReadOnlyList<PartitionLag> GetLag() => _source.GetLag();

    /// <summary>
    /// A snapshot of the engine's counters: payloads, bytes and dead letters are live; the segment and
    /// memory figures are refreshed by the poll thread's housekeeping (every 50 ms).
    /// </summary>
    public SinkStatus Status
    {
        get
        {
            var s = _status;
            return s with
            {
                Payloads = Interlocked.Read(ref _payloads),
                Bytes = Interlocked.Read(ref _bytes),
                DeadLetters = Interlocked.Read(ref _deadLetters),
            };
        }
    }

    /// <summary>
    /// Runs the poll loop on a dedicated thread until <paramref name="stoppingToken"/> is cancelled,
    /// then stops gracefully: completes and uploads every segment, commits, and leaves the source.
    /// </summary>
    public Task RunAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Loop(stoppingToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "tailor-sink-poll",
        };
        thread.Start();
        return done.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var segment in _live)
        {
            segment.Abort();
        }

        await Task.WhenAll(_live.Select(s => s.Pump)).ConfigureAwait(false);
        _decoder.Dispose();
    }

    private void Loop(CancellationToken stoppingToken)
    {
        _source.Start(this, stoppingToken);
        _logger.LogInformation("Sink writer {WriterId} started on {Source} writing to {Store}", ObjectKeys.FormatWriterId(WriterId), _source.Name, _store.Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_source.TryReceive(_options.PollInterval, out var message, stoppingToken))
            {
                Process(message);
            }

            if (Stopwatch.GetElapsedTime(_lastHousekeeping) >= TimeSpan.FromMilliseconds(50))
            {
                Housekeeping(force: false);
            }
        }

        StopGracefully();
    }

    private void Process(in SourceMessage message)
    {
        if (!_partitions.TryGetValue(message.Partition, out var tracker))
        {
            tracker = new PartitionTracker(message.Partition, _source.GetCommitted(message.Partition));
            _partitions[message.Partition] = tracker;
        }

        var value = message.Value.Span;
        uint org = 0;
        string? problem = null;
        var summary = default(PayloadSummary);
        if (message.Key is not { } key || !PayloadFormat.TryReadKey(key.Span, out org))
        {
            problem = message.Key is null ? "missing key" : $"malformed key ({message.Key.Value.Length} bytes, expected a 4-byte org id)";
        }
        else if (value.Length > _options.MaxPayloadBytes)
        {
            problem = $"value of {value.Length} bytes is over the {_options.MaxPayloadBytes}-byte limit";
        }
        else if (_options.ValidatePayloads)
        {
            var status = _decoder.TryValidate(value, out summary);
            if (status != PayloadStatus.Ok)
            {
                problem = $"payload rejected: {status}";
            }
            else if (summary.OrgId != org)
            {
                problem = $"key says org {org} but the payload says org {summary.OrgId}";
            }
        }
        else if (ZstdFrameDecompressor.TryGetContentSize(value, out var declared) is var header && header != ZstdFrameStatus.Ok)
        {
            problem = header == ZstdFrameStatus.NotAFrame ? "value is not a zstd frame" : "the zstd frame header is damaged";
        }
        else if (declared > _options.MaxPayloadBytes)
        {
            problem = $"the frame declares {declared} bytes, over the {_options.MaxPayloadBytes}-byte payload limit";
        }
        else
        {
            // Unknown points: the widest time range, so compaction never skips this segment by its stats.
            summary = new PayloadSummary(org, 0, 0, 0, long.MinValue, long.MaxValue, 0);
        }

        if (problem is not null)
        {
            var ticket = DeadLetterWriter.Write(_store, message, problem, Track);
            tracker.Add(message.Offset, ticket);
            Interlocked.Increment(ref _deadLetters);
            SinkMetrics.DeadLetters.Add(1, new KeyValuePair<string, object?>("topic", message.Partition.Topic));
            _logger.LogWarning("Dead letter {Partition}@{Offset}: {Problem}", message.Partition, message.Offset, problem);
            return;
        }

        var shard = _options.ShardMap.Route(org);
        if (!_open.TryGetValue(shard, out var segment))
        {
            segment = OpenNew(shard);
        }

        segment.Append(value, summary, message.Partition);
        tracker.Add(message.Offset, segment.Ticket);
        Interlocked.Increment(ref _payloads);
        Interlocked.Add(ref _bytes, value.Length);
        SinkMetrics.PayloadsConsumed.Add(1);
        SinkMetrics.BytesConsumed.Add(value.Length);
        if (segment.Payloads >= _options.MaxSegmentPayloads)
        {
            Rotate(segment, "payloads");
        }
        else if (segment.Length >= _options.MaxSegmentBytes)
        {
            Rotate(segment, "size");
        }

        if (++_sinceBudgetCheck >= 32)
        {
            CheckBudget();
        }
    }

    private void Track(Task write)
    {
        _deadLetterWrites[write] = 0;
        write.ContinueWith(
            t =>
            {
                _deadLetterWrites.TryRemove(t, out _);
                if (t.IsFaulted)
                {
                    Interlocked.Exchange(ref _deadLetterFailures, 1);
                }
            },
            TaskScheduler.Default);
    }

    private OpenSegment OpenNew(ShardName shard)
    {
        var now = _time.GetUtcNow();
        var sequence = ++_sequence;
        var key = ObjectKeys.Segment(shard, now, WriterId, (long)sequence, _options.KeySpreadDigits);
        var segment = new OpenSegment(shard, key, WriterId, sequence, now, _store, _options, s => _settled.Enqueue(s));
        _open[shard] = segment;
        _live.Add(segment);
        return segment;
    }

    private void Rotate(OpenSegment segment, string reason)
    {
        if (segment.IsCompleting)
        {
            return;
        }

        _open.Remove(segment.Shard);
        segment.Complete();
        SinkMetrics.Rotations.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    private void CheckBudget()
    {
        _sinceBudgetCheck = 0;
        long total = 0;
        foreach (var segment in _live)
        {
            total += segment.BufferedBytes;
        }

        _bufferedBytes = total;
        _peakBufferedBytes = Math.Max(_peakBufferedBytes, total);
        var budget = _options.BufferBudgetBytes;
        if (total > budget)
        {
            // Memory in open segments is freed by completing them; memory in completing segments only
            // by their uploads. Complete the largest open segments until they hold at most half the budget.
            var open = new List<(long Bytes, OpenSegment Segment)>(_open.Count);
            long openBytes = 0;
            foreach (var segment in _open.Values)
            {
                var bytes = segment.BufferedBytes;
                open.Add((bytes, segment));
                openBytes += bytes;
            }

            open.Sort(static (a, b) => b.Bytes.CompareTo(a.Bytes));
            foreach (var (bytes, segment) in open)
            {
                if (openBytes <= budget / 2)
                {
                    break;
                }

                Rotate(segment, "budget");
                openBytes -= bytes;
            }

            if (_paused.Count == 0 && _partitions.Count > 0)
            {
                _paused.AddRange(_partitions.Keys);
                _source.Pause(_paused);
                _logger.LogInformation("Buffered {Bytes} bytes is over the {Budget}-byte budget: pausing {Count} partitions until uploads catch up",
                    total, budget, _paused.Count);
            }
        }
        else if (_paused.Count > 0 && total < budget * _options.ResumeBelowFraction)
        {
            _source.Resume(_paused);
            _logger.LogInformation("Buffered {Bytes} bytes: resuming {Count} partitions", total, _paused.Count);
            _paused.Clear();
        }
    }

    private void Housekeeping(bool force)
    {
        _lastHousekeeping = Stopwatch.GetTimestamp();
        var failed = false;
        while (_settled.TryDequeue(out var segment))
        {
            _live.Remove(segment);
            if (segment.Ticket.IsDurable)
            {
                _segmentsCompleted++;
                SinkMetrics.SegmentsCompleted.Add(1);
                _logger.LogDebug("Segment {Key} uploaded: {Payloads} payloads, {Bytes} bytes", segment.Key, segment.Payloads, segment.Length);
            }
            else
            {
                _segmentsFailed++;
                SinkMetrics.SegmentsFailed.Add(1);
                if (_open.TryGetValue(segment.Shard, out var current) && ReferenceEquals(current, segment))
                {
                    _open.Remove(segment.Shard);
                }

                if (segment.Ticket.Failure is not OperationCanceledException)
                {
                    _logger.LogError(segment.Ticket.Failure, "Upload of segment {Key} failed; re-reading its partitions from the last commit", segment.Key);
                    failed = true;
                }
            }
        }

        failed |= Interlocked.Exchange(ref _deadLetterFailures, 0) != 0;
        if (failed)
        {
            Rewind();
        }

        var now = _time.GetUtcNow();
        List<OpenSegment>? aged = null;
        foreach (var segment in _open.Values)
        {
            if (now - segment.OpenedAt >= _options.MaxSegmentAge)
            {
                (aged ??= []).Add(segment);
            }
        }

        if (aged is not null)
        {
            foreach (var segment in aged)
            {
                Rotate(segment, "age");
            }
        }

        CheckBudget();
        if (force || Stopwatch.GetElapsedTime(_lastCommit) >= _options.CommitInterval)
        {
            CommitDurable(null);
        }

        _status = new SinkStatus(_payloads, _bytes, _segmentsCompleted, _segmentsFailed, _deadLetters, _rewinds, _live.Count, _bufferedBytes,
            _peakBufferedBytes, _paused.Count);
    }

    private void CommitDurable(IReadOnlyCollection<SourcePartition>? only)
    {
        _lastCommit = Stopwatch.GetTimestamp();
        var offsets = new List<SourceOffset>();
        foreach (var tracker in _partitions.Values)
        {
            if (only is not null && !only.Contains(tracker.Partition))
            {
                continue;
            }

            if (tracker.CommitPoint() is { } point && point != tracker.Committed)
            {
                offsets.Add(new SourceOffset(tracker.Partition, point));
            }
        }

        if (offsets.Count == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var ok = _source.Commit(offsets);
        SinkMetrics.CommitLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        SinkMetrics.Commits.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "refused"));
        if (ok)
        {
            foreach (var o in offsets)
            {
                _partitions[o.Partition].Committed = o.Offset;
            }
        }
        else if (Stopwatch.GetElapsedTime(_lastRefusalLog) >= TimeSpan.FromMinutes(1))
        {
            // Refusals last a whole rebalance round; say it once a minute, not every commit interval.
            _lastRefusalLog = Stopwatch.GetTimestamp();
            _logger.LogWarning("The source refused a commit of {Count} partitions (a rebalance is in progress or they moved away)", offsets.Count);
        }
    }

    private void Rewind()
    {
        _rewinds++;
        SinkMetrics.Rewinds.Add(1);
        foreach (var segment in _live)
        {
            segment.Abort();
        }

        _open.Clear();
        foreach (var tracker in _partitions.Values)
        {
            if (tracker.Rewind() is { } restart)
            {
                _source.Seek(tracker.Partition, restart);
            }
        }

        _logger.LogWarning("Rewound {Count} partitions to their last commit", _partitions.Count);
    }

    private void WaitSettled(Func<bool> done, TimeSpan deadline)
    {
        var started = Stopwatch.GetTimestamp();
        while (!done() && Stopwatch.GetElapsedTime(started) < deadline)
        {
            Thread.Sleep(10);
            DrainSettled();
        }

        DrainSettled();
    }

    private void DrainSettled()
    {
        while (_settled.TryDequeue(out var segment))
        {
            _live.Remove(segment);
            if (segment.Ticket.IsDurable)
            {
                _segmentsCompleted++;
                SinkMetrics.SegmentsCompleted.Add(1);
            }
            else
            {
                _segmentsFailed++;
                SinkMetrics.SegmentsFailed.Add(1);
            }
        }
    }

    private void StopGracefully()
    {
        _logger.LogInformation("Stopping: completing {Count} open segments", _open.Count);
        foreach (var segment in _open.Values.ToList())
        {
            Rotate(segment, "stop");
        }

        WaitSettled(() => _live.All(s => s.Ticket.IsSettled) && _deadLetterWrites.IsEmpty, _options.StopDeadline);
        if (_live.Any(s => !s.Ticket.IsSettled))
        {
            _logger.LogWarning("{Count} segments did not finish uploading within {Deadline}; their records will be re-read by the next owner",
                _live.Count(s => !s.Ticket.IsSettled), _options.StopDeadline);
        }

        CommitDurable(null);
        _bufferedBytes = _live.Sum(s => s.BufferedBytes);
        _status = new SinkStatus(_payloads, _bytes, _segmentsCompleted, _segmentsFailed, _deadLetters, _rewinds, _live.Count, _bufferedBytes,
            _peakBufferedBytes, _paused.Count);
        _source.Close();
        _logger.LogInformation("Sink writer {WriterId} stopped: {Payloads} payloads, {Segments} segments", ObjectKeys.FormatWriterId(WriterId), _payloads, _segmentsCompleted);
    }

    /// <inheritdoc />
    void IPayloadSourceListener.OnAssigned(IReadOnlyList<SourcePartition> partitions)
    {
        foreach (var p in partitions)
        {
            _partitions[p] = new PartitionTracker(p, _source.GetCommitted(p));
        }

        Volatile.Write(ref _assignedPartitions, _partitions.Count);

        if (_paused.Count > 0)
        {
            _paused.AddRange(partitions);
            _source.Pause(partitions);
        }

        _logger.LogInformation("Assigned {Count} partitions: {Partitions}", partitions.Count, string.Join(", ", partitions));
    }

    /// <inheritdoc />
    void IPayloadSourceListener.OnRevoking(IReadOnlyList<SourcePartition> partitions)
    {
        var revoked = partitions.ToHashSet();
        var affected = _live.Where(s => s.Partitions.Any(revoked.Contains)).ToList();
        foreach (var segment in affected)
        {
            Rotate(segment, "revocation");
        }

        WaitSettled(() => affected.All(s => s.Ticket.IsSettled) && _deadLetterWrites.IsEmpty, _options.RevocationDeadline);
        CommitDurable(revoked);
        var late = affected.Where(s => !s.Ticket.IsSettled).ToList();
        foreach (var p in partitions)
        {
            _partitions.Remove(p);
            _paused.Remove(p);
        }

        Volatile.Write(ref _assignedPartitions, _partitions.Count);
        if (late.Count > 0 || affected.Any(s => s.Ticket.IsFailed))
        {
            // Segments that missed the deadline are aborted; the partitions we keep re-read what they held.
            _logger.LogWarning("{Count} segments missed the revocation deadline and were aborted", late.Count);
            Rewind();
        }

        _logger.LogInformation("Revoked {Count} partitions: {Partitions}", partitions.Count, string.Join(", ", partitions));
    }

    /// <inheritdoc />
    void IPayloadSourceListener.OnLost(IReadOnlyList<SourcePartition> partitions)
    {
        foreach (var p in partitions)
        {
            _partitions.Remove(p);
            _paused.Remove(p);
        }

        Volatile.Write(ref _assignedPartitions, _partitions.Count);
        _logger.LogWarning("Lost {Count} partitions (another worker re-reads them from their last commit): {Partitions}", partitions.Count, string.Join(", ", partitions));
    }
}
