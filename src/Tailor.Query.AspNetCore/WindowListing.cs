using System.Text.Json;
using Tailor.Storage;

namespace Tailor.Query.AspNetCore;

/// <summary>The compacted windows of a range, from the manifests in the store.</summary>
internal static class WindowListing
{
    /// <summary>
    /// Lists <c>series/</c> (or one shard's prefix) for manifests of the range's windows and reads each:
    /// generation, parts, points, series and bytes. A listing of the whole store's series keys: fine for
    /// an explorer, not for a hot path.
    /// </summary>
    public static async Task<List<WindowItem>> ListAsync(IObjectStore store, IReadOnlyList<QueryWindow> windows, ShardName? shard, CancellationToken cancellationToken)
    {
        var wanted = windows.ToDictionary(w => w.Start, w => w);
        var prefix = shard is { } one ? ObjectKeys.SeriesShardPrefix(one) : "series/";
        var manifests = new List<(ShardName Shard, QueryWindow Window, string Key)>();
        await foreach (var info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (ObjectKeys.TryParseManifest(info.Key, out var found, out var start) && wanted.TryGetValue(start, out var window))
            {
                manifests.Add((found, window, info.Key));
            }
        }

        var items = new List<WindowItem>(manifests.Count);
        foreach (var (found, window, key) in manifests.OrderBy(m => m.Window.Start).ThenBy(m => m.Shard.Value, StringComparer.Ordinal))
        {
            await using var stream = await store.OpenReadAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var manifest = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = manifest.RootElement;
            var stats = root.TryGetProperty("stats", out var s) ? s : default;
            items.Add(new WindowItem(found.Value, window.StartSeconds, window.EndSeconds,
                root.TryGetProperty("generation", out var generation) ? generation.GetString() ?? string.Empty : string.Empty,
                root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array ? outputs.GetArrayLength() : 0,
                Number(stats, "points_out"), Number(stats, "series"), Number(stats, "bytes_out")));
        }

        return items;
    }

    private static long Number(JsonElement stats, string name) =>
        stats.ValueKind == JsonValueKind.Object && stats.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;
}
