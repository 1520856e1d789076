using Confluent.Kafka;

namespace Tailor.Sink.Kafka;

/// <summary>
/// Options of a <see cref="KafkaPayloadSource"/>: the cluster, the topics, the consumer group, and
/// the consumer settings the sink relies on. Every default is the one stated on the property.
/// </summary>
/// <remarks>
/// <para>The source always consumes with <c>enable.auto.commit=false</c> and
/// <c>enable.auto.offset.store=false</c> (offsets are committed only past records whose segment is
/// uploaded), cooperative-sticky assignment (only moved partitions are revoked) and
/// <c>auto.offset.reset=earliest</c> (a new group, or a position below the partition's low
/// watermark, never skips data).</para>
/// <para>Any other librdkafka property (security, TLS, SASL, client rack, fetch sizes…) goes in
/// <see cref="Settings"/>, which is applied last and so wins over the typed properties here.</para>
/// </remarks>
public sealed class KafkaPayloadSourceOptions
{
    /// <summary>librdkafka properties the source sets itself; <see cref="Settings"/> may not change them.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Reserved = new Dictionary<string, string>
    {
        ["bootstrap.servers"] = "set BootstrapServers instead",
        ["group.id"] = "set GroupId instead",
        ["enable.auto.commit"] = "the sink commits only offsets whose records are in uploaded segments",
        ["enable.auto.offset.store"] = "the sink commits explicit offsets",
    };

    /// <summary>The brokers to bootstrap from, <c>host:port</c> joined by commas. Required.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>
    /// The topics the group consumes. Required, at least one. A name starting with <c>^</c> is a
    /// regular expression (librdkafka's pattern subscription). Adding a topic is a configuration
    /// change: the group rebalances by itself.
    /// </summary>
    public IList<string> Topics { get; set; } = [];

    /// <summary>The consumer group every sink worker of one deployment shares. Default <c>tailor-sink</c>.</summary>
    public string GroupId { get; set; } = "tailor-sink";

    /// <summary>The client id brokers log and quota by. Default <c>tailor-sink</c>.</summary>
    public string ClientId { get; set; } = "tailor-sink";

    /// <summary>
    /// How long the group waits for a silent member before it reassigns its partitions
    /// (<c>session.timeout.ms</c>). Default 45 s. Real brokers refuse less than their
    /// <c>group.min.session.timeout.ms</c> (6 s by default); on librdkafka's mock cluster every
    /// rebalance round lasts this minus 1 s, so tests use 3–6 s.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How often the member heartbeats (<c>heartbeat.interval.ms</c>); at most a third of <see cref="SessionTimeout"/>. Default 3 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest the poll loop may go without polling before librdkafka leaves the group
    /// (<c>max.poll.interval.ms</c>). Default 5 minutes: longer than the engine's revocation and stop
    /// deadlines (<see cref="SinkOptions.RevocationDeadline"/>, <see cref="SinkOptions.StopDeadline"/>),
    /// which run inside one poll. Must be at least <see cref="SessionTimeout"/>.
    /// </summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a broker may hold a fetch that found no data (<c>fetch.wait.max.ms</c>). Default 500 ms
    /// (librdkafka's). The mock cluster holds an empty fetch for the whole wait even when data arrives,
    /// so tests use 100 ms.
    /// </summary>
    public TimeSpan FetchWaitMax { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The most message bytes, in KiB, librdkafka prefetches for this consumer
    /// (<c>queued.max.messages.kbytes</c>). Default 16,384 (16 MiB). librdkafka's own default is 64 MiB,
    /// held outside the sink's <see cref="SinkOptions.BufferBudgetBytes"/>; count this figure on top of
    /// the budget when sizing a worker.
    /// </summary>
    public int QueuedMaxMessagesKbytes { get; set; } = 16 * 1024;

    /// <summary>
    /// How long <see cref="KafkaPayloadSource.Start(IPayloadSourceListener)"/> waits for a broker to answer before it fails with
    /// a <see cref="TimeoutException"/> naming the bootstrap servers. Default 30 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Replay: when set, the first time this source is assigned a partition it starts reading at the
    /// first message stamped at or after this time (found with <see cref="OffsetTimeSearch"/>, which
    /// also works where the broker cannot look offsets up by time), so the last hours are read again;
    /// compaction resolves the duplicates. A replay never moves a partition past its committed
    /// offset: the start is the earlier of the two, so nothing unread is skipped. A partition that
    /// comes back to this source later continues from its commit. Default <see langword="null"/>:
    /// partitions start at their committed offsets.
    /// </summary>
    public DateTimeOffset? ReplayFrom { get; set; }

    /// <summary>The limit of each broker request the replay search makes. Default 10 s.</summary>
    public TimeSpan ReplaySearchTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Further librdkafka properties, passed through as given and applied last: security
    /// (<c>security.protocol</c>, <c>sasl.mechanism</c>, <c>sasl.username</c>, <c>sasl.password</c>,
    /// <c>ssl.ca.location</c>…), <c>client.rack</c>, fetch sizes, <c>debug</c>. Keys are matched
    /// case-insensitively and <c>_</c> reads as <c>.</c>, so an environment variable such as
    /// <c>TAILOR_KAFKA__SETTINGS__SASL_PASSWORD</c> sets <c>sasl.password</c>. The properties in the
    /// class remarks cannot be changed here. With <c>group.protocol=consumer</c> (KIP-848) the source
    /// leaves assignment strategy and session timing to the broker. Default: none.
    /// </summary>
    /// <remarks>Values are secrets as often as not: the source never logs them.</remarks>
    public IDictionary<string, string> Settings { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Checks the options and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            throw new ArgumentException("BootstrapServers is required (host:port[,host:port…]).", nameof(BootstrapServers));
        }

        if (Topics is null || Topics.Count == 0 || Topics.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Topics must name at least one topic, and no empty name.", nameof(Topics));
        }

        if (string.IsNullOrWhiteSpace(GroupId))
        {
            throw new ArgumentException("GroupId is required.", nameof(GroupId));
        }

        Positive(SessionTimeout, nameof(SessionTimeout));
        Positive(HeartbeatInterval, nameof(HeartbeatInterval));
        Positive(MaxPollInterval, nameof(MaxPollInterval));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(ReplaySearchTimeout, nameof(ReplaySearchTimeout));
        if (FetchWaitMax < TimeSpan.Zero)
        {
            throw new ArgumentException($"FetchWaitMax must not be negative (was {FetchWaitMax}).", nameof(FetchWaitMax));
        }

        if (HeartbeatInterval * 3 > SessionTimeout)
        {
            throw new ArgumentException($"HeartbeatInterval ({HeartbeatInterval}) must be at most a third of SessionTimeout ({SessionTimeout}).", nameof(HeartbeatInterval));
        }

        if (MaxPollInterval < SessionTimeout)
        {
            throw new ArgumentException($"MaxPollInterval ({MaxPollInterval}) must be at least SessionTimeout ({SessionTimeout}); librdkafka refuses less.", nameof(MaxPollInterval));
        }

        if (QueuedMaxMessagesKbytes < 1)
        {
            throw new ArgumentException($"QueuedMaxMessagesKbytes must be at least 1 (was {QueuedMaxMessagesKbytes}).", nameof(QueuedMaxMessagesKbytes));
        }

        foreach (var (key, value) in Settings ?? new Dictionary<string, string>())
        {
            var name = NormalizeKey(key);
            if (Reserved.TryGetValue(name, out var why))
            {
                throw new ArgumentException($"The Kafka setting '{name}' cannot be set in Settings: {why}.", nameof(Settings));
            }

            if (value is null)
            {
                throw new ArgumentException($"The Kafka setting '{name}' has no value.", nameof(Settings));
            }
        }

        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive (was {value}).", name);
            }
        }
    }

    /// <summary>
    /// The librdkafka configuration of the sink's consumer: the typed properties, the settings the sink
    /// relies on, then <see cref="Settings"/>.
    /// </summary>
    /// <returns>A new configuration; changing it does not change these options.</returns>
    /// <exception cref="ArgumentException">The options are not valid (see <see cref="Validate"/>).</exception>
    public ConsumerConfig ToConsumerConfig()
    {
        Validate();
        var extra = (Settings ?? new Dictionary<string, string>()).ToDictionary(p => NormalizeKey(p.Key), p => p.Value, StringComparer.Ordinal);
        var brokerAssigns = extra.TryGetValue("group.protocol", out var protocol) && string.Equals(protocol, "consumer", StringComparison.OrdinalIgnoreCase);
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            ClientId = ClientId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = false,
            MaxPollIntervalMs = Milliseconds(MaxPollInterval),
            FetchWaitMaxMs = Milliseconds(FetchWaitMax),
            QueuedMaxMessagesKbytes = QueuedMaxMessagesKbytes,
        };
        if (!brokerAssigns)
        {
            // With the KIP-848 protocol the broker owns assignment and session timing; librdkafka
            // refuses these properties there.
            config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
            config.SessionTimeoutMs = Milliseconds(SessionTimeout);
            config.HeartbeatIntervalMs = Milliseconds(HeartbeatInterval);
        }

        foreach (var (key, value) in extra)
        {
            config.Set(key, value);
        }

        return config;
    }

    /// <summary>A librdkafka property name as written in configuration: lower case, <c>_</c> read as <c>.</c>.</summary>
    internal static string NormalizeKey(string key) => key.Trim().ToLowerInvariant().Replace('_', '.');

    private static int Milliseconds(TimeSpan value) => (int)Math.Min(int.MaxValue, Math.Ceiling(value.TotalMilliseconds));
}
