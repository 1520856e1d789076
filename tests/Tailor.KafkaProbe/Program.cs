// A consumer-group member that reports everything on stdout, one fact per line, so a test in
// another process can follow it and kill it:
//   started                              subscribed
//   assigned t/p t/p ...                 partitions added (cooperative: incremental)
//   revoked t/p ...  |  lost t/p ...     partitions taken away
//   msg <topic> <partition> <offset>     one per message (unless --quiet)
//   committed t/p@offset ...             after an explicit commit
//   error <reason>                       client or commit error
//   closed                               left the group after SIGTERM / Ctrl-C
// Arguments: --bootstrap S --group G --topics a,b [--session-timeout-ms 6000]
//            [--heartbeat-interval-ms 1000] [--commit-after N] [--quiet]
//   --commit-after N: once N messages were read, commit what was read (offset + 1 per
//   partition) and print "committed"; later messages are never committed.
using Confluent.Kafka;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"unexpected argument {args[i]}");
        return 2;
    }

    var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
    options[args[i][2..]] = hasValue ? args[++i] : "true";
}

string Required(string name) => options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");
int Number(string name, int fallback) => options.TryGetValue(name, out var value) ? int.Parse(value) : fallback;

var sessionTimeout = Number("session-timeout-ms", 6000);
var config = new ConsumerConfig
{
    BootstrapServers = Required("bootstrap"),
    GroupId = Required("group"),
    EnableAutoCommit = false,
    EnableAutoOffsetStore = false,
    AutoOffsetReset = AutoOffsetReset.Earliest,
    PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
    SessionTimeoutMs = sessionTimeout,
    HeartbeatIntervalMs = Number("heartbeat-interval-ms", Math.Min(1000, sessionTimeout / 3)),
    MaxPollIntervalMs = Math.Max(sessionTimeout, 30_000),
    FetchWaitMaxMs = 100,
};
var commitAfter = Number("commit-after", -1);
var quiet = options.ContainsKey("quiet");

static string Format(IEnumerable<TopicPartition> partitions) => string.Join(' ', partitions.Select(p => $"{p.Topic}/{p.Partition.Value}"));

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });

using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
    .SetLogHandler((_, _) => { })
    .SetErrorHandler((_, e) => Console.WriteLine($"error {e.Reason}"))
    .SetPartitionsAssignedHandler((_, partitions) => Console.WriteLine($"assigned {Format(partitions)}"))
    .SetPartitionsRevokedHandler((_, partitions) => Console.WriteLine($"revoked {Format(partitions.Select(p => p.TopicPartition))}"))
    .SetPartitionsLostHandler((_, partitions) => Console.WriteLine($"lost {Format(partitions.Select(p => p.TopicPartition))}"))
    .Build();
consumer.Subscribe(Required("topics").Split(','));
Console.WriteLine("started");

var next = new Dictionary<TopicPartition, long>();
var read = 0;
while (!stop.IsCancellationRequested)
{
    ConsumeResult<byte[], byte[]>? result;
    try
    {
        result = consumer.Consume(TimeSpan.FromMilliseconds(100));
    }
    catch (ConsumeException e)
    {
        Console.WriteLine($"error {e.Error.Reason}");
        continue;
    }

    if (result?.Message is null)
    {
        continue;
    }

    read++;
    next[result.TopicPartition] = result.Offset.Value + 1;
    if (!quiet)
    {
        Console.WriteLine($"msg {result.Topic} {result.Partition.Value} {result.Offset.Value}");
    }

    if (read == commitAfter)
    {
        var offsets = next.Select(p => new TopicPartitionOffset(p.Key, p.Value)).ToList();
        try
        {
            consumer.Commit(offsets);
            Console.WriteLine($"committed {string.Join(' ', offsets.Select(o => $"{o.Topic}/{o.Partition.Value}@{o.Offset.Value}"))}");
        }
        catch (KafkaException e)
        {
            Console.WriteLine($"error commit: {e.Error.Reason}");
        }
    }
}

consumer.Close();
Console.WriteLine("closed");
return 0;
