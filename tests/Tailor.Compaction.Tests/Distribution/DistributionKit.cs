using System.Diagnostics;
using System.Security.Cryptography;
using Confluent.Kafka;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Compaction.Tests.Distribution;

/// <summary>Helpers of the distribution tests: worker events, committed offsets, the built executables.</summary>
internal static class DistributionKit
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Tailor => Path.Combine(AppContext.BaseDirectory, "tailor.dll");

    public static string CompactionHost => Path.Combine(AppContext.BaseDirectory, "Tailor.CompactionHost.dll");

    /// <summary>Worker options for the mock cluster: 6 s sessions (a round lasts 5 s), short fetch waits.</summary>
    public static CompactionWorkerOptions WorkerOptions(KafkaClusterFixture kafka, string topic, string group, string workDirectory) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        Topic = topic,
        GroupId = group,
        SessionTimeout = TimeSpan.FromSeconds(6),
        Settings = { ["fetch.wait.max.ms"] = "100" },
        ConnectTimeout = TimeSpan.FromSeconds(10),
        Compaction = new CompactionOptions { WorkDirectory = workDirectory, Parallelism = 1 },
    };

    /// <summary>The librdkafka settings that give a worker process the same timing.</summary>
    public static string[] MockSettings =>
        ["--kafka-setting", "session.timeout.ms=6000", "--kafka-setting", "heartbeat.interval.ms=1000", "--kafka-setting", "fetch.wait.max.ms=100"];

    /// <summary>The group's committed offsets of a topic's partitions (-1001 where nothing is committed).</summary>
    public static Dictionary<int, long> Committed(KafkaClusterFixture kafka, string group, string topic, int partitions)
    {
        var config = kafka.ConsumerConfig(group);
        using var reader = new ConsumerBuilder<byte[], byte[]>(config).Build();
        var offsets = reader.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10));
        return offsets.ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>The manifest of a job's window, or null.</summary>
    public static async Task<CompactionManifest?> ManifestAsync(IObjectStore store, ShardName shard, CompactionWindow window)
    {
        var key = ObjectKeys.Manifest(shard, window.Start);
        if (await store.GetInfoAsync(key) is not { } info)
        {
            return null;
        }

        var bytes = new byte[info.Size];
        await store.ReadAsync(key, 0, bytes);
        return CompactionManifest.Parse(bytes);
    }

    /// <summary>Key, size and SHA-256 of the bytes actually stored for every part the manifest names.</summary>
    public static async Task<List<(string Key, long Size, string Sha256)>> PartsAsync(IObjectStore store, CompactionManifest manifest)
    {
        var parts = new List<(string, long, string)>();
        foreach (var part in manifest.Outputs)
        {
            var info = await store.GetInfoAsync(part.Key) ?? throw new FileNotFoundException($"{part.Key} is named by the manifest but missing");
            var bytes = new byte[info.Size];
            await store.ReadAsync(part.Key, 0, bytes);
            parts.Add((part.Key, info.Size, Convert.ToHexStringLower(SHA256.HashData(bytes))));
        }

        return parts;
    }

    /// <summary>Copies a local store's segments into a new folder with the same modification times, so sizes and ETags (and generations) match.</summary>
    public static void CopySegments(string from, string to)
    {
        var root = Path.Combine(from, "segments");
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }

    /// <summary>Runs <c>tailor ARGS</c> to its end.</summary>
    public static async Task<(int Code, string Output, string Error)> RunTailorAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Tailor);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}

/// <summary>Records a worker's events and lets a test wait for a condition on them, woken by each event.</summary>
internal sealed class WorkerEventLog
{
    private readonly Lock _lock = new();
    private readonly List<CompactionWorkerEventArgs> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkerEventLog(CompactionWorker worker, Action<CompactionWorkerEventArgs>? inspect = null) =>
        worker.WorkerEvent += (_, e) =>
        {
            inspect?.Invoke(e);
            lock (_lock)
            {
                _events.Add(e);
            }

            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        };

    public IReadOnlyList<CompactionWorkerEventArgs> Events
    {
        get { lock (_lock) { return [.. _events]; } }
    }

    public IEnumerable<CompactionWorkerEventArgs> Finished => Events.Where(e => e.Kind == CompactionWorkerEventKind.JobFinished);

    public async Task WaitForAsync(Func<IReadOnlyList<CompactionWorkerEventArgs>, bool> condition, Task worker, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (condition(Events))
            {
                return;
            }

            if (worker.IsCompleted)
            {
                await worker;
                throw new InvalidOperationException($"The worker stopped before {what}.");
            }

            var left = DistributionKit.Timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No {what} within {DistributionKit.Timeout}; events: {string.Join(", ", Events.Select(e => $"{e.Kind} {e.Job} {e.Outcome}"))}");
            }

            await Task.WhenAny(changed, worker, Task.Delay(left));
        }
    }
}
