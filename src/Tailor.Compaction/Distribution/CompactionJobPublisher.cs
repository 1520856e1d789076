using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Compaction;

/// <summary>Options of a <see cref="CompactionJobPublisher"/>. Every default is the one stated on the property.</summary>
public sealed class CompactionJobPublisherOptions
{
    /// <summary>The brokers, <c>host:port,host:port</c>. Required.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>The jobs topic. Default <see cref="CompactionWorkerOptions.DefaultTopic"/>.</summary>
    public string Topic { get; set; } = CompactionWorkerOptions.DefaultTopic;

    /// <summary>librdkafka producer properties passed through as they are (security, SASL, …); they win over Tailor's. Default: none.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>How long to wait for a broker to answer before <see cref="CompactionJobPublisher.PublishAsync"/> gives up. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a job may wait for its acknowledgement (librdkafka <c>message.timeout.ms</c>). Default 30 s.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the options and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            throw new ArgumentException("BootstrapServers is required: the brokers of the jobs topic, host:port,host:port.", nameof(BootstrapServers));
        }

        if (string.IsNullOrWhiteSpace(Topic))
        {
            throw new ArgumentException("Topic is required.", nameof(Topic));
        }

        if (ConnectTimeout <= TimeSpan.Zero || DeliveryTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectTimeout and DeliveryTimeout must be positive.", nameof(DeliveryTimeout));
        }
    }
}

/// <summary>Where one published job landed.</summary>
/// <param name="Job">The job.</param>
/// <param name="Key">Its message key (<see cref="CompactionJobMessage.KeyOf"/>).</param>
/// <param name="Position">Its topic, partition and offset.</param>
public sealed record PublishedJob(CompactionJob Job, string Key, TopicPartitionOffset Position);

/// <summary>
/// Publishes planned compaction jobs to the jobs topic, one message per job (<see cref="CompactionJobMessage"/>),
/// for a group of <see cref="CompactionWorker"/>s to run.
/// </summary>
/// <remarks>
/// The producer is idempotent with acknowledgements from all in-sync replicas, so a job is on the
/// topic exactly once per publish when <see cref="PublishAsync"/> returns. Publishing the same plan
/// twice is harmless: a worker finds the manifest of the first run and does nothing. Not thread-safe.
/// </remarks>
public sealed class CompactionJobPublisher : IDisposable
{
    private readonly CompactionJobPublisherOptions _options;
    private readonly ILogger _logger;
    private readonly IProducer<string, byte[]> _producer;

    /// <summary>Creates a publisher; no connection is made until <see cref="PublishAsync"/>.</summary>
    /// <param name="options">Brokers, topic and settings.</param>
    /// <param name="logger">Where librdkafka's warnings go; <see langword="null"/> drops them.</param>
    /// <exception cref="ArgumentException">An option is missing or invalid, or librdkafka refused a setting.</exception>
    public CompactionJobPublisher(CompactionJobPublisherOptions options, ILogger<CompactionJobPublisher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = "tailor-compaction-planner",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = (int)options.DeliveryTimeout.TotalMilliseconds,

            // librdkafka's default hashes keys with CRC32, which is linear: keys that differ in one digit
            // (org-mod-1|W, org-mod-2|W, ...) all land in one partition of a power-of-two topic, and one
            // worker gets a whole window. Murmur2 spreads them, as the Java client does.
            Partitioner = Partitioner.Murmur2,

            // A job names every input segment: a window with thousands of segments makes a message of
            // hundreds of KiB, which compresses well.
            CompressionType = CompressionType.Zstd,
        };
        foreach (var (key, value) in options.Settings)
        {
            config.Set(key, value);
        }

        try
        {
            _producer = new ProducerBuilder<string, byte[]>(config)
                .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
                .SetErrorHandler((_, e) => _logger.LogDebug("librdkafka: {Reason}", e.Reason))
                .Build();
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            throw new ArgumentException($"The Kafka producer settings were refused: {e.Message}", nameof(options), e);
        }
    }

    /// <summary>Publishes jobs and waits until every one is acknowledged.</summary>
    /// <param name="jobs">The jobs, e.g. from <see cref="CompactionPlanner.PlanAllAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the wait (jobs already handed to the producer may still be delivered).</param>
    /// <returns>Where each job landed, in the order given.</returns>
    /// <exception cref="TimeoutException">No broker answered within <see cref="CompactionJobPublisherOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="ProduceException{TKey, TValue}">A job was refused or not acknowledged in time.</exception>
    public async Task<IReadOnlyList<PublishedJob>> PublishAsync(IEnumerable<CompactionJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        EnsureReachable(cancellationToken);
        var plannedAt = DateTimeOffset.UtcNow;
        var list = jobs.ToList();
        var deliveries = new Task<DeliveryResult<string, byte[]>>[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            var message = new Message<string, byte[]> { Key = CompactionJobMessage.KeyOf(list[i]), Value = CompactionJobMessage.Serialize(list[i], plannedAt) };
            deliveries[i] = _producer.ProduceAsync(_options.Topic, message, cancellationToken);
        }

        var results = await Task.WhenAll(deliveries).ConfigureAwait(false);
        var published = new PublishedJob[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            published[i] = new PublishedJob(list[i], results[i].Message.Key, results[i].TopicPartitionOffset);
            _logger.LogInformation("Published {Job} ({Inputs} segments) to {Position}", list[i], list[i].Inputs.Count, results[i].TopicPartitionOffset);
        }

        return published;
    }

    /// <summary>Flushes and closes the producer.</summary>
    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    private void EnsureReachable(CancellationToken cancellationToken)
    {
        // Without this a producer to a wrong address waits for the whole delivery timeout per job.
        using var admin = new DependentAdminClientBuilder(_producer.Handle).Build();
        KafkaReachability.Check(admin, _options.BootstrapServers!, _options.ConnectTimeout, cancellationToken);
    }
}

/// <summary>Turns "no broker answered" into one clear error.</summary>
internal static class KafkaReachability
{
    /// <summary>
    /// Asks for the cluster's metadata in slices of at most a second until a broker answers or
    /// <paramref name="timeout"/> passes, so a stop requested meanwhile is honoured within about a second.
    /// </summary>
    public static void Check(IAdminClient admin, string bootstrapServers, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        KafkaException? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = timeout - watch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw Unreachable(bootstrapServers, timeout, last);
            }

            var asked = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                // All-topics metadata: on librdkafka's mock cluster a request naming a topic would create it.
                var metadata = admin.GetMetadata(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
                if (metadata.Brokers.Count > 0)
                {
                    return;
                }
            }
            catch (KafkaException e)
            {
                last = e;
            }

            if (asked.Elapsed < TimeSpan.FromMilliseconds(200))
            {
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    private static TimeoutException Unreachable(string bootstrapServers, TimeSpan timeout, Exception? inner) =>
        new($"No Kafka broker at {bootstrapServers} answered within {timeout.TotalSeconds:0.#} s: check the broker addresses and that the brokers are up.", inner);
}
