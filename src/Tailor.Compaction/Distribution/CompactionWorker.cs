using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>
/// A compaction worker: one member of a Kafka consumer group on the jobs topic
/// (<see cref="CompactionJobMessage"/>) that runs each job it receives with a
/// <see cref="CompactionRunner"/>, one at a time, and commits a job's offset only after the job's
/// manifest is written (or found already written). Scale by starting more workers with the same group.
/// </summary>
/// <remarks>
/// <para><b>Why re-delivery is safe.</b> A job is a pure function of the inputs its message names, and
/// the manifest is written last. A worker that dies mid-job has committed nothing for it, so the
/// partition's next owner receives it again and writes identical S-files; a worker that dies after the
/// manifest but before the commit leaves a job whose manifest already has its generation, which the
/// next owner skips. Jobs of one window share a message key and so a partition: they run in the order
/// they were planned, never two at once in a healthy group.</para>
/// <para><b>Consumer.</b> Cooperative-sticky assignment, no auto-commit, explicit commits of "next offset
/// to read" per partition. The poll loop runs on its own thread and keeps polling while a job runs
/// (the assigned partitions are paused meanwhile), so a long job never exceeds the poll interval. A
/// revocation cancels a running job of a revoked partition and commits what finished; a loss commits
/// nothing. Rebalance handlers catch everything: no exception escapes them into the poll loop.</para>
/// <para><b>Stop.</b> Cancelling the token passed to <see cref="RunAsync"/> stops taking jobs, lets the
/// running one finish for up to <see cref="CompactionWorkerOptions.StopTimeout"/> (then cancels it),
/// commits, and leaves the group. <see cref="WorkerEvent"/> is raised on the poll thread.</para>
/// </remarks>
public sealed class CompactionWorker
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CommitRetryInterval = TimeSpan.FromMilliseconds(500);

    private readonly IObjectStore _store;
    private readonly CompactionWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly CompactionRunner _runner;

    // Events raised by job tasks, handed to the poll thread so every event is raised there.
    private readonly System.Collections.Concurrent.ConcurrentQueue<CompactionWorkerEventArgs> _deferred = new();

    // Poll-thread state: touched only by the loop and the rebalance handlers it runs.
    private readonly Queue<ConsumeResult<string, byte[]>> _pending = new();
    private readonly Dictionary<TopicPartition, long> _toCommit = [];
    private readonly HashSet<TopicPartition> _assigned = [];
    private readonly HashSet<TopicPartition> _paused = [];
    private RunningJob? _running;
    private long _nextCommitAttempt;
    private int _started;

    private long _received;
    private long _written;
    private long _skipped;
    private long _superseded;
    private long _failed;
    private long _cancelled;
    private long _invalid;
    private long _commits;
    private long _commitFailures;
    private long _pointsOut;
    private long _bytesOut;
    private int _assignedCount;
    private bool _joined;
    private string? _runningName;

    /// <summary>Creates a worker; nothing connects until <see cref="RunAsync"/>.</summary>
    /// <param name="store">The store the jobs read segments from and write S-files to; the caller owns it.</param>
    /// <param name="options">Topic, group, retries, and how each job runs.</param>
    /// <param name="loggers">Where the worker and the runner log; <see langword="null"/> drops it.</param>
    /// <exception cref="ArgumentException">An option is missing or invalid; the message names it.</exception>
    public CompactionWorker(IObjectStore store, CompactionWorkerOptions options, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _options = options;
        loggers ??= NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger<CompactionWorker>();
        _runner = new CompactionRunner(store, options.Compaction, loggers.CreateLogger<CompactionRunner>());
    }

    /// <summary>Raised on the poll thread for assignments, job starts and ends, and commits. A handler that throws is logged and ignored.</summary>
    public event EventHandler<CompactionWorkerEventArgs>? WorkerEvent;

    /// <summary>The worker's counters now; safe to read from any thread.</summary>
    public CompactionWorkerStatus Status => new()
    {
        Received = Interlocked.Read(ref _received),
        Written = Interlocked.Read(ref _written),
        Skipped = Interlocked.Read(ref _skipped),
        Superseded = Interlocked.Read(ref _superseded),
        Failed = Interlocked.Read(ref _failed),
        Cancelled = Interlocked.Read(ref _cancelled),
        Invalid = Interlocked.Read(ref _invalid),
        Commits = Interlocked.Read(ref _commits),
        CommitFailures = Interlocked.Read(ref _commitFailures),
        PointsOut = Interlocked.Read(ref _pointsOut),
        BytesOut = Interlocked.Read(ref _bytesOut),
        AssignedPartitions = Volatile.Read(ref _assignedCount),
        Joined = Volatile.Read(ref _joined),
        RunningJob = Volatile.Read(ref _runningName),
    };

    /// <summary>Joins the group and runs jobs until <paramref name="stoppingToken"/> is cancelled, then stops gracefully.</summary>
    /// <param name="stoppingToken">Cancel to stop.</param>
    /// <returns>A task that completes when the worker has left the group (successfully after a requested stop).</returns>
    /// <exception cref="TimeoutException">No broker answered within <see cref="CompactionWorkerOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="KafkaException">The consumer failed fatally.</exception>
    /// <exception cref="InvalidOperationException">The worker was already run; a worker runs once.</exception>
    public Task RunAsync(CancellationToken stoppingToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A CompactionWorker runs once; create another to run again.");
        }

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
            Name = "tailor-compaction-worker",
        };
        thread.Start();
        return done.Task;
    }

    private void Loop(CancellationToken stoppingToken)
    {
        using var consumer = BuildConsumer();
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
        {
            KafkaReachability.Check(admin, _options.BootstrapServers!, _options.ConnectTimeout, stoppingToken);
        }

        consumer.Subscribe(_options.Topic);
        _logger.LogInformation("Compaction worker joined group {Group} on topic {Topic}; store {Store}", _options.GroupId, _options.Topic, _store.Name);
        long stopStarted = 0;
        try
        {
            while (true)
            {
                if (stopStarted == 0 && stoppingToken.IsCancellationRequested)
                {
                    stopStarted = Stopwatch.GetTimestamp();
                    _pending.Clear();
                    _logger.LogInformation("Stopping: no new jobs; the running one ({Job}) has {Seconds} s to finish", _running?.Job.ToString() ?? "none", _options.StopTimeout.TotalSeconds);
                }

                if (_running is { Task.IsCompleted: true } finished)
                {
                    Finish(finished, commit: true);
                }

                if (stopStarted != 0)
                {
                    if (_running is null)
                    {
                        break;
                    }

                    if (Stopwatch.GetElapsedTime(stopStarted) >= _options.StopTimeout)
                    {
                        _running.Cancel();
                    }
                }

                Commit(consumer, only: null, force: false);
                if (stopStarted == 0 && _running is null)
                {
                    StartNext();
                }

                UpdatePause(consumer);
                while (_deferred.TryDequeue(out var deferred))
                {
                    Raise(deferred);
                }

                ConsumeResult<string, byte[]>? result;
                try
                {
                    result = consumer.Consume(PollInterval);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    _logger.LogWarning("Consume: {Reason}", e.Error.Reason);
                    continue;
                }

                if (result is { IsPartitionEOF: false, Message: not null } && stopStarted == 0)
                {
                    Interlocked.Increment(ref _received);
                    _pending.Enqueue(result);
                }
            }

            Commit(consumer, only: null, force: true);
        }
        finally
        {
            if (_running is { } abandoned)
            {
                // The loop failed: nothing more of this job will be committed here.
                abandoned.Cancel();
                abandoned.Task.Wait(_options.RevokeTimeout, CancellationToken.None);
                _running = null;
            }

            try
            {
                consumer.Close();
            }
            catch (KafkaException e)
            {
                _logger.LogWarning("Leaving the group: {Reason}", e.Error.Reason);
            }

            Volatile.Write(ref _joined, false);
            _logger.LogInformation("Compaction worker left group {Group}: {Status}", _options.GroupId, Status);
        }
    }

    private IConsumer<string, byte[]> BuildConsumer()
    {
        var sessionMs = (int)_options.SessionTimeout.TotalMilliseconds;
        var config = new ConsumerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            GroupId = _options.GroupId,
            ClientId = "tailor-compaction-worker",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = sessionMs,
            HeartbeatIntervalMs = Math.Clamp(sessionMs / 3, 100, 3000),
            MaxPollIntervalMs = Math.Max(300_000, sessionMs),
            FetchWaitMaxMs = 250,

            // Job messages are small and rare; do not prefetch librdkafka's default 64 MiB.
            QueuedMaxMessagesKbytes = 4096,
        };
        foreach (var (key, value) in _options.Settings)
        {
            config.Set(key, value);
        }

        try
        {
            return new ConsumerBuilder<string, byte[]>(config)
                .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
                .SetErrorHandler((_, e) => _logger.Log(e.IsFatal ? LogLevel.Error : LogLevel.Debug, "librdkafka: {Reason}", e.Reason))
                .SetPartitionsAssignedHandler((_, partitions) => Guard("assignment", () => OnAssigned(partitions)))
                .SetPartitionsRevokedHandler((c, partitions) => Guard("revocation", () => OnRevoked(c, partitions)))
                .SetPartitionsLostHandler((_, partitions) => Guard("loss", () => OnLost(partitions)))
                .Build();
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"The Kafka consumer settings were refused: {e.Message}", nameof(CompactionWorkerOptions.Settings), e);
        }
    }

    /// <summary>Confluent.Kafka rethrows a handler's exception from Consume: log it here instead.</summary>
    private void Guard(string what, Action handler)
    {
        try
        {
            handler();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The {What} handler failed; the worker goes on", what);
        }
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        _assigned.UnionWith(partitions);
        Volatile.Write(ref _assignedCount, _assigned.Count);
        Volatile.Write(ref _joined, true);
        _logger.LogInformation("Assigned {Partitions}", Format(partitions));
        Raise(new CompactionWorkerEventArgs { Kind = CompactionWorkerEventKind.Assigned, Partitions = partitions });
    }

    private void OnRevoked(IConsumer<string, byte[]> consumer, List<TopicPartitionOffset> revoked)
    {
        var gone = revoked.Select(p => p.TopicPartition).ToHashSet();
        DropPending(gone);
        if (_running is { } running && gone.Contains(running.Position.TopicPartition))
        {
            // Cancel rather than finish: a job can take minutes and the whole group waits for this handler.
            _logger.LogInformation("{Job}: its partition is revoked; cancelling it (the next owner runs it again)", running.Job);
            running.Cancel();
            if (running.Task.Wait(_options.RevokeTimeout))
            {
                Finish(running, commit: true);
            }
            else
            {
                running.Orphaned = true;
                _logger.LogWarning("{Job} did not stop within {Seconds} s of its revocation; its result will not be committed", running.Job, _options.RevokeTimeout.TotalSeconds);
            }
        }

        // Hand over in order: the next owner starts right after the jobs that finished here.
        Commit(consumer, gone, force: true);
        Forget(gone);
        _logger.LogInformation("Revoked {Partitions}", Format(gone));
        Raise(new CompactionWorkerEventArgs { Kind = CompactionWorkerEventKind.Revoked, Partitions = [.. gone] });
    }

    private void OnLost(List<TopicPartitionOffset> lost)
    {
        Volatile.Write(ref _joined, false);
        var gone = lost.Select(p => p.TopicPartition).ToHashSet();
        DropPending(gone);
        if (_running is { } running && gone.Contains(running.Position.TopicPartition))
        {
            running.Orphaned = true;
            running.Cancel();
            if (running.Task.Wait(_options.RevokeTimeout))
            {
                Finish(running, commit: false);
            }
        }

        foreach (var partition in gone)
        {
            if (_toCommit.Remove(partition, out var offset))
            {
                _logger.LogWarning("{Partition} was lost before offset {Offset} was committed; the next owner finds those jobs done", partition, offset);
            }
        }

        Forget(gone);
        _logger.LogWarning("Lost {Partitions} (the session expired)", Format(gone));
        Raise(new CompactionWorkerEventArgs { Kind = CompactionWorkerEventKind.Lost, Partitions = [.. gone] });
    }

    private void Forget(HashSet<TopicPartition> gone)
    {
        foreach (var partition in gone)
        {
            _toCommit.Remove(partition);
            _assigned.Remove(partition);
            _paused.Remove(partition);
        }

        Volatile.Write(ref _assignedCount, _assigned.Count);
    }

    private void DropPending(HashSet<TopicPartition> gone)
    {
        var keep = _pending.Where(m => !gone.Contains(m.TopicPartition)).ToList();
        _pending.Clear();
        foreach (var message in keep)
        {
            _pending.Enqueue(message);
        }
    }

    private void StartNext()
    {
        while (_running is null && _pending.TryDequeue(out var message))
        {
            if (!_assigned.Contains(message.TopicPartition))
            {
                continue;
            }

            CompactionJob job;
            try
            {
                job = CompactionJobMessage.Parse(message.Message.Value ?? []);
            }
            catch (FormatException e)
            {
                // A message that can never be a job must not block the jobs behind it.
                Interlocked.Increment(ref _invalid);
                CompactionMetrics.WorkerJobs.Add(1, new KeyValuePair<string, object?>("outcome", "invalid"));
                _logger.LogError("{Position} is not a valid compaction job and is skipped: {Problem}", message.TopicPartitionOffset, e.Message);
                _toCommit[message.TopicPartition] = message.Offset.Value + 1;
                Raise(new CompactionWorkerEventArgs
                {
                    Kind = CompactionWorkerEventKind.JobFinished,
                    Position = message.TopicPartitionOffset,
                    Outcome = CompactionJobOutcome.Invalid,
                    Error = e.Message,
                });
                continue;
            }

            var cancellation = new CancellationTokenSource();
            _running = new RunningJob(job, message.TopicPartitionOffset, cancellation, Task.Run(() => ExecuteAsync(job, message.TopicPartitionOffset, cancellation.Token)));
            Volatile.Write(ref _runningName, job.ToString());
            _logger.LogInformation("{Job}: started ({Inputs} segments, {Bytes} bytes, generation {Generation}) from {Position}",
                job, job.Inputs.Count, job.InputBytes, job.Generation, message.TopicPartitionOffset);
            Raise(new CompactionWorkerEventArgs { Kind = CompactionWorkerEventKind.JobStarted, Job = job, Position = message.TopicPartitionOffset });
        }
    }

    private async Task<JobResult> ExecuteAsync(CompactionJob job, TopicPartitionOffset position, CancellationToken cancellationToken)
    {
        var jobFailures = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await IsSupersededAsync(job, cancellationToken).ConfigureAwait(false))
                {
                    return new JobResult(CompactionJobOutcome.Superseded, null, attempt, null);
                }

                var report = await _runner.RunAsync(job, cancellationToken).ConfigureAwait(false);
                var outcome = report.Skipped || job.Inputs.Count == 0 ? CompactionJobOutcome.Skipped : CompactionJobOutcome.Written;
                return new JobResult(outcome, report, attempt, null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new JobResult(CompactionJobOutcome.Cancelled, null, attempt, null);
            }
            catch (Exception e)
            {
                // The store down, throttling, refused credentials or a full local disk fail every job
                // alike: giving this one up would only move on to fail the next. Such a job waits for
                // the environment to recover and is never committed meanwhile.
                var environmental = IsEnvironmental(e);
                if (!environmental && ++jobFailures >= _options.MaxAttempts)
                {
                    return new JobResult(CompactionJobOutcome.Failed, null, attempt, e.Message);
                }

                var wait = TimeSpan.FromTicks(Math.Min(_options.MaxRetryBackoff.Ticks, (long)(_options.RetryBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)))));
                if (environmental)
                {
                    _logger.LogError("{Job}: attempt {Attempt} failed ({Problem}); the job waits for the store or disk to recover and tries again in {Seconds:0.#} s",
                        job, attempt, e.Message, wait.TotalSeconds);
                }
                else
                {
                    _logger.LogWarning("{Job}: attempt {Attempt} failed ({Problem}), {Left} more before it is given up; trying again in {Seconds:0.#} s",
                        job, attempt, e.Message, _options.MaxAttempts - jobFailures, wait.TotalSeconds);
                }

                _deferred.Enqueue(new CompactionWorkerEventArgs
                {
                    Kind = CompactionWorkerEventKind.JobRetrying,
                    Job = job,
                    Position = position,
                    Attempts = attempt,
                    Error = e.Message,
                });
                try
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return new JobResult(CompactionJobOutcome.Cancelled, null, attempt, e.Message);
                }
            }
        }
    }

    /// <summary>Whether a failure comes from the environment (store, credentials, local disk) rather than from the job itself.</summary>
    private static bool IsEnvironmental(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ObjectStoreException store:
                    return store.Kind is ObjectStoreErrorKind.Transient or ObjectStoreErrorKind.Unreachable or ObjectStoreErrorKind.AccessDenied
                        or ObjectStoreErrorKind.BucketNotFound or ObjectStoreErrorKind.StorageFull;
                case IOException when e is not (FileNotFoundException or DirectoryNotFoundException or EndOfStreamException):
                    return true; // spill and download files on the local disk: full, read-only, failing
            }
        }

        return false;
    }

    /// <summary>Whether the window's manifest already covers a strictly larger input set holding every input of the job.</summary>
    private async Task<bool> IsSupersededAsync(CompactionJob job, CancellationToken cancellationToken)
    {
        var key = ObjectKeys.Manifest(job.Shard, job.Window.Start);
        if (await _store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not { } info)
        {
            return false;
        }

        var bytes = new byte[info.Size];
        await _store.ReadAsync(key, 0, bytes, cancellationToken).ConfigureAwait(false);
        CompactionManifest manifest;
        try
        {
            manifest = CompactionManifest.Parse(bytes);
        }
        catch (FormatException)
        {
            return false; // The runner logs it and recompacts.
        }

        if (manifest.Generation == job.Generation)
        {
            return false; // The runner's own check: skipped.
        }

        var covered = manifest.Inputs.ToHashSet();
        return job.Inputs.All(covered.Contains);
    }

    private void Finish(RunningJob running, bool commit)
    {
        var result = running.Task.Result;
        _running = null;
        Volatile.Write(ref _runningName, null);
        running.Dispose();
        switch (result.Outcome)
        {
            case CompactionJobOutcome.Written:
                Interlocked.Increment(ref _written);
                break;
            case CompactionJobOutcome.Skipped:
                Interlocked.Increment(ref _skipped);
                break;
            case CompactionJobOutcome.Superseded:
                Interlocked.Increment(ref _superseded);
                break;
            case CompactionJobOutcome.Failed:
                Interlocked.Increment(ref _failed);
                break;
            default:
                Interlocked.Increment(ref _cancelled);
                break;
        }

        CompactionMetrics.WorkerJobs.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant()));
        if (result.Report is { } report)
        {
            Interlocked.Add(ref _pointsOut, report.PointsOut);
            Interlocked.Add(ref _bytesOut, report.BytesOut);
        }

        var committable = commit && !running.Orphaned && result.Outcome != CompactionJobOutcome.Cancelled;
        if (committable)
        {
            _toCommit[running.Position.TopicPartition] = running.Position.Offset.Value + 1;
        }

        switch (result.Outcome)
        {
            case CompactionJobOutcome.Failed:
                _logger.LogError("{Job}: given up after {Attempts} attempts ({Problem}); its offset is committed so later jobs run. "
                    + "Run it again with: tailor compact --store {Store} --shard {Shard} --window {Window}",
                    running.Job, result.Attempts, result.Error, _store.Name, running.Job.Shard.Value, running.Job.Window);
                break;
            case CompactionJobOutcome.Cancelled:
                _logger.LogInformation("{Job}: cancelled, not committed; the group runs it again", running.Job);
                break;
            default:
                _logger.LogInformation("{Job}: {Outcome} ({Points} points, {Bytes} bytes out) in {Seconds:0.###} s", running.Job, result.Outcome,
                    result.Report?.PointsOut ?? 0, result.Report?.BytesOut ?? 0, Stopwatch.GetElapsedTime(running.Started).TotalSeconds);
                break;
        }

        Raise(new CompactionWorkerEventArgs
        {
            Kind = CompactionWorkerEventKind.JobFinished,
            Job = running.Job,
            Position = running.Position,
            Outcome = result.Outcome,
            Report = result.Report,
            Attempts = result.Attempts,
            Error = result.Error,
        });
    }

    /// <summary>Commits finished jobs' offsets; a refused commit stays pending and is tried again while the partition is owned.</summary>
    private void Commit(IConsumer<string, byte[]> consumer, HashSet<TopicPartition>? only, bool force)
    {
        if (_toCommit.Count == 0 || (!force && Stopwatch.GetTimestamp() < _nextCommitAttempt))
        {
            return;
        }

        var offsets = _toCommit.Where(p => only is null || only.Contains(p.Key)).Select(p => new TopicPartitionOffset(p.Key, p.Value)).ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
            foreach (var offset in offsets)
            {
                if (_toCommit.TryGetValue(offset.TopicPartition, out var value) && value == offset.Offset.Value)
                {
                    _toCommit.Remove(offset.TopicPartition);
                }
            }

            Interlocked.Increment(ref _commits);
            _logger.LogDebug("Committed {Offsets}", string.Join(' ', offsets));
            Raise(new CompactionWorkerEventArgs { Kind = CompactionWorkerEventKind.Committed, Offsets = offsets });
        }
        catch (KafkaException e)
        {
            // The mock refuses commits during a join phase (RebalanceInProgress); a revoked member's are
            // refused for good. Either way the job is done: a re-delivery finds its manifest.
            Interlocked.Increment(ref _commitFailures);
            CompactionMetrics.WorkerCommitFailures.Add(1);
            _nextCommitAttempt = Stopwatch.GetTimestamp() + (long)(CommitRetryInterval.TotalSeconds * Stopwatch.Frequency);
            _logger.LogDebug("Commit of {Offsets} refused: {Reason}", string.Join(' ', offsets), e.Error.Reason);
        }
    }

    private void UpdatePause(IConsumer<string, byte[]> consumer)
    {
        // One job at a time: while one runs or waits, fetch nothing more.
        var busy = _running is not null || _pending.Count > 0;
        try
        {
            if (busy)
            {
                var more = _assigned.Where(p => !_paused.Contains(p)).ToList();
                if (more.Count > 0)
                {
                    consumer.Pause(more);
                    _paused.UnionWith(more);
                }
            }
            else if (_paused.Count > 0)
            {
                consumer.Resume([.. _paused]);
                _paused.Clear();
            }
        }
        catch (KafkaException e)
        {
            _logger.LogDebug("Pause or resume: {Reason}", e.Error.Reason);
        }
    }

    private void Raise(CompactionWorkerEventArgs args)
    {
        try
        {
            WorkerEvent?.Invoke(this, args);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "A WorkerEvent handler failed on {Kind}", args.Kind);
        }
    }

    private static string Format(IEnumerable<TopicPartition> partitions) =>
        string.Join(' ', partitions.Select(p => $"{p.Topic}/{p.Partition.Value}"));

    private sealed record JobResult(CompactionJobOutcome Outcome, CompactionReport? Report, int Attempts, string? Error);

    private sealed class RunningJob(CompactionJob job, TopicPartitionOffset position, CancellationTokenSource cancellation, Task<JobResult> task) : IDisposable
    {
        public CompactionJob Job { get; } = job;

        public TopicPartitionOffset Position { get; } = position;

        public Task<JobResult> Task { get; } = task;

        public long Started { get; } = Stopwatch.GetTimestamp();

        /// <summary>Set when the partition went away before the job ended: its result is never committed here.</summary>
        public bool Orphaned { get; set; }

        public void Cancel()
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => cancellation.Dispose();
    }
}
