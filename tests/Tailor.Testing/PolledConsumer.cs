using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;

namespace Tailor.Testing;

/// <summary>What happened to a consumer's assignment.</summary>
public enum RebalanceKind
{
    /// <summary>Partitions were added (incrementally, with cooperative-sticky).</summary>
    Assigned,

    /// <summary>Partitions were taken away in an orderly rebalance.</summary>
    Revoked,

    /// <summary>Partitions were lost: the member was dropped from the group (session timeout, poll interval exceeded).</summary>
    Lost,
}

/// <summary>One rebalance callback, with the time it ran (since the consumer was created).</summary>
public sealed record RebalanceEvent(RebalanceKind Kind, IReadOnlyList<TopicPartition> Partitions, TimeSpan At);

/// <summary>One consumed message.</summary>
public sealed record ReceivedMessage(TopicPartitionOffset Position, byte[] Key, byte[] Value, Timestamp Timestamp, TimeSpan At);

/// <summary>
/// A group member whose poll loop runs on its own thread, as the sink's does: it records assignment
/// events and messages, and lets a test wait for a condition on them, woken by each event (never by
/// a fixed sleep).
/// </summary>
/// <remarks>
/// Rebalance handlers run inside <c>Consume</c>, so a member's assignment only moves while it
/// polls; this class keeps polling. Calls on the consumer go through <see cref="InvokeAsync{T}"/>,
/// which runs them on the poll thread between two <c>Consume</c> calls.
/// </remarks>
public sealed class PolledConsumer : IAsyncDisposable
{
    private readonly Stopwatch _clock;
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<Action> _calls = new();
    private readonly Lock _lock = new();
    private readonly HashSet<TopicPartition> _assignment = [];
    private readonly List<RebalanceEvent> _events = [];
    private readonly List<ReceivedMessage> _messages = [];
    private readonly List<string> _errors = [];
    private readonly Func<IConsumer<byte[], byte[]>, IReadOnlyList<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>?>? _onAssigned;
    private readonly Action<IConsumer<byte[], byte[]>, IReadOnlyList<TopicPartitionOffset>>? _onRevoked;
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _stop;
    private volatile bool _close;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Builds the consumer, subscribes it to <paramref name="topics"/> and starts polling.</summary>
    /// <param name="name">Name used in messages.</param>
    /// <param name="config">Consumer settings (see <see cref="KafkaClusterFixture.ConsumerConfig"/>).</param>
    /// <param name="topics">Topics to subscribe to.</param>
    /// <param name="onAssigned">Optional: runs in the assignment handler and may return start offsets for the new partitions.</param>
    /// <param name="onRevoked">Optional: runs in the revocation handler, for example to commit.</param>
    /// <param name="clock">Optional shared clock, so events of several members line up.</param>
    public PolledConsumer(
        string name,
        ConsumerConfig config,
        IEnumerable<string> topics,
        Func<IConsumer<byte[], byte[]>, IReadOnlyList<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>?>? onAssigned = null,
        Action<IConsumer<byte[], byte[]>, IReadOnlyList<TopicPartitionOffset>>? onRevoked = null,
        Stopwatch? clock = null)
    {
        Name = name;
        _clock = clock ?? Stopwatch.StartNew();
        _onAssigned = onAssigned;
        _onRevoked = onRevoked;
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, e) => Record(() => _errors.Add(e.Reason)))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .Build();
        _consumer.Subscribe(topics);
        _thread = new Thread(Poll) { IsBackground = true, Name = "poll " + name };
        _thread.Start();
    }

    /// <summary>Name given at construction.</summary>
    public string Name { get; }

    /// <summary>Partitions currently assigned.</summary>
    public IReadOnlySet<TopicPartition> Assignment
    {
        get { lock (_lock) { return _assignment.ToHashSet(); } }
    }

    /// <summary>Every rebalance callback so far, in order.</summary>
    public IReadOnlyList<RebalanceEvent> Events
    {
        get { lock (_lock) { return [.. _events]; } }
    }

    /// <summary>Every message consumed so far, in order.</summary>
    public IReadOnlyList<ReceivedMessage> Messages
    {
        get { lock (_lock) { return [.. _messages]; } }
    }

    /// <summary>Number of messages consumed so far.</summary>
    public int MessageCount
    {
        get { lock (_lock) { return _messages.Count; } }
    }

    /// <summary>Errors reported by the client (consume errors and error events).</summary>
    public IReadOnlyList<string> Errors
    {
        get { lock (_lock) { return [.. _errors]; } }
    }

    /// <summary>
    /// For each partition this member read, the offset after the last message it read: what a
    /// commit of everything consumed sends.
    /// </summary>
    public IReadOnlyList<TopicPartitionOffset> NextOffsets()
    {
        lock (_lock)
        {
            return _messages.GroupBy(m => m.Position.TopicPartition)
                .Select(g => new TopicPartitionOffset(g.Key, g.Max(m => m.Position.Offset.Value) + 1))
                .ToList();
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, re-checking it after every event and message.
    /// </summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>; the message lists the member's events.</exception>
    public async Task WaitForAsync(Func<PolledConsumer, bool> condition, TimeSpan timeout, string? what = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (condition(this))
            {
                return;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || _stopped.Task.IsCompleted)
            {
                throw new TimeoutException($"{Name}: {what ?? "condition"} not reached within {timeout}. {Describe()}");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> (usually about several members, such as "together
    /// they own every partition once") holds, re-checking it after any member's event or message.
    /// </summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>; the message describes every member.</exception>
    public static async Task WaitForAllAsync(IReadOnlyList<PolledConsumer> members, Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var changes = members.Select(m => Volatile.Read(ref m._changed).Task).ToList();
            if (condition())
            {
                return;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{what} not reached within {timeout}. " + string.Join(" | ", members.Select(m => $"{m.Name}: {m.Describe()}")));
            }

            changes.Add(Task.Delay(left));
            await Task.WhenAny(changes);
        }
    }

    /// <summary>
    /// Waits until <paramref name="members"/> together own exactly <paramref name="partitions"/>,
    /// each partition by one member: the group has settled.
    /// </summary>
    /// <returns>
    /// Each member's assignment as read when the group was seen settled, in the order of
    /// <paramref name="members"/>. Assert on these rather than on the members' assignments read again
    /// later: the group can move on (a further round of rebalancing on a loaded machine), and members
    /// read one after another in the middle of a move show a partition twice or not at all.
    /// </returns>
    public static async Task<IReadOnlySet<TopicPartition>[]> WaitForOwnersAsync(IReadOnlyList<PolledConsumer> members, IReadOnlySet<TopicPartition> partitions, TimeSpan timeout)
    {
        IReadOnlySet<TopicPartition>[]? settled = null;
        await WaitForAllAsync(members, () =>
        {
            var snapshot = members.Select(m => m.Assignment).ToArray();
            var owned = snapshot.SelectMany(a => a).ToList();
            if (owned.Count != partitions.Count || !partitions.SetEquals(owned))
            {
                return false;
            }

            settled = snapshot;
            return true;
        }, timeout, $"{partitions.Count} partitions owned once").ConfigureAwait(false);
        return settled!;
    }

    /// <summary>Waits until the member holds at least one partition.</summary>
    public Task WaitForAssignmentAsync(TimeSpan timeout) => WaitForAsync(c => c.Assignment.Count > 0, timeout, "an assignment");

    /// <summary>Runs <paramref name="call"/> on the poll thread between two <c>Consume</c> calls.</summary>
    public Task<T> InvokeAsync<T>(Func<IConsumer<byte[], byte[]>, T> call)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls.Enqueue(() =>
        {
            try
            {
                done.SetResult(call(_consumer));
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>Commits <paramref name="offsets"/> (next offsets to read) on the poll thread.</summary>
    public Task CommitAsync(IEnumerable<TopicPartitionOffset> offsets) =>
        InvokeAsync(c => { c.Commit(offsets); return true; });

    /// <summary>Leaves the group in order (revocation handler, then LeaveGroup) and stops polling.</summary>
    public Task CloseAsync()
    {
        _close = true;
        _stop = true;
        return _stopped.Task;
    }

    /// <summary>Stops polling and disposes the consumer (closing it if <see cref="CloseAsync"/> was not called).</summary>
    public async ValueTask DisposeAsync()
    {
        _stop = true;
        await _stopped.Task;
    }

    /// <summary>The member's assignment, events and errors, for failure messages and test output.</summary>
    public string Describe()
    {
        lock (_lock)
        {
            var events = string.Join("; ", _events.Select(e => $"{e.At.TotalMilliseconds:F0}ms {e.Kind} [{Format(e.Partitions)}]"));
            return $"assignment [{Format(_assignment)}], {_messages.Count} messages, events: {events}; errors: {string.Join("; ", _errors)}";
        }
    }

    /// <summary>Formats partitions as <c>topic/partition</c> pairs.</summary>
    public static string Format(IEnumerable<TopicPartition> partitions) =>
        string.Join(" ", partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value).Select(p => $"{p.Topic}/{p.Partition.Value}"));

    private void Poll()
    {
        try
        {
            while (!_stop)
            {
                while (_calls.TryDequeue(out var call))
                {
                    call();
                }

                try
                {
                    var result = _consumer.Consume(TimeSpan.FromMilliseconds(50));
                    if (result is { IsPartitionEOF: false, Message: not null })
                    {
                        var message = new ReceivedMessage(result.TopicPartitionOffset, result.Message.Key, result.Message.Value, result.Message.Timestamp, _clock.Elapsed);
                        Record(() => _messages.Add(message));
                    }
                }
                catch (ConsumeException e)
                {
                    Record(() => _errors.Add(e.Error.Reason));
                }
            }

            while (_calls.TryDequeue(out var call))
            {
                call();
            }

            if (_close)
            {
                _consumer.Close();
            }
        }
        catch (Exception e)
        {
            Record(() => _errors.Add("poll loop: " + e.Message));
        }
        finally
        {
            _consumer.Dispose();
            _stopped.TrySetResult();
            Signal();
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        Record(() =>
        {
            _assignment.UnionWith(partitions);
            _events.Add(new RebalanceEvent(RebalanceKind.Assigned, partitions.ToArray(), _clock.Elapsed));
        });
        var positions = partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset)).ToList();
        return _onAssigned?.Invoke(consumer, positions) ?? positions;
    }

    private void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        try
        {
            _onRevoked?.Invoke(consumer, partitions);
        }
        catch (KafkaException e)
        {
            // Thrown out of a handler it would leave Consume and end the poll loop; a member that
            // stops polling drops out of the group, which is not what a test of the handler wants.
            Record(() => _errors.Add("revocation handler: " + e.Error.Reason));
        }

        Record(() =>
        {
            _assignment.ExceptWith(partitions.Select(p => p.TopicPartition));
            _events.Add(new RebalanceEvent(RebalanceKind.Revoked, partitions.Select(p => p.TopicPartition).ToArray(), _clock.Elapsed));
        });
    }

    private void OnLost(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        Record(() =>
        {
            _assignment.ExceptWith(partitions.Select(p => p.TopicPartition));
            _events.Add(new RebalanceEvent(RebalanceKind.Lost, partitions.Select(p => p.TopicPartition).ToArray(), _clock.Elapsed));
        });
    }

    private void Record(Action change)
    {
        lock (_lock)
        {
            change();
        }

        Signal();
    }

    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
