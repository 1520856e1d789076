using Confluent.Kafka;

namespace Tailor.Testing;

/// <summary>
/// Starts <c>Tailor.KafkaProbe</c>, a consumer-group member in its own process that prints every
/// assignment, message and commit on stdout, and reads its output back.
/// </summary>
/// <remarks>
/// A test project that uses it references <c>tests/Tailor.KafkaProbe</c>, so the probe is built and
/// copied next to the tests (<c>Tailor.KafkaProbe.dll</c> in the test's output folder).
/// </remarks>
public static class KafkaProbe
{
    /// <summary>Path of the probe's assembly next to the running tests.</summary>
    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "Tailor.KafkaProbe.dll");

    /// <summary>Starts a probe that joins <paramref name="groupId"/> and subscribes to <paramref name="topics"/>.</summary>
    /// <param name="bootstrapServers">The cluster to reach.</param>
    /// <param name="groupId">Consumer group.</param>
    /// <param name="topics">Topics to subscribe to.</param>
    /// <param name="commitAfter">When positive, commit what was read once this many messages were read, and never again.</param>
    /// <param name="sessionTimeoutMs">Session timeout of the probe's membership.</param>
    public static ChildProcess Start(string bootstrapServers, string groupId, IEnumerable<string> topics, int commitAfter = -1, int sessionTimeoutMs = 6000)
    {
        List<string> arguments =
        [
            "--bootstrap", bootstrapServers,
            "--group", groupId,
            "--topics", string.Join(',', topics),
            "--session-timeout-ms", sessionTimeoutMs.ToString(),
        ];
        if (commitAfter > 0)
        {
            arguments.AddRange(["--commit-after", commitAfter.ToString()]);
        }

        return ChildProcess.StartDotnet(AssemblyPath, arguments);
    }

    /// <summary>The messages a probe printed, as positions.</summary>
    public static IReadOnlyList<TopicPartitionOffset> Messages(ChildProcess probe) =>
        probe.Lines.Where(l => l.StartsWith("msg ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(p => new TopicPartitionOffset(p[1], int.Parse(p[2]), long.Parse(p[3])))
            .ToList();

    /// <summary>The partitions a probe holds now, replaying its assigned/revoked/lost lines.</summary>
    public static IReadOnlySet<TopicPartition> Assignment(ChildProcess probe)
    {
        var held = new HashSet<TopicPartition>();
        foreach (var line in probe.Lines)
        {
            var kind = line.Split(' ', 2)[0];
            if (kind is "assigned")
            {
                held.UnionWith(ParsePartitions(line));
            }
            else if (kind is "revoked" or "lost")
            {
                held.ExceptWith(ParsePartitions(line));
            }
        }

        return held;
    }

    /// <summary>The offsets of the probe's <c>committed</c> line, or none.</summary>
    public static IReadOnlyList<TopicPartitionOffset> Committed(ChildProcess probe)
    {
        var line = probe.Lines.FirstOrDefault(l => l.StartsWith("committed ", StringComparison.Ordinal));
        if (line is null)
        {
            return [];
        }

        return line.Split(' ').Skip(1).Select(item =>
        {
            var at = item.LastIndexOf('@');
            var slash = item.LastIndexOf('/');
            return new TopicPartitionOffset(item[..slash], int.Parse(item[(slash + 1)..at]), long.Parse(item[(at + 1)..]));
        }).ToList();
    }

    private static IEnumerable<TopicPartition> ParsePartitions(string line) =>
        line.Split(' ').Skip(1).Where(s => s.Length > 0).Select(item =>
        {
            var slash = item.LastIndexOf('/');
            return new TopicPartition(item[..slash], int.Parse(item[(slash + 1)..]));
        });
}
