namespace Tailor.Compaction;

/// <summary>
/// Options of a <see cref="CompactionWorker"/>: the jobs topic and consumer group, how jobs are run
/// and retried, how a stop ends. Every default is the one stated on the property. Bound from a
/// configuration section by <c>AddTailorCompactionWorker</c> in this shape:
/// <code>
/// {
///   "Store": "s3://bucket/prefix?endpoint=http://127.0.0.1:9000",
///   "BootstrapServers": "broker1:9092,broker2:9092",
///   "Topic": "tailor-compaction-jobs",
///   "GroupId": "tailor-compaction",
///   "Settings": { "security.protocol": "SASL_SSL" },
///   "Compaction": { "MemoryBudgetBytes": 1073741824, "Parallelism": 4, "WorkDirectory": "/var/tmp/tailor" }
/// }
/// </code>
/// </summary>
public sealed class CompactionWorkerOptions
{
    /// <summary>The default jobs topic: <c>tailor-compaction-jobs</c>.</summary>
    public const string DefaultTopic = "tailor-compaction-jobs";

    /// <summary>The default consumer group of compaction workers: <c>tailor-compaction</c>.</summary>
    public const string DefaultGroupId = "tailor-compaction";

    /// <summary>
    /// The store URI (<c>file:///path</c> or <c>s3://bucket/prefix[?endpoint=URL]</c>) the hosted service
    /// opens when no <c>IObjectStore</c> is registered. The <see cref="CompactionWorker"/> constructor
    /// takes its store directly and ignores this. Default: none.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The brokers, <c>host:port,host:port</c>. Required.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>The jobs topic. Default <see cref="DefaultTopic"/>.</summary>
    public string Topic { get; set; } = DefaultTopic;

    /// <summary>The consumer group every worker of one deployment shares. Default <see cref="DefaultGroupId"/>.</summary>
    public string GroupId { get; set; } = DefaultGroupId;

    /// <summary>
    /// librdkafka consumer properties passed through as they are (security, SASL, <c>session.timeout.ms</c>
    /// for tests, …); they win over Tailor's. Default: none.
    /// </summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>
    /// The group session timeout: a worker that stops heartbeating (a crash) loses its partitions this
    /// long later, and the group reruns its unfinished job. Default 45 s (real brokers refuse under 6 s).
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long to wait for a broker to answer when the worker starts. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts per job before a job that fails for a reason of its own (an input segment gone, data that
    /// cannot be read) is given up: logged as an error, counted, and its offset committed so the
    /// partition's later jobs run; the window keeps its previous manifest (or none) and can be replanned
    /// or run with <c>tailor compact</c>. Failures of the environment (the store unreachable or
    /// throttling, refused credentials, a full local disk) are retried without limit and never give a job
    /// up: they would fail every following job too. Default 3.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The wait before the second attempt of a failed job; it doubles for each further attempt up to <see cref="MaxRetryBackoff"/>. Default 5 s.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts. Default 5 minutes.</summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a stop lets the running job finish before cancelling it (a cancelled job is not
    /// committed: the group runs it again). Keep it under the host's shutdown timeout. Default 20 s.
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a revocation (a rebalance that moves the running job's partition away) waits for the
    /// cancelled job to stop before it lets the rebalance go on. Default 15 s.
    /// </summary>
    public TimeSpan RevokeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How each job runs: memory budget, parallelism, split size, work directory, codec. Default: the
    /// defaults of <see cref="CompactionOptions"/>. <see cref="CompactionOptions.Force"/> must stay false:
    /// re-delivered jobs rely on the manifest check to be no-ops.
    /// </summary>
    public CompactionOptions Compaction { get; set; } = new();

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

        if (string.IsNullOrWhiteSpace(GroupId))
        {
            throw new ArgumentException("GroupId is required.", nameof(GroupId));
        }

        if (SessionTimeout < TimeSpan.FromSeconds(1) || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("SessionTimeout must be at least 1 s and ConnectTimeout positive.", nameof(SessionTimeout));
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"MaxAttempts must be at least 1 (was {MaxAttempts}).", nameof(MaxAttempts));
        }

        if (RetryBackoff < TimeSpan.Zero || MaxRetryBackoff < RetryBackoff || StopTimeout < TimeSpan.Zero || RevokeTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("RetryBackoff, StopTimeout and RevokeTimeout cannot be negative, nor MaxRetryBackoff under RetryBackoff.", nameof(RetryBackoff));
        }

        ArgumentNullException.ThrowIfNull(Compaction);
        if (Compaction.Force)
        {
            throw new ArgumentException("Compaction.Force must be false for a worker: a job delivered again must find its manifest and do nothing.", nameof(Compaction));
        }

        Compaction.Validate();
    }
}
