using System.Diagnostics;
using System.Text.Json;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>The config file of a <c>tailor sink</c> worker, with the short timings the game days use on the mock cluster.</summary>
internal sealed record SinkWorkerConfig(string Store, string BootstrapServers, string Group, IReadOnlyList<string> Topics)
{
    public int SharedShards { get; init; } = 8;

    public TimeSpan MaxSegmentAge { get; init; } = TimeSpan.FromSeconds(2);

    public int MaxSegmentPayloads { get; init; } = 400;

    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public long BufferBudgetBytes { get; init; } = 64L << 20;

    /// <summary>The session timeout: a rebalance round on the mock lasts this minus 1 s.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The shard map the workers route with.</summary>
    public ShardMap Map() => new(SharedShards);

    /// <summary>Writes the file and returns its path.</summary>
    public string WriteTo(string path)
    {
        var config = new
        {
            Store,
            ShardMap = new { SharedShards },
            Engine = new
            {
                MaxSegmentAge = MaxSegmentAge.ToString("c"),
                MaxSegmentPayloads,
                CommitInterval = CommitInterval.ToString("c"),
                BufferBudgetBytes,
                RevocationDeadline = "00:00:15",
                StopDeadline = "00:00:30",
            },
            Kafka = new
            {
                BootstrapServers,
                Topics,
                GroupId = Group,
                SessionTimeout = SessionTimeout.ToString("c"),
                HeartbeatInterval = "00:00:01",
                MaxPollInterval = MaxPollInterval.ToString("c"),
                FetchWaitMax = "00:00:00.100",
                ConnectTimeout = "00:00:15",
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}

/// <summary>
/// One <c>tailor sink --config FILE --print-commits</c> process: its event lines (started, assigned,
/// revoked, lost, committed, commit-refused, stopped) parsed into what it owns and what it committed, and
/// the signals a game day sends it (SIGKILL, SIGSTOP, SIGCONT, SIGTERM).
/// </summary>
internal sealed class SinkWorkerProcess : IAsyncDisposable
{
    private SinkWorkerProcess(string name, ChildProcess process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public ChildProcess Process { get; }

    public int Id => Process.Id;

    public static SinkWorkerProcess Start(string name, string configPath, IReadOnlyDictionary<string, string>? environment = null) =>
        new(name, ChildProcess.StartDotnet(GameDaySettings.Tailor, ["sink", "--config", configPath, "--print-commits"], environment));

    /// <summary>The writer id the worker announced (every segment key it writes starts with it).</summary>
    public async Task<string> WriterIdAsync()
    {
        var line = await Process.WaitForLineAsync(l => l.StartsWith("started writer ", StringComparison.Ordinal), GameDaySettings.Timeout);
        return line.Split(' ')[2];
    }

    /// <summary>The partitions (<c>topic/p</c>) this worker owns according to its own event lines, from line <paramref name="fromLine"/> on.</summary>
    public HashSet<string> Owned(int fromLine = 0)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Process.Lines.Skip(fromLine))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            switch (words[0])
            {
                case "assigned":
                    owned.UnionWith(words.Skip(1));
                    break;
                case "revoked" or "lost":
                    owned.ExceptWith(words.Skip(1));
                    break;
            }
        }

        return owned;
    }

    /// <summary>Event lines of one kind (<c>assigned</c>, <c>revoked</c>, <c>lost</c>, <c>committed</c>, <c>commit-refused</c>) from line <paramref name="fromLine"/> on.</summary>
    public IReadOnlyList<string> Events(string kind, int fromLine = 0) =>
        [.. Process.Lines.Skip(fromLine).Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal) || l == kind)];

    /// <summary>Waits until the worker's own lines say it owns at least one partition.</summary>
    public Task WaitForPartitionsAsync() =>
        Waiting.UntilAsync(() => Owned().Count > 0 || Process.HasExited, GameDaySettings.Timeout, $"{Name} to be assigned partitions", Process.Describe);

    /// <summary>SIGKILL: no handler runs, nothing is flushed, uploaded or committed.</summary>
    public async Task KillAsync()
    {
        Process.Kill();
        await Process.WaitForExitAsync(GameDaySettings.Timeout);
    }

    /// <summary>SIGSTOP: every thread of the process stops (heartbeats included) until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("CONT");

    /// <summary>SIGTERM and the wait for a graceful exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        Process.Terminate();
        var code = await Process.WaitForExitAsync(GameDaySettings.Timeout);

        // The exit can be seen before the last lines are read: wait for the end of the output.
        await Process.WaitForLineAsync(_ => false, TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        return code;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private void Signal(string signal)
    {
        using var kill = System.Diagnostics.Process.Start(new ProcessStartInfo("kill", [$"-{signal}", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {Id} failed with exit code {kill.ExitCode}.");
        }
    }
}
