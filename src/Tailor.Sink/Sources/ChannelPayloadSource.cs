using Tailor.Format.Payloads;

namespace Tailor.Sink;

/// <summary>
/// An in-process payload source: an application writes payload frames, the sink engine consumes
/// them as it would a Kafka topic, and messages are kept until their offsets are committed (so a
/// failed upload is re-read, exactly as with Kafka).
/// </summary>
/// <remarks>
/// Thread-safe for writers; the engine side is used from the engine's poll thread. Writers wait when
/// <see cref="Capacity"/> messages are not yet committed.
/// </remarks>
public sealed class ChannelPayloadSource : IPayloadSource
{
    private readonly object _gate = new();
    private readonly PartitionLog[] _logs;
    private IPayloadSourceListener? _listener;
    private int _next;
    private bool _closed;
    private bool _completed;

    /// <summary>Creates a source.</summary>
    /// <param name="partitions">The number of partitions messages are spread over (by org id). Default 4.</param>
    /// <param name="capacity">The most uncommitted messages kept before writers wait. Default 100,000.</param>
    /// <param name="topic">The topic name reported on messages. Default "in-process".</param>
    public ChannelPayloadSource(int partitions = 4, int capacity = 100_000, string topic = "in-process")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Topic = topic;
        _logs = Enumerable.Range(0, partitions).Select(p => new PartitionLog(new SourcePartition(topic, p))).ToArray();
    }

    /// <inheritdoc />
    public string Name => $"in-process source '{Topic}'";

    /// <summary>The topic name reported on messages.</summary>
    public string Topic { get; }

    /// <summary>The most uncommitted messages kept before writers wait.</summary>
    public int Capacity { get; }

    /// <summary>The partitions of this source.</summary>
    public IReadOnlyList<SourcePartition> Partitions => [.. _logs.Select(l => l.Partition)];

    /// <summary>Whether every written message has been committed.</summary>
    public bool IsDrained
    {
        get
        {
            lock (_gate)
            {
                return _logs.All(l => l.Committed == l.End);
            }
        }
    }

    /// <summary>The committed offset of every partition.</summary>
    public IReadOnlyDictionary<SourcePartition, long> CommittedOffsets
    {
        get
        {
            lock (_gate)
            {
                return _logs.ToDictionary(l => l.Partition, l => l.Committed);
            }
        }
    }

    /// <summary>Writes one payload frame keyed by its org.</summary>
    /// <returns>The partition and offset the message got.</returns>
    public async ValueTask<SourceOffset> WriteAsync(uint orgId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        var key = new byte[PayloadFormat.KeyLength];
        PayloadFormat.WriteKey(key, orgId);
        return await WriteRawAsync(key, frame, (int)(orgId % (uint)_logs.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a message with any key (or none) to a partition, as a producer could.</summary>
    public async ValueTask<SourceOffset> WriteRawAsync(ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte> value, int partition, CancellationToken cancellationToken = default)
    {
        var log = _logs[partition];
        while (true)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                if (_completed)
                {
                    throw new InvalidOperationException("The source was completed; no more messages can be written.");
                }

                if (log.End - log.Committed < Capacity / _logs.Length + 1)
                {
                    var offset = log.Append(new SourceMessage(log.Partition, log.End, key, value, DateTimeOffset.UtcNow));
                    Monitor.PulseAll(_gate);
                    return new SourceOffset(log.Partition, offset);
                }
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Marks the end of the input: the engine can stop once everything is committed.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Whether <see cref="Complete"/> was called and every message has been received.</summary>
    public bool IsCompletedAndReceived
    {
        get
        {
            lock (_gate)
            {
                return _completed && _logs.All(l => l.Position == l.End);
            }
        }
    }

    /// <inheritdoc />
    public void Start(IPayloadSourceListener listener)
    {
        _listener = listener;
        listener.OnAssigned(Partitions);
    }

    /// <inheritdoc />
    public bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (true)
            {
                for (var i = 0; i < _logs.Length; i++)
                {
                    var log = _logs[(_next + i) % _logs.Length];
                    if (!log.Paused && log.Position < log.End)
                    {
                        message = log.Get(log.Position);
                        log.Position++;
                        _next = (_next + i + 1) % _logs.Length;
                        return true;
                    }
                }

                var wait = deadline - Environment.TickCount64;
                if (wait <= 0 || _closed || cancellationToken.IsCancellationRequested)
                {
                    message = default;
                    return false;
                }

                Monitor.Wait(_gate, (int)Math.Min(wait, 50));
            }
        }
    }

    /// <inheritdoc />
    public bool Commit(IReadOnlyList<SourceOffset> offsets)
    {
        lock (_gate)
        {
            foreach (var o in offsets)
            {
                var log = Find(o.Partition);
                log.Commit(o.Offset);
            }

            Monitor.PulseAll(_gate);
        }

        return true;
    }

    /// <inheritdoc />
    public void Pause(IReadOnlyList<SourcePartition> partitions) => SetPaused(partitions, true);

    /// <inheritdoc />
    public void Resume(IReadOnlyList<SourcePartition> partitions) => SetPaused(partitions, false);

    /// <inheritdoc />
    public void Seek(SourcePartition partition, long offset)
    {
        lock (_gate)
        {
            var log = Find(partition);
            log.Position = Math.Clamp(offset, log.Committed, log.End);
        }
    }

    /// <inheritdoc />
    public long? GetCommitted(SourcePartition partition)
    {
        lock (_gate)
        {
            return Find(partition).Committed;
        }
    }

    /// <inheritdoc />
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    private void SetPaused(IReadOnlyList<SourcePartition> partitions, bool paused)
    {
        lock (_gate)
        {
            foreach (var p in partitions)
            {
                Find(p).Paused = paused;
            }
        }
    }

    private PartitionLog Find(SourcePartition partition) =>
        partition.Topic == Topic && (uint)partition.Partition < (uint)_logs.Length
            ? _logs[partition.Partition]
            : throw new ArgumentException($"{partition} is not a partition of {Name}.", nameof(partition));

    private sealed class PartitionLog(SourcePartition partition)
    {
        // Messages from Committed to End, at _items[_head ..].
        private readonly List<SourceMessage> _items = [];
        private int _head;

        public SourcePartition Partition { get; } = partition;

        public long Committed { get; private set; }

        public long End { get; private set; }

        public long Position { get; set; }

        public bool Paused { get; set; }

        public long Append(SourceMessage message)
        {
            _items.Add(message);
            return End++;
        }

        public SourceMessage Get(long offset) => _items[_head + (int)(offset - Committed)];

        public void Commit(long offset)
        {
            offset = Math.Clamp(offset, Committed, End);
            _head += (int)(offset - Committed);
            Committed = offset;
            if (_head > 1024 && _head > _items.Count / 2)
            {
                _items.RemoveRange(0, _head);
                _head = 0;
            }

            Position = Math.Max(Position, Committed);
        }
    }
}
