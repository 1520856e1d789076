using Confluent.Kafka;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// Looks at a consumer group from outside: its committed offsets and the partitions' ends. Optionally
/// samples the commits in the background to prove they never move backwards (a stale member's commit would).
/// </summary>
internal sealed class GroupWatch : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _reader;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IReadOnlyList<TopicPartition> _partitions;
    private readonly List<string> _regressions = [];
    private readonly Dictionary<TopicPartition, long> _highest = [];
    private CancellationTokenSource? _sampling;
    private Task? _sampler;

    public GroupWatch(KafkaClusterFixture kafka, string group, IReadOnlyList<TopicPartition> partitions)
    {
        Group = group;
        _partitions = partitions;
        _reader = new ConsumerBuilder<byte[], byte[]>(kafka.ConsumerConfig(group)).SetLogHandler((_, _) => { }).Build();
    }

    public string Group { get; }

    /// <summary>Commits seen by the sampler that were lower than one seen before on the same partition.</summary>
    public IReadOnlyList<string> Regressions
    {
        get { lock (_regressions) { return [.. _regressions]; } }
    }

    /// <summary>How many samples the background sampler took.</summary>
    public int Samples { get; private set; }

    public async Task<Dictionary<TopicPartition, long>> CommittedAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return await Task.Run(() => _reader.Committed(_partitions, TimeSpan.FromSeconds(10))
                .Where(c => c.Offset.Value >= 0)
                .ToDictionary(c => c.TopicPartition, c => c.Offset.Value));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<Dictionary<TopicPartition, long>> EndsAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return await Task.Run(() => _partitions.ToDictionary(p => p, p => _reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Records not yet committed: the sum over partitions of end minus commit.</summary>
    public async Task<long> LagAsync()
    {
        var ends = await EndsAsync();
        var committed = await CommittedAsync();
        return ends.Sum(e => e.Value - committed.GetValueOrDefault(e.Key));
    }

    /// <summary>Waits until every partition's commit is at least <paramref name="targets"/>.</summary>
    public Task WaitForCommitsAsync(IReadOnlyDictionary<TopicPartition, long> targets, TimeSpan timeout, Func<string>? describe = null)
    {
        Dictionary<TopicPartition, long> last = [];
        return Waiting.UntilAsync(
            async () =>
            {
                last = await CommittedAsync();
                return targets.All(t => t.Value <= 0 || (last.TryGetValue(t.Key, out var c) && c >= t.Value));
            },
            timeout,
            "the group's commits to reach their targets",
            () => $"committed {Format(last)}, targets {Format(targets)}. {describe?.Invoke()}");
    }

    /// <summary>Starts sampling the commits every <paramref name="every"/> and noting any that went down.</summary>
    public void StartSampling(TimeSpan every)
    {
        _sampling = new CancellationTokenSource();
        var token = _sampling.Token;
        _sampler = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                var committed = await CommittedAsync();
                Samples++;
                foreach (var (partition, offset) in committed)
                {
                    if (_highest.TryGetValue(partition, out var highest) && offset < highest)
                    {
                        lock (_regressions)
                        {
                            _regressions.Add($"{partition.Topic}/{partition.Partition.Value}: {highest} → {offset}");
                        }
                    }

                    _highest[partition] = Math.Max(offset, _highest.GetValueOrDefault(partition));
                }

                try
                {
                    await Task.Delay(every, token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public async Task StopSamplingAsync()
    {
        if (_sampling is null || _sampler is null)
        {
            return;
        }

        await _sampling.CancelAsync();
        await _sampler;
        _sampling.Dispose();
        _sampling = null;
    }

    public static string Format(IReadOnlyDictionary<TopicPartition, long> offsets) =>
        string.Join(" ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition.Value).Select(o => $"{o.Key.Topic}/{o.Key.Partition.Value}@{o.Value}"));

    public void Dispose()
    {
        _sampling?.Cancel();
        _sampler?.Wait(TimeSpan.FromSeconds(15));
        _reader.Dispose();
        _gate.Dispose();
    }
}

