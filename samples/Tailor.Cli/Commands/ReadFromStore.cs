using System.Globalization;
using System.Text;
using Tailor.Compaction;
using Tailor.Compaction.Writing;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>The <c>--store</c> form of <c>tailor read</c>: manifest, then the one part whose key range holds the series, then at most three ranged reads.</summary>
internal static class ReadFromStore
{
    public sealed record Request(string Store, string Series, string Window, string? From, string? To, string? Shard, int SharedShards);

    public static async Task<int> RunAsync(Request request, bool json, CancellationToken cancellationToken)
    {
        if (!SeriesKey.TryParse(request.Series, out var key))
        {
            throw new CliException($"--series: '{request.Series}' is not a series: use ORG:METRIC:CONTEXT, three unsigned decimal numbers, e.g. 42:7:9182736455.", ExitCodes.BadArguments);
        }

        var window = CompactionArguments.ParseWindow(request.Window);
        var from = request.From is null ? window.StartSeconds : CompactionArguments.ParseTime(request.From, "--from").ToUnixTimeSeconds();
        var to = request.To is null ? window.EndSeconds : CompactionArguments.ParseTime(request.To, "--to").ToUnixTimeSeconds();
        if (from >= to)
        {
            throw new CliException($"--from must be before --to ({DateTimeOffset.FromUnixTimeSeconds(from):u} is not before {DateTimeOffset.FromUnixTimeSeconds(to):u}).", ExitCodes.BadArguments);
        }

        if (request.SharedShards is < 1 or > ShardMap.MaxSharedShards)
        {
            throw new CliException($"--shards must be between 1 and {ShardMap.MaxSharedShards}.", ExitCodes.BadArguments);
        }

        ShardName[] candidates = request.Shard is { } named
            ? [CompactionArguments.ParseShard(named)]
            : [ShardName.Dedicated(key.OrgId), ShardName.Shared((uint)(key.OrgId % (uint)request.SharedShards))];
        await using var store = CompactionArguments.OpenStore(request.Store, mustExist: true);
        var (shard, manifest) = await FindManifestAsync(store, candidates, window, cancellationToken);
        if (manifest is null)
        {
            throw new CliException($"No manifest for {string.Join(" or ", candidates.Select(c => c.Value))} in window {window}: the window is not compacted yet "
                + $"(tailor compact --store {request.Store} --shard {candidates[^1].Value} --window {window}), or org {key.OrgId} is routed elsewhere (pass --shard S or --shards N).");
        }

        var part = manifest.Outputs.FirstOrDefault(p => Holds(p, key));
        if (part is null)
        {
            throw new CliException($"Series {key} is not in {shard.Value} {window}: no part of its manifest covers that key ({manifest.Outputs.Count} parts, {manifest.Stats.Series:N0} series).");
        }

        var source = RangeSource.FromDelegate(part.Size, (offset, destination, ct) => new ValueTask<int>(store.ReadAsync(part.Key, offset, destination, ct)));
        SFileReader reader;
        try
        {
            reader = await SFileReader.OpenAsync(source, cancellationToken: cancellationToken);
        }
        catch (SFileFormatException e)
        {
            throw new CliException($"{store.Name}/{part.Key} is not a readable S-file: {e.Message}");
        }

        using (reader)
        {
            var found = await reader.FindAsync(key, cancellationToken);
            if (found is not { } entry)
            {
                throw new CliException($"Series {key} is not in {shard.Value} {window} ({part.Key} covers {part.FirstSeries} to {part.LastSeries} but does not hold it).");
            }

            var metadata = entry.Metadata.ToArray();
            var timestamps = new long[entry.Entry.PointCount];
            var values = new double[entry.Entry.PointCount];
            var count = await reader.ReadPointsAsync(entry.Entry, timestamps, values, from, to, cancellationToken);
            var route = $"{key} in {shard.Value} {window}: {count:N0} of {entry.Entry.PointCount:N0} points in [{DateTimeOffset.FromUnixTimeSeconds(from):u}, {DateTimeOffset.FromUnixTimeSeconds(to):u}) from {part.Key} with {reader.ReadCount} ranged reads";
            if (json)
            {
                JsonOutput.Write(new
                {
                    Series = key.ToString(),
                    Shard = shard.Value,
                    Window = window.ToString(),
                    Part = part.Key,
                    Reads = reader.ReadCount,
                    From = from,
                    To = to,
                    SeriesPoints = entry.Entry.PointCount,
                    Count = count,
                    Metadata = Printable(metadata),
                    Points = Enumerable.Range(0, count).Select(i => new { T = timestamps[i], V = values[i] }).ToArray(),
                });
            }
            else
            {
                await Console.Error.WriteLineAsync(route);
                if (metadata.Length > 0)
                {
                    await Console.Error.WriteLineAsync($"metadata {Printable(metadata)}");
                }

                var output = new StringBuilder();
                for (var i = 0; i < count; i++)
                {
                    output.Append(DateTimeOffset.FromUnixTimeSeconds(timestamps[i]).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))
                        .Append(' ').Append(values[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                }

                await Console.Out.WriteAsync(output.ToString());
            }
        }

        return ExitCodes.Success;
    }

    private static async Task<(ShardName Shard, CompactionManifest? Manifest)> FindManifestAsync(IObjectStore store, ShardName[] candidates, CompactionWindow window, CancellationToken cancellationToken)
    {
        foreach (var shard in candidates)
        {
            var key = ObjectKeys.Manifest(shard, window.Start);
            if (await store.GetInfoAsync(key, cancellationToken) is not { } info)
            {
                continue;
            }

            var bytes = new byte[info.Size];
            await store.ReadAsync(key, 0, bytes, cancellationToken);
            try
            {
                return (shard, CompactionManifest.Parse(bytes));
            }
            catch (FormatException e)
            {
                throw new CliException($"{store.Name}/{key} is unreadable: {e.Message} Recompact the window (tailor compact --force).");
            }
        }

        return (candidates[^1], null);
    }

    private static bool Holds(PartInfo part, SeriesKey key) =>
        SeriesKey.TryParse(part.FirstSeries, out var first) && SeriesKey.TryParse(part.LastSeries, out var last) && first <= key && key <= last;

    /// <summary>Metadata as text when it is printable UTF-8 (tags usually are), else as hex.</summary>
    private static string Printable(byte[] metadata)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(metadata);
            return text.All(c => !char.IsControl(c)) ? text : Convert.ToHexStringLower(metadata);
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToHexStringLower(metadata);
        }
    }
}
