using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tailor.Sink;
using Tailor.Sink.Kafka;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>One assignment change, pause, resume or commit a worker's source saw, with when.</summary>
internal sealed record SinkEvent(string Kind, IReadOnlyList<SourcePartition> Partitions, TimeSpan At);

/// <summary>
/// A sink worker in the test process: the product's <see cref="SinkEngine"/> over the product's
/// <see cref="KafkaPayloadSource"/>, on any store (a fault-injecting one, say), with every assignment
/// change, pause and commit recorded. For scenarios that need a decorated store or the process's meters.
/// </summary>
internal sealed class InProcessSinkWorker : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly KafkaPayloadSource _kafka;
    private readonly RecordingSource _source;

    public InProcessSinkWorker(string name, KafkaPayloadSourceOptions kafka, SinkOptions options, IObjectStore store, Stopwatch clock, ILoggerFactory logs)
    {
        Name = name;
        _kafka = new KafkaPayloadSource(kafka, logs.CreateLogger<KafkaPayloadSource>());
        _source = new RecordingSource(_kafka, clock);
        Engine = new SinkEngine(options, store, _source, logs.CreateLogger<SinkEngine>());
        Run = Engine.RunAsync(_stop.Token);
    }

    public string Name { get; }

    /// <summary>The game days' consumer settings: short sessions so a lost member is noticed in seconds.</summary>
    public static KafkaPayloadSourceOptions KafkaOptions(string brokers, string[] topics, string group, TimeSpan maxPollInterval) => new()
    {
        BootstrapServers = brokers,
        Topics = topics,
        GroupId = group,
        SessionTimeout = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        MaxPollInterval = maxPollInterval,
        FetchWaitMax = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };

    /// <summary>The game days' engine settings: segments rotate every 2 s or 400 payloads, commits every 200 ms.</summary>
    public static SinkOptions EngineOptions(ShardMap map, long bufferBudgetBytes) => new()
    {
        ShardMap = map,
        MaxSegmentAge = TimeSpan.FromSeconds(2),
        MaxSegmentPayloads = 400,
        CommitInterval = TimeSpan.FromMilliseconds(200),
        RevocationDeadline = TimeSpan.FromSeconds(15),
        StopDeadline = TimeSpan.FromSeconds(60),
        BufferBudgetBytes = bufferBudgetBytes,
    };

    public SinkEngine Engine { get; }

    public Task Run { get; }

    public IReadOnlyList<SinkEvent> Events => _source.Events;

    /// <summary>The partitions this worker owns according to its source's callbacks.</summary>
    public HashSet<SourcePartition> Owned
    {
        get
        {
            var owned = new HashSet<SourcePartition>();
            foreach (var e in Events)
            {
                if (e.Kind == "assigned")
                {
                    owned.UnionWith(e.Partitions);
                }
                else if (e.Kind is "revoked" or "lost")
                {
                    owned.ExceptWith(e.Partitions);
                }
            }

            return owned;
        }
    }

    public int Count(string kind) => Events.Count(e => e.Kind == kind);

    /// <summary>Every worker's <see cref="Describe"/>, a line each.</summary>
    public static string DescribeAll(IEnumerable<InProcessSinkWorker> workers) => string.Join("\n", workers.Select(w => w.Describe()));

    /// <summary>Waits until every worker owns partitions and together they own all <paramref name="partitions"/>.</summary>
    public static Task WaitForOwnersAsync(IReadOnlyList<InProcessSinkWorker> workers, int partitions) =>
        Waiting.UntilAsync(() => workers.All(w => w.Owned.Count > 0) && workers.Sum(w => w.Owned.Count) == partitions,
            GameDaySettings.Timeout, $"{workers.Count} workers to own the {partitions} partitions", () => DescribeAll(workers));

    public string Describe() =>
        $"{Name} owns [{string.Join(" ", Owned.Order())}] status {Engine.Status}; events: "
        + string.Join("; ", Events.Where(e => e.Kind is not ("committed" or "commit-refused")).Select(e => $"{e.At.TotalSeconds:F1}s {e.Kind} {string.Join(" ", e.Partitions)}"))
        + $"; run {Run.Status} {Run.Exception?.GetBaseException().Message}";

    /// <summary>Graceful stop: the engine completes, uploads and commits, then leaves the group.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Run.WaitAsync(GameDaySettings.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Run.WaitAsync(GameDaySettings.Timeout);
        }
        catch (Exception)
        {
            // The scenario already failed or asserted on it.
        }

        await Engine.DisposeAsync();
        _source.Dispose();
        _stop.Dispose();
    }

    /// <summary>Passes every call to the Kafka source and records assignment changes, pauses, resumes and commits.</summary>
    private sealed class RecordingSource(IPayloadSource inner, Stopwatch clock) : IPayloadSource, IPayloadSourceListener
    {
        private readonly ConcurrentQueue<SinkEvent> _events = new();
        private IPayloadSourceListener? _listener;

        public IReadOnlyList<SinkEvent> Events => [.. _events];

        public string Name => inner.Name;

        public void Start(IPayloadSourceListener listener)
        {
            _listener = listener;
            inner.Start(this);
        }

        public bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken) => inner.TryReceive(timeout, out message, cancellationToken);

        public bool Commit(IReadOnlyList<SourceOffset> offsets)
        {
            var accepted = inner.Commit(offsets);
            Record(accepted ? "committed" : "commit-refused", [.. offsets.Select(o => o.Partition)]);
            return accepted;
        }

        public void Pause(IReadOnlyList<SourcePartition> partitions)
        {
            Record("paused", partitions);
            inner.Pause(partitions);
        }

        public void Resume(IReadOnlyList<SourcePartition> partitions)
        {
            Record("resumed", partitions);
            inner.Resume(partitions);
        }

        public void Seek(SourcePartition partition, long offset) => inner.Seek(partition, offset);

        public long? GetCommitted(SourcePartition partition) => inner.GetCommitted(partition);

        public void Close() => inner.Close();

        public void Dispose() => inner.Dispose();

        void IPayloadSourceListener.OnAssigned(IReadOnlyList<SourcePartition> partitions)
        {
            Record("assigned", partitions);
            _listener!.OnAssigned(partitions);
        }

        void IPayloadSourceListener.OnRevoking(IReadOnlyList<SourcePartition> partitions)
        {
            _listener!.OnRevoking(partitions);
            Record("revoked", partitions);
        }

        void IPayloadSourceListener.OnLost(IReadOnlyList<SourcePartition> partitions)
        {
            _listener!.OnLost(partitions);
            Record("lost", partitions);
        }

        private void Record(string kind, IReadOnlyList<SourcePartition> partitions) => _events.Enqueue(new SinkEvent(kind, [.. partitions], clock.Elapsed));
    }
}

/// <summary>Sends warnings and errors of in-process engines to a scenario's log.</summary>
internal sealed class FiguresLogs(Figures figures, LogLevel minimum = LogLevel.Warning) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(figures, minimum, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(Figures figures, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var failure = exception is null ? string.Empty : " " + exception.GetBaseException().Message;
                figures.Log($"{logLevel.ToString()[..4]} {category}: {formatter(state, exception)}{failure}");
            }
        }
    }
}
