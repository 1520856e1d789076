using System.CommandLine;
using System.Globalization;
using Tailor.Format.Series;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor read FILE --series ORG:METRIC:CONTEXT [--from T] [--to T]</c>: the points of one series of an S-file.</summary>
internal static class ReadCommand
{
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm",
        "yyyy-MM-dd",
    ];

    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "An S-file (.tsf) on local disk (or use --store and --window).", Arity = ArgumentArity.ZeroOrOne };
        var series = new Option<string>("--series") { Description = "The series key, ORG:METRIC:CONTEXT in decimal (e.g. 42:7:9001).", Required = true };
        var from = new Option<string?>("--from") { Description = "First timestamp to print (inclusive): Unix seconds or ISO-8601 UTC, e.g. 2026-11-26T01:00Z." };
        var to = new Option<string?>("--to") { Description = "End of the range (exclusive): Unix seconds or ISO-8601 UTC." };
        var store = new Option<string?>("--store") { Description = "Read from a store's compacted window instead of a file: " + CompactionArguments.StoreHelp };
        var window = new Option<string?>("--window") { Description = "With --store: the window that holds the points, e.g. 2026-11-26T00:00Z/4h." };
        var shard = new Option<string?>("--shard") { Description = "With --store: the shard that holds the org, when you know it (default: the org's own shard org-<id> if compacted, else org-mod-(ORG mod --shards))." };
        var shards = new Option<int>("--shards") { Description = "With --store: shared shards of the shard map.", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of text." };
        var command = new Command("read", """
            Print the points of one series, optionally only those in [--from, --to), from an S-file or
            from a store's compacted window. The series is found with at most three reads (the file's
            tail, one index page, the series' block), and its block's checksum is checked. With --store,
            the window's manifest names its parts and their first and last series, so only the part that
            holds the series is read. Exit codes: 0 printed, 1 series not found or file damaged, 2 bad
            arguments.

            Examples:
              tailor read part-00000.tsf --series 42:7:9001
              tailor read part-00000.tsf --series 42:7:9001 --from 2026-11-26T01:00Z --to 2026-11-26T02:00Z
              tailor read part-00000.tsf --series 42:7:9001 --from 1795654800 --json
              tailor read --store file:///tmp/tailor-data --series 3:5:1234567890 --window 2026-11-26T00:00Z/4h
              tailor read --store s3://metrics/prod --series 1234:12:998877 --window 2026-11-26T04:00Z/4h --shard org-1234
            """)
        {
            file,
            series,
            from,
            to,
            store,
            window,
            shard,
            shards,
            json,
        };
        command.SetAction((parse, cancel) =>
        {
            if (parse.GetValue(store) is { } uri)
            {
                if (parse.GetValue(file) is not null)
                {
                    throw new CliException("Give either a FILE or --store with --window, not both.", ExitCodes.BadArguments);
                }

                if (parse.GetValue(window) is not { } w)
                {
                    throw new CliException("--store needs --window W (e.g. 2026-11-26T00:00Z/4h).", ExitCodes.BadArguments);
                }

                return ReadFromStore.RunAsync(
                    new ReadFromStore.Request(uri, parse.GetValue(series)!, w, parse.GetValue(from), parse.GetValue(to), parse.GetValue(shard), parse.GetValue(shards)),
                    parse.GetValue(json), cancel);
            }

            if (parse.GetValue(file) is not { } path)
            {
                throw new CliException("Say what to read: an S-file path, or --store URI --window W.", ExitCodes.BadArguments);
            }

            return RunAsync(path, parse.GetValue(series)!, parse.GetValue(from), parse.GetValue(to), parse.GetValue(json), cancel);
        });
        return command;
    }

    private static async Task<int> RunAsync(string path, string seriesText, string? fromText, string? toText, bool json, CancellationToken cancel)
    {
        if (!SeriesKey.TryParse(seriesText, out var key))
        {
            throw new CliException($"--series '{seriesText}' is not a series key: write ORG:METRIC:CONTEXT as three unsigned decimal numbers (org < 2^32), e.g. 42:7:9001.", ExitCodes.BadArguments);
        }

        var from = ParseTime("--from", fromText);
        var to = ParseTime("--to", toText);
        if (from is { } f && to is { } t && f >= t)
        {
            throw new CliException($"--from ({f}) must be before --to ({t}): the range is [from, to).", ExitCodes.BadArguments);
        }

        if (!File.Exists(path))
        {
            throw new CliException($"No such file: {path}", ExitCodes.BadArguments);
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        var magic = new byte[4];
        if (await stream.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancel) < 4
            || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic) != SFileFormat.HeaderMagic)
        {
            var what = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic) == Tailor.Format.Segments.SegmentFormat.HeaderMagic
                ? "it is a segment; tailor inspect shows segments" : "it does not start with the magic TSFH";
            throw new CliException($"{path} is not an S-file: {what}.", ExitCodes.Failure);
        }

        try
        {
            using var reader = await SFileReader.OpenAsync(RangeSource.FromStream(stream), cancellationToken: cancel);
            var found = await reader.FindAsync(key, cancel);
            if (found is not { } hit)
            {
                var stats = reader.Layout.Footer.Stats;
                var range = stats.SeriesCount > 0 ? $"{stats.SeriesCount:N0} series, keys {stats.FirstKey} .. {stats.LastKey}" : "no series";
                throw new CliException($"Series {key} is not in {path} ({range}).", ExitCodes.Failure);
            }

            var metadata = hit.Metadata.ToArray();
            var timestamps = new long[hit.Entry.PointCount];
            var values = new double[hit.Entry.PointCount];
            var n = await reader.ReadPointsAsync(hit.Entry, timestamps, values, from, to, cancel);
            if (json)
            {
                JsonOutput.Write(new ReadResult(key.ToString(), key.OrgId, key.MetricId, key.ContextKey, Convert.ToBase64String(metadata),
                    InspectCommand.MetadataPreview(metadata), hit.Entry.PointCount, from, to, n, reader.ReadCount,
                    Enumerable.Range(0, n).Select(i => new PointResult(timestamps[i], InspectCommand.ToTime(timestamps[i]), values[i])).ToArray()));
            }
            else
            {
                Print(path, key, metadata, hit.Entry, from, to, timestamps.AsSpan(0, n), values.AsSpan(0, n), reader.ReadCount);
            }

            return ExitCodes.Success;
        }
        catch (SFileFormatException e)
        {
            throw new CliException($"{path}: {e.Message}", ExitCodes.Failure);
        }
    }

    private static void Print(string path, SeriesKey key, byte[] metadata, SFileIndexEntry entry, long? from, long? to,
        ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, long reads)
    {
        var output = Console.Out;
        output.WriteLine($"series    {key}  (org {key.OrgId}, metric {key.MetricId}, context {key.ContextKey})");
        output.WriteLine($"file      {path}");
        output.WriteLine($"metadata  {metadata.Length} bytes: {InspectCommand.MetadataPreview(metadata)}");
        var range = from is null && to is null ? "all" : $"[{(from is { } f ? Show(f) : "start")}, {(to is { } t ? Show(t) : "end")})";
        output.WriteLine($"points    {timestamps.Length:N0} of {entry.PointCount:N0} in range {range}; {reads} reads of the file");
        for (var i = 0; i < timestamps.Length; i++)
        {
            output.WriteLine($"{InspectCommand.ToTime(timestamps[i]):yyyy-MM-ddTHH:mm:ssZ}  {timestamps[i],11}  {values[i].ToString("R", CultureInfo.InvariantCulture)}");
        }
    }

    private static string Show(long seconds) => $"{InspectCommand.ToTime(seconds):yyyy-MM-ddTHH:mm:ssZ}";

    /// <summary>Unix seconds (an integer) or an ISO-8601 time in UTC (Z, an offset, or none meaning UTC); null when not given.</summary>
    internal static long? ParseTime(string option, string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds;
        }

        if (DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time.ToUnixTimeSeconds();
        }

        throw new CliException($"{option} '{text}' is not a time: write Unix seconds (1795651200) or ISO-8601 UTC (2026-11-26T00:00Z, 2026-11-26T00:00:00Z or 2026-11-26).", ExitCodes.BadArguments);
    }

    internal sealed record ReadResult(string Series, uint OrgId, ulong MetricId, ulong ContextKey, string MetadataBase64, string MetadataText,
        int PointsInFile, long? From, long? To, int PointCount, long RangeReads, PointResult[] Points);

    internal sealed record PointResult(long T, DateTimeOffset Time, double V);
}
