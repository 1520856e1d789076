using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Tailor.Sink.Kafka;
using Tailor.Sink.Tests.Engine;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.Sink.Tests.Integration;

/// <summary>
/// The sink integration tests run one at a time, after the other tests of the assembly: the
/// process-wide <c>Tailor.Sink</c> meter then counts only the running test's engines, and their
/// worker processes and rebalances do not slow the timing measurements of the Kafka tests on a
/// 2-core machine (nor the other way round).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SinkIntegrationCollection
{
    public const string Name = "Sink integration";
}


/// <summary>Settings the integration tests share: short sessions (a mock rebalance round lasts the session minus 1 s), fast rotation.</summary>
internal static class IntegrationSettings
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static KafkaPayloadSourceOptions Kafka(KafkaClusterFixture kafka, string group, IEnumerable<string> topics) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        Topics = [.. topics],
        GroupId = group,
        SessionTimeout = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        MaxPollInterval = TimeSpan.FromSeconds(60),
        FetchWaitMax = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public static SinkOptions Engine(int maxPayloads = 400) => new()
    {
        ShardMap = new ShardMap(8),
        MaxSegmentPayloads = maxPayloads,
        MaxSegmentAge = TimeSpan.FromSeconds(2),
        CommitInterval = TimeSpan.FromMilliseconds(200),
        RevocationDeadline = TimeSpan.FromSeconds(15),
        StopDeadline = TimeSpan.FromSeconds(30),
        ChunkBytes = 64 * 1024,
    };
}

/// <summary>What a worker's source reported, in order, with times.</summary>
internal sealed record SourceEvent(string Kind, IReadOnlyList<SourcePartition> Partitions, TimeSpan At);

/// <summary>Passes every call to a source and records the assignment changes it reports to the engine.</summary>
internal sealed class ObservedSource(IPayloadSource inner, Stopwatch clock) : IPayloadSource, IPayloadSourceListener
{
    private readonly ConcurrentQueue<SourceEvent> _events = new();
    private IPayloadSourceListener? _listener;

    public IReadOnlyList<SourceEvent> Events => [.. _events];

    public string Name => inner.Name;

    public void Start(IPayloadSourceListener listener)
    {
        _listener = listener;
        inner.Start(this);
    }

    public bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken) => inner.TryReceive(timeout, out message, cancellationToken);

    public bool Commit(IReadOnlyList<SourceOffset> offsets) => inner.Commit(offsets);

    public void Pause(IReadOnlyList<SourcePartition> partitions)
    {
        _events.Enqueue(new SourceEvent("paused", [.. partitions], clock.Elapsed));
        inner.Pause(partitions);
    }

    public void Resume(IReadOnlyList<SourcePartition> partitions)
    {
        _events.Enqueue(new SourceEvent("resumed", [.. partitions], clock.Elapsed));
        inner.Resume(partitions);
    }

    public void Seek(SourcePartition partition, long offset) => inner.Seek(partition, offset);

    public long? GetCommitted(SourcePartition partition) => inner.GetCommitted(partition);

    public void Close() => inner.Close();

    public void Dispose() => inner.Dispose();

    void IPayloadSourceListener.OnAssigned(IReadOnlyList<SourcePartition> partitions)
    {
        _events.Enqueue(new SourceEvent("assigned", [.. partitions], clock.Elapsed));
        _listener!.OnAssigned(partitions);
    }

    void IPayloadSourceListener.OnRevoking(IReadOnlyList<SourcePartition> partitions)
    {
        _listener!.OnRevoking(partitions);
        _events.Enqueue(new SourceEvent("revoked", [.. partitions], clock.Elapsed));
    }

    void IPayloadSourceListener.OnLost(IReadOnlyList<SourcePartition> partitions)
    {
        _listener!.OnLost(partitions);
        _events.Enqueue(new SourceEvent("lost", [.. partitions], clock.Elapsed));
    }
}

/// <summary>A sink worker in this process: a Kafka source and an engine over a store, started and stopped by a test.</summary>
internal sealed class InProcessWorker : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly KafkaPayloadSource _kafka;
    private readonly ObservedSource _source;
    private readonly Task _run;

    public InProcessWorker(string name, KafkaPayloadSourceOptions kafka, SinkOptions options, IObjectStore store, ILoggerFactory logs, Stopwatch? clock = null)
    {
        Name = name;
        _kafka = new KafkaPayloadSource(kafka, logs.CreateLogger<KafkaPayloadSource>());
        _source = new ObservedSource(_kafka, clock ?? Stopwatch.StartNew());
        Engine = new SinkEngine(options, store, _source, logs.CreateLogger<SinkEngine>());
        _run = Engine.RunAsync(_stop.Token);
    }

    public string Name { get; }

    public SinkEngine Engine { get; }

    public IReadOnlyCollection<SourcePartition> Assignment => _kafka.Assignment;

    public IReadOnlyList<SourceEvent> Events => _source.Events;

    public Task Run => _run;

    public string Describe() =>
        $"{Name} [{string.Join(" ", Assignment.Order())}] status {Engine.Status}; events: {string.Join("; ", Events.Select(e => $"{e.At.TotalMilliseconds:F0}ms {e.Kind} {string.Join(" ", e.Partitions)}"))}; run {_run.Status} {_run.Exception?.GetBaseException().Message}";

    /// <summary>Graceful stop: the engine completes, uploads and commits, then leaves the group.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await _run.WaitAsync(IntegrationSettings.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _run.WaitAsync(IntegrationSettings.Timeout);
        }
        catch (Exception)
        {
            // The test already failed or asserted on it.
        }

        await Engine.DisposeAsync();
        _source.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// Test traffic: distinct payload frames, produced round-robin over every partition of the topics
/// (keys are the org ids, not hashed onto partitions), with where each landed.
/// </summary>
internal sealed class Traffic : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly ConcurrentDictionary<int, TopicPartitionOffset> _positions = new();
    private readonly ConcurrentDictionary<TopicPartition, long> _bytes = new();

    public Traffic(KafkaClusterFixture kafka, IReadOnlyList<string> topics, int partitionsPerTopic, int count, int seed, int orgs = 200)
    {
        Topics = topics;
        PartitionsPerTopic = partitionsPerTopic;
        Frames = SinkTestKit.MakeFrames(count, orgs, seed);
        IndexByFrame = new Dictionary<string, int>(count);
        for (var i = 0; i < Frames.Count; i++)
        {
            IndexByFrame.Add(SinkTestKit.FrameId(Frames[i].Frame), i);
        }

        var config = kafka.ProducerConfig();
        config.BatchSize = 1 << 20;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
    }

    public IReadOnlyList<string> Topics { get; }

    public int PartitionsPerTopic { get; }

    public IReadOnlyList<(uint Org, byte[] Frame)> Frames { get; }

    public Dictionary<string, int> IndexByFrame { get; }

    public int Produced => _positions.Count;

    public IReadOnlyList<TopicPartition> Partitions => [.. Topics.SelectMany(t => Enumerable.Range(0, PartitionsPerTopic).Select(p => new TopicPartition(t, p)))];

    public TopicPartitionOffset PositionOf(int index) => _positions[index];

    /// <summary>The partition frame <paramref name="index"/> goes to: round-robin over every partition.</summary>
    public TopicPartition PartitionOf(int index)
    {
        var slot = index % (Topics.Count * PartitionsPerTopic);
        return new TopicPartition(Topics[slot / PartitionsPerTopic], slot % PartitionsPerTopic);
    }

    /// <summary>Produces frames [start, start + count) and waits for every delivery.</summary>
    public async Task ProduceAsync(int start, int count, Func<int, Timestamp>? timestamp = null)
    {
        var deliveries = new List<Task>(count);
        for (var i = start; i < start + count; i++)
        {
            var (org, frame) = Frames[i];
            var message = new Message<byte[]?, byte[]?> { Key = KafkaClusterFixture.OrgKey(org), Value = frame };
            if (timestamp is not null)
            {
                message.Timestamp = timestamp(i);
            }

            var index = i;
            deliveries.Add(_producer.ProduceAsync(PartitionOf(i), message).ContinueWith(
                t =>
                {
                    _positions[index] = t.Result.TopicPartitionOffset;
                    _bytes.AddOrUpdate(t.Result.TopicPartition, frame.Length, (_, b) => b + frame.Length);
                },
                TaskScheduler.Default));
        }

        await Task.WhenAll(deliveries);
    }

    /// <summary>
    /// Produces frames [start, start + count) in batches, never letting a partition hold more than
    /// <paramref name="maxUncommittedBytes"/> above the group's commit: the mock keeps only a
    /// partition's last 5 MiB, read or not.
    /// </summary>
    public async Task ProduceInStepAsync(int start, int count, int batch, GroupOffsets group, long maxUncommittedBytes = 3L << 20, CancellationToken cancellationToken = default)
    {
        for (var i = start; i < start + count; i += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Waiting.UntilAsync(async () => await UncommittedBytesAsync(group) <= maxUncommittedBytes, IntegrationSettings.Timeout, "the sink to catch up with the producer");
            await ProduceAsync(i, Math.Min(batch, start + count - i));
        }
    }

    /// <summary>The most bytes any partition holds above the group's commit (from the frames this producer sent).</summary>
    public async Task<long> UncommittedBytesAsync(GroupOffsets group)
    {
        var committed = await group.CommittedAsync();
        long worst = 0;
        foreach (var partition in Partitions)
        {
            var below = committed.TryGetValue(partition, out var c) ? c : 0;
            long bytes = 0;
            foreach (var (index, position) in _positions)
            {
                if (position.TopicPartition == partition && position.Offset.Value >= below)
                {
                    bytes += Frames[index].Frame.Length;
                }
            }

            worst = Math.Max(worst, bytes);
        }

        return worst;
    }

    /// <summary>The end offset of every partition this producer wrote to.</summary>
    public Dictionary<TopicPartition, long> Ends() =>
        _positions.Values.GroupBy(p => p.TopicPartition).ToDictionary(g => g.Key, g => g.Max(p => p.Offset.Value) + 1);

    public void Dispose() => _producer.Dispose();
}

/// <summary>Reads a group's committed offsets and partitions' watermarks from outside the group.</summary>
internal sealed class GroupOffsets(KafkaClusterFixture kafka, string group, IReadOnlyList<TopicPartition> partitions) : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _reader = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(group)).SetLogHandler((_, _) => { }).Build();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Group => group;

    public async Task<Dictionary<TopicPartition, long>> CommittedAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return await Task.Run(() => _reader.Committed(partitions, TimeSpan.FromSeconds(10))
                .Where(c => c.Offset.Value >= 0)
                .ToDictionary(c => c.TopicPartition, c => c.Offset.Value));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<Dictionary<TopicPartition, long>> HighWatermarksAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return await Task.Run(() => partitions.ToDictionary(p => p, p => _reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Waits until the group's commit of every partition is at <paramref name="ends"/>.</summary>
    public Task WaitForCommitsAsync(IReadOnlyDictionary<TopicPartition, long> ends, TimeSpan timeout, Func<string>? describe = null)
    {
        Dictionary<TopicPartition, long> last = [];
        return Waiting.UntilAsync(
            async () =>
            {
                last = await CommittedAsync();
                return ends.All(e => last.TryGetValue(e.Key, out var c) && c == e.Value);
            },
            timeout,
            "every offset committed",
            () => $"committed {Format(last)}, ends {Format(ends)}. {describe?.Invoke()}");
    }

    public static string Format(IReadOnlyDictionary<TopicPartition, long> offsets) =>
        string.Join(" ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition.Value).Select(o => $"{o.Key.Topic}/{o.Key.Partition.Value}@{o.Value}"));

    public void Dispose()
    {
        _reader.Dispose();
        _gate.Dispose();
    }
}

/// <summary>What a store holds after a run: every frame in every segment, by index of the traffic.</summary>
internal sealed record StoredFrames(List<(string Key, byte[] Frame)> Records, Dictionary<int, int> Copies, List<byte[]> Unknown)
{
    public static async Task<StoredFrames> ReadAsync(IObjectStore store, Traffic traffic)
    {
        var records = await SinkTestKit.ReadAllSegmentsAsync(store);
        var copies = new Dictionary<int, int>();
        var unknown = new List<byte[]>();
        foreach (var (_, frame) in records)
        {
            if (traffic.IndexByFrame.TryGetValue(SinkTestKit.FrameId(frame), out var index))
            {
                copies[index] = copies.GetValueOrDefault(index) + 1;
            }
            else
            {
                unknown.Add(frame);
            }
        }

        return new StoredFrames(records, copies, unknown);
    }

    public IEnumerable<int> Missing(int count) => Enumerable.Range(0, count).Where(i => !Copies.ContainsKey(i));

    public int ExtraCopies => Copies.Values.Sum(c => c - 1);
}

/// <summary>Sends engine, source and store logs to the test output (and nowhere once the test is over).</summary>
internal sealed class TestOutputLogs(ITestOutputHelper output, LogLevel minimum = LogLevel.Information) : ILoggerFactory
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished; its output is closed.
        }
    }

    private sealed class Logger(TestOutputLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var failure = exception is null ? "" : " " + exception.GetBaseException().Message;
                owner.Write($"{owner._clock.Elapsed.TotalSeconds,7:F2}s {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}{failure}");
            }
        }
    }

    private readonly LogLevel _minimum = minimum;
}
