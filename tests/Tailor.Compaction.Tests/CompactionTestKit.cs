using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Series;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.Compaction.Tests;

/// <summary>Generated segments in a store, and the reference S-file an independent builder makes of the same points.</summary>
internal sealed class CompactionTestKit : IAsyncDisposable
{
    public static readonly CompactionWindow Window = CompactionWindow.Parse("2026-11-26T00:00Z/4h");

    private CompactionTestKit(DirectoryInfo root, LocalObjectStore store, List<(uint Org, byte[] Frame)> frames, ShardMap map)
    {
        Root = root;
        Store = store;
        Frames = frames;
        Map = map;
    }

    public DirectoryInfo Root { get; }

    public LocalObjectStore Store { get; }

    public List<(uint Org, byte[] Frame)> Frames { get; }

    public ShardMap Map { get; }

    public string WorkDirectory => Path.Combine(Root.FullName, "work");

    public static async Task<CompactionTestKit> CreateAsync(long points, int series = 2000, int orgs = 20, ulong seed = 7, int sharedShards = 4,
        TimeSpan? rotateEvery = null, long? startTime = null)
    {
        var root = Directory.CreateTempSubdirectory("tailor-compaction-");
        Directory.CreateDirectory(Path.Combine(root.FullName, "store"));
        var store = new LocalObjectStore(Path.Combine(root.FullName, "store"));
        var map = new ShardMap(sharedShards);
        var frames = new List<(uint, byte[])>();
        using var generator = new WorkloadGenerator(new WorkloadOptions
        {
            Seed = seed,
            Series = series,
            Orgs = orgs,
            TargetPoints = points,
            StartTime = startTime ?? (Window.StartSeconds - 600),
        });
        await using (var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = map, MaxSegmentAge = rotateEvery ?? TimeSpan.FromMinutes(10) }))
        {
            var buffer = new ArrayBufferWriter<byte>();
            while (generator.TryNext(buffer, out var info))
            {
                var frame = buffer.WrittenSpan.ToArray();
                frames.Add((info.OrgId, frame));
                await writer.WriteAsync(frame);
                buffer.ResetWrittenCount();
            }
        }

        return new CompactionTestKit(root, store, frames, map);
    }

    /// <summary>The S-file that the reference builder writes from every generated point of the shard in the window.</summary>
    public byte[] Reference(ShardName shard, CompactionWindow window)
    {
        var builder = new InMemorySFileBuilder(new SFileWriterOptions
        {
            Shard = shard.Value,
            WindowStart = window.StartSeconds,
            WindowSeconds = (long)window.Length.TotalSeconds,
        });
        using var decoder = new PayloadDecoder();
        var ts = new long[100_000];
        var values = new double[100_000];
        foreach (var (org, frame) in Frames)
        {
            if (Map.Route(org) != shard)
            {
                continue;
            }

            Assert.Equal(PayloadStatus.Ok, decoder.TryDecode(frame, out var payload));
            while (payload.TryReadSeries(out var s))
            {
                Assert.True(s.TryDecodeTimestamps(ts));
                s.DecodeValues(values);
                var key = new SeriesKey(payload.Header.OrgId, s.MetricId, s.ContextKey);
                for (var i = 0; i < s.PointCount; i++)
                {
                    if (window.Contains(ts[i]))
                    {
                        builder.Add(key, s.Metadata, ts[i], values[i], payload.Header.IntakeTime);
                    }
                }
            }
        }

        return builder.Build();
    }

    public async Task<byte[]> ReadAsync(string key)
    {
        var info = await Store.GetInfoAsync(key) ?? throw new FileNotFoundException(key);
        var bytes = new byte[info.Size];
        await Store.ReadAsync(key, 0, bytes);
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Root.Delete(recursive: true);
    }
}
