using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Sink.Kafka;

/// <summary>
/// The sink's Kafka source: one member of a consumer group over the configured topics, with
/// cooperative-sticky assignment and explicit commits of the offsets the engine says are durable.
/// </summary>
/// <remarks>
/// <para>Every member is called on the engine's poll thread (see <see cref="IPayloadSource"/>).
/// librdkafka runs the assignment, revocation and loss handlers inside <see cref="TryReceive"/>'s
/// <c>Consume</c>; they forward to the engine's <see cref="IPayloadSourceListener"/> and never let an
/// exception out (Confluent.Kafka would rethrow it from <c>Consume</c> with the rebalance half done):
/// a listener failure is logged, the rebalance completes, and the failure is thrown from the next
/// <see cref="TryReceive"/>, which ends the engine; offsets never pass durable records, so the next
/// owner re-reads.</para>
/// <para>Pauses and seeks asked for partitions that librdkafka has not activated yet (those being
/// assigned in the current handler) are applied right after the handler; messages of a partition
/// whose seek is still pending are dropped, so the engine never sees a record from before a rewind
/// it asked for.</para>
/// <para>The consumer is built in the constructor (an unknown or invalid librdkafka property fails
/// there) and connects in <see cref="Start(IPayloadSourceListener)"/>.</para>
/// </remarks>
public sealed class KafkaPayloadSource : IPayloadSource
{
    private readonly KafkaPayloadSourceOptions _options;
    private readonly ConsumerConfig _config;
    private readonly ILogger _logger;
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly Lock _assignmentLock = new();
    private readonly HashSet<SourcePartition> _assignment = [];
    private readonly HashSet<SourcePartition> _activating = [];
    private readonly HashSet<SourcePartition> _wantPaused = [];
    private readonly Dictionary<SourcePartition, long> _pendingSeeks = [];
    private readonly Dictionary<SourcePartition, long?> _committed = [];
    private readonly HashSet<SourcePartition> _replayed = [];
    private readonly Dictionary<string, long> _lastErrorLog = new(StringComparer.Ordinal);
    private IPayloadSourceListener? _listener;
    private Exception? _callbackFailure;
    private bool _started;
    private bool _closed;
    private bool _disposed;

    /// <summary>Builds the consumer; nothing connects until <see cref="Start(IPayloadSourceListener)"/>.</summary>
    /// <param name="options">Cluster, topics, group and settings; validated here.</param>
    /// <param name="logger">Where the source and librdkafka log; <see langword="null"/> discards.</param>
    /// <exception cref="ArgumentException">The options are not valid, or librdkafka refused a property (the message names it).</exception>
    public KafkaPayloadSource(KafkaPayloadSourceOptions options, ILogger<KafkaPayloadSource>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _config = options.ToConsumerConfig();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        try
        {
            _consumer = new ConsumerBuilder<byte[]?, byte[]?>(_config)
                .SetLogHandler((_, m) => OnLibrdkafkaLog(m))
                .SetErrorHandler((_, e) => OnError(e))
                .SetPartitionsAssignedHandler(OnAssigned)
                .SetPartitionsRevokedHandler(OnRevoked)
                .SetPartitionsLostHandler(OnLost)
                .Build();
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            throw new ArgumentException($"The Kafka consumer settings were refused: {e.Message}", nameof(options), e);
        }
    }

    /// <inheritdoc />
    public string Name => $"Kafka group '{_options.GroupId}' on {string.Join(',', _options.Topics)} at {_options.BootstrapServers}";

    /// <summary>The options this source was built with.</summary>
    public KafkaPayloadSourceOptions Options => _options;

    /// <summary>The partitions this member holds now (a snapshot; safe to read from any thread).</summary>
    public IReadOnlyCollection<SourcePartition> Assignment
    {
        get
        {
            lock (_assignmentLock)
            {
                return [.. _assignment];
            }
        }
    }

    /// <summary>
    /// Checks that a broker answers, warns about configured topics that do not exist, subscribes, and
    /// registers the listener. The group is joined by the following <see cref="TryReceive"/> calls.
    /// </summary>
    /// <exception cref="TimeoutException">No broker answered within <see cref="KafkaPayloadSourceOptions.ConnectTimeout"/>; the message names the bootstrap servers.</exception>
    public void Start(IPayloadSourceListener listener) => Start(listener, CancellationToken.None);

    /// <summary>
    /// Like <see cref="Start(IPayloadSourceListener)"/>, and gives up within about a second of
    /// <paramref name="cancellationToken"/> being cancelled while no broker has answered yet.
    /// </summary>
    /// <exception cref="TimeoutException">No broker answered within <see cref="KafkaPayloadSourceOptions.ConnectTimeout"/>; the message names the bootstrap servers.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before a broker answered.</exception>
    public void Start(IPayloadSourceListener listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started)
        {
            throw new InvalidOperationException("The source was already started.");
        }

        _started = true;
        _listener = listener;
        CheckBrokers(cancellationToken);
        _consumer.Subscribe(_options.Topics);
        _logger.LogInformation("Joining consumer group {Group} on topics {Topics} at {Brokers}", _options.GroupId, string.Join(", ", _options.Topics), _options.BootstrapServers);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A listener failed during a rebalance, or the replay search failed; the inner exception says why.</exception>
    /// <exception cref="KafkaException">librdkafka reported a fatal error.</exception>
    public bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken)
    {
        message = default;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_closed || cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        ApplyDeferred();
        ConsumeResult<byte[]?, byte[]?>? result;
        try
        {
            result = _consumer.Consume(timeout);
        }
        catch (ConsumeException e)
        {
            ThrowIfCallbackFailed();
            if (e.Error.IsFatal)
            {
                throw new KafkaException(e.Error, e);
            }

            LogLimited(e.Error.Code.ToString(), LogLevel.Warning, "Kafka consume error at {Position}: {Reason}", e.ConsumerRecord?.TopicPartitionOffset?.ToString() ?? "-", e.Error.Reason);
            return false;
        }

        ThrowIfCallbackFailed();
        ApplyDeferred();
        if (result?.Message is not { } received || result.IsPartitionEOF)
        {
            return false;
        }

        var partition = new SourcePartition(result.Topic, result.Partition.Value);
        if (_pendingSeeks.Count > 0 && _pendingSeeks.ContainsKey(partition))
        {
            // Read before a rewind that librdkafka has not taken yet: it comes again after the seek.
            return false;
        }

        ReadOnlyMemory<byte>? key = received.Key is { } k ? k : null;
        message = new SourceMessage(partition, result.Offset.Value, key, received.Value ?? [], received.Timestamp.UtcDateTime);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A refused commit (rebalance in progress, unknown member or stale generation after the partitions
    /// were lost, a broker error) returns <see langword="false"/>; the engine keeps the offsets and
    /// commits them later, or the next owner re-reads the records.
    /// </remarks>
    public bool Commit(IReadOnlyList<SourceOffset> offsets)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        if (offsets.Count == 0)
        {
            return true;
        }

        var list = new List<TopicPartitionOffset>(offsets.Count);
        foreach (var o in offsets)
        {
            list.Add(new TopicPartitionOffset(o.Partition.Topic, o.Partition.Partition, o.Offset));
        }

        try
        {
            _consumer.Commit(list);
        }
        catch (TopicPartitionOffsetException e)
        {
            var failed = e.Results.Where(r => r.Error.IsError).ToList();
            _logger.LogInformation("Kafka refused the commit of {Count} partitions: {Errors}", failed.Count,
                string.Join("; ", failed.Select(r => $"{r.TopicPartition}: {r.Error.Reason}")));
            return false;
        }
        catch (KafkaException e)
        {
            _logger.LogInformation("Kafka refused a commit of {Count} partitions: {Code} {Reason}", list.Count, e.Error.Code, e.Error.Reason);
            return false;
        }

        foreach (var o in offsets)
        {
            _committed[o.Partition] = o.Offset;
        }

        return true;
    }

    /// <inheritdoc />
    public void Pause(IReadOnlyList<SourcePartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        List<TopicPartition>? active = null;
        foreach (var p in partitions)
        {
            _wantPaused.Add(p);
            if (IsActive(p))
            {
                (active ??= []).Add(ToTopicPartition(p));
            }
        }

        if (active is not null)
        {
            SetPaused(active, paused: true);
        }
    }

    /// <inheritdoc />
    public void Resume(IReadOnlyList<SourcePartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        List<TopicPartition>? active = null;
        foreach (var p in partitions)
        {
            _wantPaused.Remove(p);
            if (IsActive(p))
            {
                (active ??= []).Add(ToTopicPartition(p));
            }
        }

        if (active is not null)
        {
            SetPaused(active, paused: false);
        }
    }

    /// <inheritdoc />
    public void Seek(SourcePartition partition, long offset)
    {
        _pendingSeeks[partition] = offset;
        if (IsActive(partition))
        {
            TrySeek(partition, offset);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Answered from what this member fetched at assignment and committed since, without a broker
    /// request; for a partition being replayed, the replay start until the first commit. A partition
    /// never seen here is asked of the broker.
    /// </remarks>
    public long? GetCommitted(SourcePartition partition)
    {
        if (_committed.TryGetValue(partition, out var known))
        {
            return known;
        }

        var fetched = FetchCommitted([ToTopicPartition(partition)]);
        return fetched.TryGetValue(partition, out var offset) ? offset : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Both figures come from librdkafka's memory without a broker request: the high watermark as of the
    /// last fetch response of the partition, the position as of the last message handed out. A partition
    /// with neither yet (just assigned, nothing fetched) is left out. Safe from any thread.
    /// </remarks>
    public IReadOnlyList<PartitionLag> GetLag()
    {
        if (_disposed || _closed || !_started)
        {
            return [];
        }

        SourcePartition[] held;
        lock (_assignmentLock)
        {
            held = [.. _assignment];
        }

        var lags = new List<PartitionLag>(held.Length);
        foreach (var partition in held)
        {
            try
            {
                var topicPartition = ToTopicPartition(partition);
                var high = _consumer.GetWatermarkOffsets(topicPartition).High;
                var position = _consumer.Position(topicPartition);
                if (high.Value >= 0 && position.Value >= 0)
                {
                    lags.Add(new PartitionLag(partition, high.Value, position.Value));
                }
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException)
            {
                // Revoked or closing meanwhile: no figure for this partition in this scrape.
            }
        }

        return lags;
    }

    /// <inheritdoc />
    /// <remarks>
    /// librdkafka runs the revocation handler for every partition held (so the listener commits what
    /// is durable) and sends LeaveGroup: the others take the partitions over in one rebalance round
    /// instead of after the session timeout.
    /// </remarks>
    public void Close()
    {
        if (_closed || _disposed)
        {
            return;
        }

        _closed = true;
        if (!_started)
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        try
        {
            _consumer.Close();
            _logger.LogInformation("Left consumer group {Group} in {Elapsed} ms", _options.GroupId, watch.ElapsedMilliseconds);
        }
        catch (KafkaException e)
        {
            _logger.LogWarning("Leaving consumer group {Group} failed: {Reason}; the group drops this member after its session timeout", _options.GroupId, e.Error.Reason);
        }
    }

    /// <summary>
    /// Leaves the group if <see cref="Close"/> was not called, without telling the listener (nothing
    /// more is committed), and releases the consumer.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _listener = null;
        Close();
        _disposed = true;
        _consumer.Dispose();
    }

    private void CheckBrokers(CancellationToken cancellationToken)
    {
        Metadata? metadata = null;
        KafkaException? last = null;
        var watch = Stopwatch.StartNew();
        using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();

        // Ask in slices of at most a second, so a stop requested while no broker answers is honoured
        // within about a second instead of after the whole connect timeout.
        while (metadata is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = _options.ConnectTimeout - watch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(
                    $"No Kafka broker at {_options.BootstrapServers} answered within {_options.ConnectTimeout.TotalSeconds:0.#} s{(last is null ? "" : $" ({last.Error.Reason})")}. " +
                    "Check the bootstrap servers, the network and the security settings.", last);
            }

            var asked = Stopwatch.StartNew();
            try
            {
                // All topics: on librdkafka's mock cluster a request naming a topic creates it.
                var answer = admin.GetMetadata(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
                metadata = answer.Brokers.Count > 0 ? answer : null;
            }
            catch (KafkaException e)
            {
                last = e;
            }

            if (metadata is null && asked.Elapsed < TimeSpan.FromMilliseconds(200))
            {
                // An answer that came back at once (a refused connection) is not worth asking again at once.
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
            }
        }

        _logger.LogInformation("Kafka brokers answered in {Elapsed} ms: {Brokers}", watch.ElapsedMilliseconds, string.Join(", ", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}")));
        var existing = metadata.Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        foreach (var topic in _options.Topics)
        {
            if (!topic.StartsWith('^') && !existing.Contains(topic))
            {
                _logger.LogWarning("Topic {Topic} does not exist (yet) at {Brokers}; its partitions are assigned once it does", topic, _options.BootstrapServers);
            }
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        var starts = partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset)).ToList();
        if (partitions.Count == 0)
        {
            return starts;
        }

        try
        {
            var assigned = partitions.Select(FromTopicPartition).ToList();
            lock (_assignmentLock)
            {
                _assignment.UnionWith(assigned);
            }

            _activating.UnionWith(assigned);
            foreach (var p in assigned)
            {
                _pendingSeeks.Remove(p);
            }

            var committed = FetchCommitted(partitions);
            foreach (var p in assigned)
            {
                _committed[p] = committed.TryGetValue(p, out var c) ? c : null;
            }

            if (_options.ReplayFrom is { } replayFrom)
            {
                starts = Replay(assigned, replayFrom, starts);
            }

            _logger.LogDebug("Assigned {Partitions}", string.Join(", ", assigned));
            _listener?.OnAssigned(assigned);
        }
        catch (Exception e)
        {
            Fail("assignment", e);
        }

        return starts;
    }

    private List<TopicPartitionOffset> Replay(List<SourcePartition> assigned, DateTimeOffset replayFrom, List<TopicPartitionOffset> starts)
    {
        var first = assigned.Where(_replayed.Add).ToList();
        if (first.Count == 0)
        {
            return starts;
        }

        var watch = Stopwatch.StartNew();
        var found = OffsetTimeSearch.Find(_config, first.Select(ToTopicPartition).ToList(), replayFrom, _options.ReplaySearchTimeout);
        var result = new List<TopicPartitionOffset>(starts.Count);
        foreach (var start in starts)
        {
            var partition = FromTopicPartition(start.TopicPartition);
            var at = found.FirstOrDefault(f => f.TopicPartition == start.TopicPartition);
            if (at is null)
            {
                result.Add(start);
                continue;
            }

            // Never past the commit: replay re-reads, it does not skip what was never read.
            var offset = _committed.TryGetValue(partition, out var committed) && committed is { } c ? Math.Min(c, at.Offset.Value) : at.Offset.Value;
            _committed[partition] = offset;
            result.Add(new TopicPartitionOffset(start.TopicPartition, offset));
        }

        _logger.LogInformation("Replaying {Count} partitions from {Time:O} (search took {Elapsed} ms): {Starts}", first.Count, replayFrom, watch.ElapsedMilliseconds,
            string.Join(", ", result.Where(r => r.Offset != Offset.Unset).Select(r => $"{r.Topic}[{r.Partition.Value}]@{r.Offset.Value}")));
        return result;
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        if (partitions.Count == 0)
        {
            return;
        }

        var revoked = partitions.Select(p => FromTopicPartition(p.TopicPartition)).ToList();
        try
        {
            _logger.LogDebug("Revoking {Partitions}", string.Join(", ", revoked));
            _listener?.OnRevoking(revoked);
        }
        catch (Exception e)
        {
            Fail("revocation", e);
        }
        finally
        {
            Forget(revoked);
        }
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        if (partitions.Count == 0)
        {
            return;
        }

        var lost = partitions.Select(p => FromTopicPartition(p.TopicPartition)).ToList();
        try
        {
            _logger.LogWarning("Lost {Partitions}: this member was dropped from group {Group}", string.Join(", ", lost), _options.GroupId);
            _listener?.OnLost(lost);
        }
        catch (Exception e)
        {
            Fail("loss", e);
        }
        finally
        {
            Forget(lost);
        }
    }

    private void Forget(List<SourcePartition> partitions)
    {
        lock (_assignmentLock)
        {
            _assignment.ExceptWith(partitions);
        }

        foreach (var p in partitions)
        {
            _activating.Remove(p);
            _wantPaused.Remove(p);
            _pendingSeeks.Remove(p);
            _committed.Remove(p);
        }
    }

    private void Fail(string during, Exception e)
    {
        _logger.LogError(e, "The sink failed while handling a partition {During}; the rebalance completes and the source stops", during);
        _callbackFailure ??= e;
    }

    private void ThrowIfCallbackFailed()
    {
        if (_callbackFailure is { } failure)
        {
            throw new InvalidOperationException($"The Kafka source stopped: handling a rebalance failed ({failure.Message}).", failure);
        }
    }

    /// <summary>Pauses, resumes and seeks that had to wait for librdkafka to activate newly assigned partitions.</summary>
    private void ApplyDeferred()
    {
        if (_activating.Count > 0)
        {
            var pause = new List<TopicPartition>();
            var resume = new List<TopicPartition>();
            foreach (var p in _activating)
            {
                (_wantPaused.Contains(p) ? pause : resume).Add(ToTopicPartition(p));
            }

            _activating.Clear();
            if (pause.Count > 0)
            {
                SetPaused(pause, paused: true);
            }

            if (resume.Count > 0)
            {
                SetPaused(resume, paused: false);
            }
        }

        if (_pendingSeeks.Count > 0)
        {
            foreach (var (partition, offset) in _pendingSeeks.ToList())
            {
                TrySeek(partition, offset);
            }
        }
    }

    private bool IsActive(SourcePartition partition) => !_activating.Contains(partition) && _assignment.Contains(partition);

    private void TrySeek(SourcePartition partition, long offset)
    {
        try
        {
            _consumer.Seek(new TopicPartitionOffset(partition.Topic, partition.Partition, offset));
            _pendingSeeks.Remove(partition);
            _logger.LogDebug("Seeked {Partition} to {Offset}", partition, offset);
        }
        catch (KafkaException e)
        {
            // Typically "erroneous state" while librdkafka has not started fetching the partition:
            // tried again before every poll, and its messages are held back until it works.
            LogLimited("seek", LogLevel.Debug, "Seek of {Position} not taken yet: {Reason}", $"{partition}@{offset}", e.Error.Reason);
        }
    }

    private void SetPaused(List<TopicPartition> partitions, bool paused)
    {
        try
        {
            if (paused)
            {
                _consumer.Pause(partitions);
            }
            else
            {
                _consumer.Resume(partitions);
            }
        }
        catch (KafkaException e)
        {
            _logger.LogWarning("{Action} of {Partitions} failed: {Reason}", paused ? "Pause" : "Resume", string.Join(", ", partitions), e.Error.Reason);
        }
    }

    private Dictionary<SourcePartition, long?> FetchCommitted(IReadOnlyCollection<TopicPartition> partitions)
    {
        var result = new Dictionary<SourcePartition, long?>();
        try
        {
            foreach (var c in _consumer.Committed(partitions, _options.ConnectTimeout))
            {
                result[FromTopicPartition(c.TopicPartition)] = c.Offset.Value >= 0 ? c.Offset.Value : null;
            }
        }
        catch (KafkaException e)
        {
            // Unknown is safe: the engine then rewinds to the first record it received.
            _logger.LogWarning("Reading committed offsets of {Count} partitions failed: {Reason}", partitions.Count, e.Error.Reason);
        }

        return result;
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _logger.LogError("Fatal Kafka error: {Code} {Reason}", error.Code, error.Reason);
            return;
        }

        // librdkafka recovers from these by itself (reconnects, retries); say so once a minute, not per attempt.
        LogLimited(error.Code.ToString(), LogLevel.Warning, "Kafka: {Reason} ({Code})", error.Reason, error.Code);
    }

    private void OnLibrdkafkaLog(LogMessage message)
    {
        // librdkafka repeats a failing connection's log line on every reconnect attempt; the error
        // handler already reports it, so its own lines are warnings at most, once a minute per facility.
        if (message.Level <= SyslogLevel.Warning)
        {
            LogLimited("log:" + message.Facility, LogLevel.Warning, "librdkafka {Facility}: {Message}", message.Facility, message.Message);
        }
        else if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug("librdkafka {Facility}: {Message}", message.Facility, message.Message);
        }
    }

    private void LogLimited(string kind, LogLevel level, string template, params object?[] arguments)
    {
        var now = Environment.TickCount64;
        lock (_lastErrorLog)
        {
            if (_lastErrorLog.TryGetValue(kind, out var last) && now - last < 60_000)
            {
                return;
            }

            _lastErrorLog[kind] = now;
        }

#pragma warning disable CA2254 // the templates are constants of this class
        _logger.Log(level, template, arguments);
#pragma warning restore CA2254
    }

    private static TopicPartition ToTopicPartition(SourcePartition p) => new(p.Topic, p.Partition);

    private static SourcePartition FromTopicPartition(TopicPartition p) => new(p.Topic, p.Partition.Value);
}
