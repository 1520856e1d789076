using System.Security.Cryptography;
using Tailor.Compaction;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Query.Tests;

/// <summary>One series' points in one (shard, window) of a test store.</summary>
internal sealed record StoredSeries(SeriesKey Key, byte[] Metadata, long[] Timestamps, double[] Values);

/// <summary>
/// Writes test stores the way compaction lays them out: S-files split into parts by key order, each
/// window's <c>_manifest.json</c> written last with the compaction's own manifest model, parts named by
/// generation so a recompaction leaves the old generation's files beside the new ones.
/// </summary>
internal static class TestStore
{
    public static readonly DateTimeOffset Origin = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    public static long T0 => Origin.ToUnixTimeSeconds();

    /// <summary>Writes one generation of one (shard, window) and, when <paramref name="commit"/>, its manifest.</summary>
    /// <returns>The part keys written.</returns>
    public static async Task<IReadOnlyList<string>> WriteWindowAsync(IObjectStore store, ShardName shard, DateTimeOffset windowStart, TimeSpan windowLength,
        IReadOnlyList<StoredSeries> series, string generation, int parts = 1, int pageTarget = SFileWriterOptions.DefaultIndexPageTargetBytes, bool commit = true)
    {
        var ordered = series.OrderBy(s => s.Key).ToArray();
        parts = Math.Max(1, Math.Min(parts, ordered.Length));
        var outputs = new List<Tailor.Compaction.Writing.PartInfo>();
        var keys = new List<string>();
        for (var p = 0; p < parts; p++)
        {
            var slice = ordered.Skip(ordered.Length * p / parts).Take((ordered.Length * (p + 1) / parts) - (ordered.Length * p / parts)).ToArray();
            if (slice.Length == 0)
            {
                continue;
            }

            var builder = new InMemorySFileBuilder(new SFileWriterOptions
            {
                Shard = shard.Value,
                WindowStart = windowStart.ToUnixTimeSeconds(),
                WindowSeconds = (long)windowLength.TotalSeconds,
                IndexPageTargetBytes = pageTarget,
            });
            foreach (var s in slice)
            {
                builder.AddSeries(s.Key, s.Metadata, 1, s.Timestamps, s.Values);
            }

            var bytes = builder.Build();
            var key = ObjectKeys.SeriesFile(shard, windowStart, outputs.Count, generation);
            await store.PutAsync(key, bytes);
            keys.Add(key);
            outputs.Add(new Tailor.Compaction.Writing.PartInfo(key, bytes.Length, slice.Length, slice.Sum(s => (long)s.Timestamps.Length),
                slice[0].Key.ToString(), slice[^1].Key.ToString(), Convert.ToHexStringLower(SHA256.HashData(bytes))));
        }

        if (commit)
        {
            await WriteManifestAsync(store, shard, windowStart, windowLength, generation, outputs);
        }

        return keys;
    }

    public static async Task WriteManifestAsync(IObjectStore store, ShardName shard, DateTimeOffset windowStart, TimeSpan windowLength, string generation,
        IReadOnlyList<Tailor.Compaction.Writing.PartInfo> outputs)
    {
        var manifest = new CompactionManifest
        {
            Shard = shard.Value,
            Window = new CompactionWindow(windowStart, windowLength).ToString(),
            Generation = generation,
            Codec = "tailor",
            Inputs = [],
            Outputs = outputs,
            Stats = new ManifestStats { Series = outputs.Sum(o => o.Series), PointsOut = outputs.Sum(o => o.Points) },
        };
        await store.PutAsync(ObjectKeys.Manifest(shard, windowStart), manifest.ToJson());
    }

    /// <summary>A series with <paramref name="count"/> distinct random timestamps in [start, end) and values of every kind.</summary>
    public static StoredSeries RandomSeries(Random random, SeriesKey key, long start, long end, int count, bool counter = false)
    {
        var timestamps = new SortedSet<long>();
        while (timestamps.Count < Math.Min(count, end - start))
        {
            // Window edges are favoured: the first and last seconds are where ranges cut.
            var t = random.Next(6) switch
            {
                0 => start,
                1 => end - 1,
                _ => start + random.NextInt64(end - start),
            };
            timestamps.Add(t);
        }

        var ts = timestamps.ToArray();
        var values = new double[ts.Length];
        double total = random.Next(1000);
        for (var i = 0; i < values.Length; i++)
        {
            if (counter)
            {
                total = random.Next(20) == 0 ? random.Next(5) : total + random.Next(100);
                values[i] = total;
                continue;
            }

            values[i] = random.Next(14) switch
            {
                0 => double.NaN,
                1 => double.PositiveInfinity,
                2 => double.NegativeInfinity,
                3 => -0.0,
                4 => 0.0,
                5 => random.NextDouble() * 1e300,
                _ => Math.Round((random.NextDouble() - 0.3) * 1000, random.Next(4)),
            };
        }

        var metadata = new byte[random.Next(0, 40)];
        random.NextBytes(metadata);
        return new StoredSeries(key, metadata, ts, values);
    }
}
