using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// What a scenario with in-process sink workers starts from: a generated workload, two topics of four
/// partitions, a consumer group, a local store in a temporary folder, the shard map, the traffic that
/// produces the workload and a watch on the group's commits.
/// </summary>
internal sealed class InProcessSinkScenario : IAsyncDisposable
{
    private readonly TempFolder _root;

    private InProcessSinkScenario(Figures figures, TempFolder root, GameDayWorkload workload, string[] topics, string group, LocalObjectStore store, KafkaTraffic traffic, GroupWatch watch)
    {
        Figures = figures;
        _root = root;
        Workload = workload;
        Topics = topics;
        Group = group;
        Store = store;
        Traffic = traffic;
        Watch = watch;
        Logs = new FiguresLogs(figures);
    }

    public Figures Figures { get; }

    public GameDayWorkload Workload { get; }

    public string[] Topics { get; }

    public string Group { get; }

    public LocalObjectStore Store { get; }

    public ShardMap Map { get; } = new(8);

    public KafkaTraffic Traffic { get; }

    public GroupWatch Watch { get; }

    public FiguresLogs Logs { get; }

    /// <summary>Where compaction works when the scenario checks its outcome.</summary>
    public string WorkDirectory => Path.Combine(_root.Path, "work");

    /// <summary>Sets the scenario up; <paramref name="name"/> labels its folder, topics and group.</summary>
    public static async Task<InProcessSinkScenario> CreateAsync(KafkaClusterFixture kafka, Figures figures, string name, ulong seed, long points)
    {
        var root = new TempFolder($"gameday-{name}");
        var workload = GameDayWorkload.Generate(seed, points);
        string[] topics = [await kafka.CreateTopicAsync(4, $"{name}-a"), await kafka.CreateTopicAsync(4, $"{name}-b")];
        var group = kafka.NewGroupId(name);
        var storePath = Path.Combine(root.Path, "store");
        Directory.CreateDirectory(storePath);
        var store = new LocalObjectStore(storePath);
        var traffic = new KafkaTraffic(kafka, workload, topics, partitionsPerTopic: 4);
        return new InProcessSinkScenario(figures, root, workload, topics, group, store, traffic, new GroupWatch(kafka, group, traffic.Partitions));
    }

    /// <summary>Reads the outcome from the store (see <see cref="GameDayOutcome"/>).</summary>
    public Task<GameDayOutcome> OutcomeAsync() => GameDayOutcome.ReadAsync(Store, Workload, Map, WorkDirectory, Figures);

    public async ValueTask DisposeAsync()
    {
        Watch.Dispose();
        Traffic.Dispose();
        Logs.Dispose();
        await Store.DisposeAsync();
        _root.Dispose();
    }
}
