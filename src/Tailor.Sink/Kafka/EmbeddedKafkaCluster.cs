using System.Diagnostics;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Sink.Kafka;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock brokers, which speak the real Kafka protocol on
/// loopback ports. Any client, in this process or another, connects to
/// <see cref="BootstrapServers"/> as to a real cluster: producers, consumer groups with
/// cooperative-sticky rebalances, committed offsets. Used by the test fixtures, <c>tailor demo</c>
/// and the benchmarks.
/// </summary>
/// <remarks>
/// <para>The cluster is owned by one Confluent.Kafka client built with <c>test.mock.num.brokers</c>;
/// it lives until <see cref="Dispose"/>. Dispose the clients that use it first, or they log
/// connection errors while they close.</para>
/// <para>What the mock does not do (librdkafka 2.16, measured in <c>docs/kafka-mock-notes.md</c>):
/// CreateTopics from the admin client times out ("waiting for controller"), use
/// <see cref="EnsureTopicAsync"/>; offsets for times answer "end" for every timestamp; each partition
/// keeps only its last <see cref="PartitionLogCapBytes"/> bytes, older messages are dropped even if
/// nobody read them.</para>
/// </remarks>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    /// <summary>Partition count the mock gives a topic created by its first use.</summary>
    public const int AutoCreatedPartitionCount = 4;

    /// <summary>
    /// Bytes of message batches one mock partition keeps (5 MiB); past that, the oldest batches are
    /// deleted and the partition's low watermark moves up, read or not. A partition also keeps at
    /// most <see cref="PartitionLogCapBatches"/> batches.
    /// </summary>
    public const int PartitionLogCapBytes = 5 * 1024 * 1024;

    /// <summary>Message batches one mock partition keeps (100,000); see <see cref="PartitionLogCapBytes"/>.</summary>
    public const int PartitionLogCapBatches = 100_000;

    private readonly IProducer<Null, Null> _owner;
    private readonly IAdminClient _admin;
    private readonly MockClusterApi? _api;
    private readonly SafeHandle? _rdKafka;
    private readonly IntPtr _mockCluster;
    private readonly string? _noApiReason;
    private readonly Lock _lock = new();
    private bool _disposed;

    private EmbeddedKafkaCluster(EmbeddedKafkaClusterOptions options)
    {
        var started = Stopwatch.StartNew();
        var logger = options.Logger ?? NullLogger.Instance;
        var config = new ProducerConfig(new Dictionary<string, string>
        {
            ["test.mock.num.brokers"] = options.BrokerCount.ToString(),
            ["client.id"] = "tailor-embedded-kafka",
        });
        _owner = new ProducerBuilder<Null, Null>(config)
            .SetLogHandler((_, message) => logger.Log(ToLogLevel(message.Level), "{Facility}: {Message}", message.Facility, message.Message))
            .SetErrorHandler((_, error) => logger.LogDebug("{Reason}", error.Reason))
            .Build();
        try
        {
            _admin = new DependentAdminClientBuilder(_owner.Handle).Build();
            _api = MockClusterApi.TryBind(_owner.Handle, out _rdKafka, out _noApiReason);
            if (_api is not null)
            {
                _mockCluster = WithHandle(_api.MockClusterOf);
                if (_mockCluster == IntPtr.Zero)
                {
                    _api = null;
                    _noApiReason = "the owning client has no mock cluster";
                }
            }

            if (_api is null)
            {
                logger.LogWarning("Mock cluster extras unavailable ({Reason}): topics are auto-created with {Partitions} partitions", _noApiReason, AutoCreatedPartitionCount);
            }

            // The brokers listen as soon as the client is built; a metadata round trip proves they
            // answer and lists their addresses as every other client will see them.
            var metadata = _admin.GetMetadata(options.StartTimeout);
            Brokers = metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => $"{b.Host}:{b.Port}").ToArray();
            if (Brokers.Count != options.BrokerCount)
            {
                throw new InvalidOperationException($"The mock cluster reported {Brokers.Count} brokers, {options.BrokerCount} were asked for.");
            }

            BootstrapServers = string.Join(',', Brokers);
            if (options.InitialRebalanceDelay is { } delay && _api is not null)
            {
                WithHandle(rk => { _api.SetInitialRebalanceDelay(_mockCluster, (int)delay.TotalMilliseconds); return 0; });
            }

            foreach (var (topic, partitions) in options.Topics)
            {
                EnsureTopic(topic, partitions, options.StartTimeout);
            }

            StartupTime = started.Elapsed;
        }
        catch
        {
            _admin?.Dispose();
            _owner.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The brokers' addresses, <c>127.0.0.1:port</c> joined by commas, in broker-id order: what any
    /// client (producer, consumer, admin, <c>kcat -b</c>) takes as <c>bootstrap.servers</c>.
    /// </summary>
    public string BootstrapServers { get; }

    /// <summary>Each broker's <c>host:port</c>, in broker-id order (ids start at 1).</summary>
    public IReadOnlyList<string> Brokers { get; }

    /// <summary>Time from the start of <see cref="Start"/> until the brokers answered metadata and the initial topics existed.</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>
    /// Whether the mock's own API was reached, so <see cref="EnsureTopicAsync"/> can choose partition
    /// counts and <see cref="EmbeddedKafkaClusterOptions.InitialRebalanceDelay"/> applies.
    /// </summary>
    public bool SupportsTopicCreation => _api is not null;

    /// <summary>The bootstrap list as the mock itself formats it (for tests that cross-check <see cref="BootstrapServers"/>).</summary>
    internal string? MockBootstrapServers => _api is null ? null : WithHandle(_ => _api.Bootstraps(_mockCluster));

    /// <summary>Starts a cluster and returns when its brokers answer.</summary>
    /// <param name="options">Settings; <c>null</c> for the defaults (3 brokers).</param>
    /// <exception cref="KafkaException">The brokers did not answer within <see cref="EmbeddedKafkaClusterOptions.StartTimeout"/>.</exception>
    public static EmbeddedKafkaCluster Start(EmbeddedKafkaClusterOptions? options = null)
    {
        options ??= new EmbeddedKafkaClusterOptions();
        if (options.BrokerCount is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BrokerCount, "BrokerCount must be between 1 and 64.");
        }

        return new EmbeddedKafkaCluster(options);
    }

    /// <summary>
    /// Makes sure <paramref name="topic"/> exists with <paramref name="partitions"/> partitions:
    /// creates it through the mock's API, or checks the count of an existing topic.
    /// </summary>
    /// <remarks>The topic is visible to every client's next metadata request when the task completes.</remarks>
    /// <exception cref="InvalidOperationException">The topic exists with another partition count (the mock cannot add partitions).</exception>
    /// <exception cref="NotSupportedException">The mock API is unavailable and <paramref name="partitions"/> is not <see cref="AutoCreatedPartitionCount"/>.</exception>
    public Task EnsureTopicAsync(string topic, int partitions, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return Task.Run(() => EnsureTopic(topic, partitions, TimeSpan.FromSeconds(10)), cancellationToken);
    }

    /// <summary>
    /// The partition count of <paramref name="topic"/>, or <c>null</c> when it does not exist.
    /// Reads cluster metadata without creating the topic.
    /// </summary>
    public int? GetPartitionCount(string topic)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // Metadata for all topics: on the mock, a request naming a topic creates it, even from an admin client.
        var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(10));
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError);
        return found?.Partitions.Count;
    }

    /// <summary>
    /// Takes broker <paramref name="brokerId"/> (1 .. <see cref="EmbeddedKafkaClusterOptions.BrokerCount"/>)
    /// down: its connections are closed and new ones refused, as when a broker process dies; or brings
    /// it back up. For tests of what clients do while brokers are unreachable.
    /// </summary>
    /// <param name="brokerId">The broker's id, from 1.</param>
    /// <param name="down"><see langword="true"/> to take it down, <see langword="false"/> to bring it back.</param>
    /// <exception cref="NotSupportedException">The mock cluster's C API could not be bound (the message says why).</exception>
    /// <exception cref="ArgumentOutOfRangeException">No broker has that id.</exception>
    public void SetBrokerDown(int brokerId, bool down = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_api is null)
        {
            throw new NotSupportedException($"Brokers cannot be taken down: {_noApiReason}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(brokerId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokerId, Brokers.Count);
        var code = WithHandle(_ => (int)_api.SetBrokerDown(_mockCluster, brokerId, down));
        if (code != 0)
        {
            throw new InvalidOperationException($"The mock cluster refused to set broker {brokerId} {(down ? "down" : "up")}: {(ErrorCode)code}.");
        }
    }

    /// <summary>Stops the brokers. Clients still connected see the cluster go down.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _admin.Dispose();
        _owner.Dispose();
    }

    private void EnsureTopic(string topic, int partitions, TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var existing = GetPartitionCount(topic);
        if (existing is null)
        {
            if (_api is null)
            {
                if (partitions != AutoCreatedPartitionCount)
                {
                    throw new NotSupportedException($"Cannot create topic '{topic}' with {partitions} partitions: {_noApiReason}.");
                }

                return; // auto-created on first use with the requested count
            }

            var replication = Math.Min(3, Brokers.Count);
            var error = WithHandle(_ => _api.CreateTopic(_mockCluster, topic, partitions, replication));
            if (error is not ErrorCode.NoError and not ErrorCode.TopicAlreadyExists)
            {
                throw new KafkaException(error);
            }

            existing = WaitForTopic(topic, timeout);
        }

        if (existing != partitions)
        {
            throw new InvalidOperationException($"Topic '{topic}' exists with {existing} partitions, not {partitions}; the mock cluster cannot change it.");
        }
    }

    private int WaitForTopic(string topic, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (GetPartitionCount(topic) is { } count)
            {
                return count;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Topic '{topic}' did not appear in metadata within {timeout}.");
            }

            Thread.Sleep(10);
        }
    }

    private T WithHandle<T>(Func<IntPtr, T> call)
    {
        // Keep the client's handle alive for the duration of the native call.
        var added = false;
        try
        {
            _rdKafka!.DangerousAddRef(ref added);
            return call(_rdKafka.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                _rdKafka!.DangerousRelease();
            }
        }
    }

    private static LogLevel ToLogLevel(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}
