using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tailor.Compaction;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// Segments for the compaction game days: a workload written straight into a local store by the sink's
/// <see cref="DirectSegmentWriter"/> (no Kafka: these scenarios break compaction, not the sink), and the
/// comparisons they end with — S-files and manifests against a reference compaction of the same input.
/// </summary>
internal static class SegmentStore
{
    /// <summary>A window in the past that holds every point of a workload generated with <see cref="WindowStart"/>.</summary>
    public static readonly CompactionWindow Window = CompactionWindow.Parse("2026-11-20T00:00Z/4h");

    /// <summary>
    /// The writer id of every segment: fixed, so the keys (and which segment a scenario damages) are the same
    /// on every run, and so are its figures.
    /// </summary>
    public const ulong WriterId = 0x0000_6761_6D65_6461;

    /// <summary>The first timestamp: ten minutes into <see cref="Window"/>, so late points stay inside it.</summary>
    public static long WindowStart => Window.StartSeconds + 600;

    /// <summary>Writes every frame of <paramref name="workload"/> into segments of <paramref name="storePath"/>; returns the segment keys.</summary>
    /// <param name="storePath">The local store's folder.</param>
    /// <param name="workload">The payloads.</param>
    /// <param name="map">The shard map.</param>
    /// <param name="maxSegmentPayloads">Payloads per segment at most (the sink's default is 100,000); segments also rotate every 10 minutes of intake time.</param>
    public static async Task<List<string>> WriteAsync(string storePath, GameDayWorkload workload, ShardMap map, int maxSegmentPayloads = 100_000)
    {
        Directory.CreateDirectory(storePath);
        await using var store = new LocalObjectStore(storePath);
        List<string> keys;
        await using (var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = map, MaxSegmentAge = TimeSpan.FromMinutes(10), MaxSegmentPayloads = maxSegmentPayloads, WriterId = WriterId }))
        {
            foreach (var frame in workload.Frames)
            {
                await writer.WriteAsync(frame.Frame);
            }

            keys = writer.Keys; // complete once the writer is disposed: the last segments upload then
        }

        return keys;
    }

    /// <summary>Copies a local store's segments to another folder with the same modification times, so sizes, ETags and generations match.</summary>
    public static void CopySegments(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(from, ObjectKeys.SegmentsRoot.TrimEnd('/')), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }

    /// <summary>Every object under <c>series/</c> of a local store: key and SHA-256, with each manifest's <c>created_at</c> (the one field that is a clock reading) removed first.</summary>
    public static SortedDictionary<string, string> SeriesObjects(string storePath)
    {
        var objects = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var root = Path.Combine(storePath, ObjectKeys.SeriesRoot.TrimEnd('/'));
        if (!Directory.Exists(root))
        {
            return objects;
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(storePath, file).Replace(Path.DirectorySeparatorChar, '/');
            var bytes = File.ReadAllBytes(file);
            if (key.EndsWith("/_manifest.json", StringComparison.Ordinal))
            {
                var json = JsonNode.Parse(bytes)!.AsObject();
                json.Remove("created_at");
                bytes = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
            }

            objects[key] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        }

        return objects;
    }

    /// <summary>Manifests under <c>series/</c> of a local store.</summary>
    public static int Manifests(string storePath) => SeriesObjects(storePath).Keys.Count(k => k.EndsWith("/_manifest.json", StringComparison.Ordinal));

    /// <summary>The SHA-256 of the S-file the independent builder makes of the workload's points of one shard and window.</summary>
    public static string ReferenceHash(GameDayWorkload workload, ShardMap map, ShardName shard, CompactionWindow window, Func<GeneratedFrame, bool>? include = null) =>
        Convert.ToHexStringLower(SHA256.HashData(workload.Reference(map, shard, window, include)));
}
