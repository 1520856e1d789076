using System.CommandLine;
using Tailor.Format.Codecs;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Series;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor inspect FILE</c>: header, footer, stats and index of a segment or S-file, and the damage found.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A segment (.tseg) or S-file (.tsf): a local path or file:// URI, or with --store the object's key in that store." };
        var store = new Option<string?>("--store") { Description = "Read FILE as a key of this store (e.g. segments/org-mod-3/2026-11-26T05/a7/….tseg): " + CompactionArguments.StoreHelp };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of text." };
        var blocks = new Option<int>("--blocks") { Description = "How many block or index entries to list.", DefaultValueFactory = _ => 10 };
        var command = new Command("inspect", """
            Show what a segment or S-file holds: header, footer stats, block index, and every damaged
            record found by reading the whole file (records are checked, payloads decoded). For an
            S-file: header, footer stats, codec, index pages, the first index entries, bytes per point,
            and a full scan that checks every index page and block checksum and decodes every block.

            Examples:
              tailor inspect ./tailor-data/segments/org-mod-3/2026-11-26T05/a7/00c0ffee00c0ffee-000001.tseg
              tailor inspect part-0000.tsf --json
              tailor inspect file:///tmp/tailor-data/series/org-mod-3/2026-11-26T00:00Z/part-00000.tsf
              tailor inspect --store s3://metrics/prod series/org-mod-3/2026-11-26T00:00Z/part-00000.tsf
            """)
        {
            file,
            store,
            json,
            blocks,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(file)!;
            if (parse.GetValue(store) is { } uri)
            {
                return await InspectObjectAsync(uri, name, parse.GetValue(json), parse.GetValue(blocks), cancellationToken);
            }

            if (name.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
            {
                if (!Uri.TryCreate(name, UriKind.Absolute, out var local) || !local.IsFile)
                {
                    throw new CliException($"'{name}' is not a file URI: write file:///absolute/path.", ExitCodes.BadArguments);
                }

                name = local.LocalPath;
            }
            else if (name.Contains("://", StringComparison.Ordinal))
            {
                throw new CliException($"'{name}' is a URI: give the store and the key apart, e.g. tailor inspect --store s3://bucket/prefix segments/…/x.tseg.", ExitCodes.BadArguments);
            }

            return Run(name, parse.GetValue(json), parse.GetValue(blocks));
        });
        return command;
    }

    /// <summary>Copies one object of a store to a temporary file, inspects it there, and deletes the copy.</summary>
    private static async Task<int> InspectObjectAsync(string uri, string key, bool json, int blockCount, CancellationToken cancellationToken)
    {
        await using var objects = CompactionArguments.OpenStore(uri, mustExist: true);
        var trimmed = key.TrimStart('/');
        if (await objects.GetInfoAsync(trimmed, cancellationToken) is null)
        {
            throw new CliException($"No object {trimmed} in {objects.Name}.", ExitCodes.BadArguments);
        }

        var extension = Path.GetExtension(trimmed);
        var copy = Path.Combine(Path.GetTempPath(), $"tailor-inspect-{Guid.NewGuid():N}{extension}");
        try
        {
            await using (var source = await objects.OpenReadAsync(trimmed, cancellationToken: cancellationToken))
            await using (var target = File.Create(copy))
            {
                await source.CopyToAsync(target, cancellationToken);
            }

            return Run(copy, json, blockCount, $"{objects.Name.TrimEnd('/')}/{trimmed}");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <param name="path">The local file to read.</param>
    /// <param name="json">Print JSON.</param>
    /// <param name="blockCount">Entries to list.</param>
    /// <param name="shownAs">The name to report instead of <paramref name="path"/> (a store's URI and key for a downloaded copy).</param>
    private static int Run(string path, bool json, int blockCount, string? shownAs = null)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"No such file: {path}", ExitCodes.BadArguments);
        }

        Span<byte> magic = stackalloc byte[4];
        using (var probe = File.OpenRead(path))
        {
            if (probe.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
            {
                magic.Clear();
            }
        }

        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic) == SegmentFormat.HeaderMagic || path.EndsWith(SegmentFormat.FileExtension, StringComparison.Ordinal))
        {
            var report = InspectSegment(path, blockCount);
            report = shownAs is null ? report : report with { Path = shownAs };
            if (json)
            {
                JsonOutput.Write(report);
            }
            else
            {
                PrintSegment(report);
            }

            return report.LostRecords > 0 || report.BadPayloads > 0 || report.Incomplete ? ExitCodes.Failure : ExitCodes.Success;
        }

        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic) == SFileFormat.HeaderMagic || path.EndsWith(SFileFormat.FileExtension, StringComparison.Ordinal))
        {
            var report = InspectSFile(path, blockCount);
            report = shownAs is null ? report : report with { Path = shownAs };
            if (json)
            {
                JsonOutput.Write(report);
            }
            else
            {
                PrintSFile(report);
            }

            return report.Damage is null ? ExitCodes.Success : ExitCodes.Failure;
        }

        throw new CliException($"{path} is neither a segment (magic TSEG) nor an S-file (magic TSFH).", ExitCodes.Failure);
    }

    internal static SFileReport InspectSFile(string path, int entryCount)
    {
        using var mapped = new MappedSFile(path);
        SFileHeader? header = null;
        SFileLayout? layout = null;
        try
        {
            header = SFileHeader.Read(mapped.GetSpan(0, (int)Math.Min(mapped.Length, SFileFormat.HeaderFixedLength + SFileFormat.MaxShardNameBytes)));
            var tail = (int)Math.Min(mapped.Length, SFileLayout.DefaultTailBytes);
            layout = SFileLayout.Parse(mapped.GetSpan(mapped.Length - tail, tail), mapped.Length, out var needed)
                ?? SFileLayout.Parse(mapped.GetSpan(mapped.Length - needed, needed), mapped.Length, out _);
        }
        catch (SFileFormatException e)
        {
            return new SFileReport("s-file", path, mapped.Length, header is null ? null : Describe(header), null, null, [], null,
                new SFileScanInfo(0, 0, false), new DamageInfo(e.Message, e.Offset));
        }

        var footer = layout!.Footer;
        var stats = footer.Stats;
        var entries = new List<SFileEntryInfo>();
        long series = 0;
        long points = 0;
        DamageInfo? damage = null;
        var timestamps = new long[Math.Max(1, stats.MaxPointCount)];
        var values = new double[timestamps.Length];
        try
        {
            var scanner = new SFileScanner(mapped);
            try
            {
                while (scanner.MoveNext())
                {
                    points += scanner.ReadPoints(timestamps, values);
                    series++;
                    if (entries.Count < entryCount)
                    {
                        var e = scanner.Current;
                        entries.Add(new SFileEntryInfo(e.Key.ToString(), e.BlockOffset, e.BlockLength, e.PointCount, e.MinTimestamp, e.MaxTimestamp,
                            e.MetadataLength, MetadataPreview(scanner.Metadata)));
                    }
                }
            }
            finally
            {
                scanner.Dispose();
            }
        }
        catch (SFileFormatException e)
        {
            damage = new DamageInfo(e.Message, e.Offset);
        }

        var pages = footer.Pages;
        var compressed = 0;
        long minLength = long.MaxValue, maxLength = 0, minEntries = long.MaxValue, maxEntries = 0;
        foreach (var page in pages)
        {
            compressed += mapped.GetSpan(page.Offset + 4, 1)[0] == SFileFormat.PageZstd ? 1 : 0;
            minLength = Math.Min(minLength, page.Length);
            maxLength = Math.Max(maxLength, page.Length);
            minEntries = Math.Min(minEntries, page.EntryCount);
            maxEntries = Math.Max(maxEntries, page.EntryCount);
        }

        var pageInfo = new SFilePagesInfo(pages.Length, compressed, footer.IndexLength,
            pages.Length == 0 ? 0 : minEntries, pages.Length == 0 ? 0 : maxEntries, pages.Length == 0 ? 0 : (double)stats.SeriesCount / pages.Length,
            pages.Length == 0 ? 0 : minLength, maxLength, pages.Length == 0 ? 0 : (double)footer.IndexLength / pages.Length,
            layout.TailLength, layout.TailLength <= SFileLayout.DefaultTailBytes,
            pages.ToArray().Take(entryCount).Select(p => new SFilePageInfo(p.FirstKey.ToString(), p.Offset, p.Length, p.EntryCount)).ToArray());
        var codecName = SeriesCodecRegistry.Shared.TryGet(footer.CodecId, out var codec) ? codec.Name : null;
        var footerInfo = new SFileFooterInfo(
            footer.CodecId, codecName, stats.SeriesCount, stats.PointCount,
            stats.SeriesCount > 0 ? stats.MinTimestamp : null, stats.SeriesCount > 0 ? stats.MaxTimestamp : null,
            stats.SeriesCount > 0 ? ToTime(stats.MinTimestamp) : null, stats.SeriesCount > 0 ? ToTime(stats.MaxTimestamp) : null,
            stats.SeriesCount > 0 ? stats.FirstKey.ToString() : null, stats.SeriesCount > 0 ? stats.LastKey.ToString() : null,
            footer.IndexOffset - footer.BlocksOffset, stats.MetadataBytes, layout.Trailer.FooterLength, stats.MaxPointCount, stats.MaxBlockLength,
            stats.MaxPageBodyLength);
        var bytesPerPoint = stats.PointCount > 0 ? new BytesPerPointInfo(
            (double)mapped.Length / stats.PointCount, (double)(footer.IndexOffset - footer.BlocksOffset) / stats.PointCount) : null;
        return new SFileReport("s-file", path, mapped.Length, Describe(header!), footerInfo, pageInfo, entries.ToArray(), bytesPerPoint,
            new SFileScanInfo(series, points, damage is null), damage);
    }

    private static SFileHeaderInfo Describe(SFileHeader h) =>
        new(h.Version, h.CodecId, h.Shard, h.WindowStart, ToTime(h.WindowStart), h.WindowSeconds);

    /// <summary>Unix seconds as a UTC time, clamped to what <see cref="DateTimeOffset"/> can show.</summary>
    internal static DateTimeOffset ToTime(long seconds) => DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, -62135596800, 253402300799));

    /// <summary>Metadata as text when it is printable UTF-8, else as hex; at most 80 characters.</summary>
    internal static string MetadataPreview(ReadOnlySpan<byte> metadata)
    {
        const int Max = 80;
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, true).GetString(metadata);
            if (text.Any(char.IsControl))
            {
                text = "0x" + Convert.ToHexStringLower(metadata[..Math.Min(metadata.Length, Max / 2)]);
            }
        }
        catch (System.Text.DecoderFallbackException)
        {
            text = "0x" + Convert.ToHexStringLower(metadata[..Math.Min(metadata.Length, Max / 2)]);
        }

        return text.Length > Max ? string.Concat(text.AsSpan(0, Max - 3), "...") : text;
    }

    private static void PrintSFile(SFileReport r)
    {
        Console.WriteLine($"s-file       {r.Path}");
        Console.WriteLine($"length       {r.Length:N0} bytes");
        if (r.Header is { } h)
        {
            var window = h.WindowSeconds > 0 ? $"{h.WindowStartTime:yyyy-MM-ddTHH:mm}Z/{FormatDuration(h.WindowSeconds)}" : "not given";
            Console.WriteLine($"header       version {h.Version}, codec {h.CodecId}, shard {(h.Shard.Length > 0 ? h.Shard : "(none)")}, window {window}");
        }

        if (r.Footer is { } f)
        {
            Console.WriteLine($"codec        {f.CodecName ?? "(not registered)"} (id {f.CodecId})");
            Console.WriteLine($"series       {f.SeriesCount:N0} series, {f.PointCount:N0} points, keys {f.FirstKey ?? "-"} .. {f.LastKey ?? "-"}");
            if (f.SeriesCount > 0)
            {
                Console.WriteLine($"time range   {f.MinTime:u} .. {f.MaxTime:u}  ({f.MinTimestamp} .. {f.MaxTimestamp})");
            }

            Console.WriteLine($"areas        blocks {f.BlockBytes:N0} bytes, index {r.Pages!.IndexBytes:N0} bytes, footer {f.FooterBytes:N0} bytes, metadata {f.MetadataBytes:N0} bytes (in the index)");
            Console.WriteLine($"largest      {f.MaxSeriesPoints:N0} points in one series, {f.MaxBlockLength:N0}-byte block, {f.MaxPageBody:N0}-byte page body");
            if (r.BytesPerPoint is { } b)
            {
                Console.WriteLine($"bytes/point  {b.File:F3} for the whole file, {b.Blocks:F3} in blocks");
            }

            var p = r.Pages;
            Console.WriteLine($"index pages  {p.Count:N0} ({p.Compressed:N0} zstd), {p.MinEntries}..{p.MaxEntries} entries (avg {p.AverageEntries:F0}), {p.MinLength:N0}..{p.MaxLength:N0} bytes (avg {p.AverageLength:F0})");
            Console.WriteLine($"tail         {p.TailBytes:N0} bytes hold trailer and footer{(p.TailFitsDefaultRead ? " (within one 64 KiB tail read)" : " (more than one 64 KiB tail read: lookups cost one more read)")}");
            foreach (var page in p.First)
            {
                Console.WriteLine($"  page @{page.Offset,-12} {page.Length,8} bytes {page.EntryCount,6} entries  first {page.FirstKey}");
            }

            Console.WriteLine($"entries      first {r.Entries.Length}");
            foreach (var e in r.Entries)
            {
                Console.WriteLine($"  {e.Key,-40} @{e.BlockOffset,-12} {e.BlockLength,8} bytes {e.PointCount,7} points  ts {e.MinTimestamp}..{e.MaxTimestamp}  {e.Metadata}");
            }
        }

        Console.WriteLine($"scan         {r.Scan.SeriesChecked:N0} series and {r.Scan.PointsDecoded:N0} points checked{(r.Scan.Complete ? ", every checksum matches" : "")}");
        Console.WriteLine(r.Damage is { } d ? $"damage       {d.Message}" : "damage       none");
    }

    private static string FormatDuration(long seconds) =>
        seconds % 3600 == 0 ? $"{seconds / 3600}h" : seconds % 60 == 0 ? $"{seconds / 60}m" : $"{seconds}s";

    internal sealed record SFileReport(string Kind, string Path, long Length, SFileHeaderInfo? Header, SFileFooterInfo? Footer, SFilePagesInfo? Pages,
        SFileEntryInfo[] Entries, BytesPerPointInfo? BytesPerPoint, SFileScanInfo Scan, DamageInfo? Damage);

    internal sealed record SFileHeaderInfo(int Version, byte CodecId, string Shard, long WindowStart, DateTimeOffset WindowStartTime, long WindowSeconds);

    internal sealed record SFileFooterInfo(byte CodecId, string? CodecName, long SeriesCount, long PointCount, long? MinTimestamp, long? MaxTimestamp,
        DateTimeOffset? MinTime, DateTimeOffset? MaxTime, string? FirstKey, string? LastKey, long BlockBytes, long MetadataBytes, int FooterBytes,
        int MaxSeriesPoints, int MaxBlockLength, int MaxPageBody);

    internal sealed record SFilePagesInfo(int Count, int Compressed, long IndexBytes, long MinEntries, long MaxEntries, double AverageEntries,
        long MinLength, long MaxLength, double AverageLength, int TailBytes, bool TailFitsDefaultRead, SFilePageInfo[] First);

    internal sealed record SFilePageInfo(string FirstKey, long Offset, int Length, int EntryCount);

    internal sealed record SFileEntryInfo(string Key, long BlockOffset, int BlockLength, int PointCount, long MinTimestamp, long MaxTimestamp,
        int MetadataLength, string Metadata);

    internal sealed record BytesPerPointInfo(double File, double Blocks);

    internal sealed record SFileScanInfo(long SeriesChecked, long PointsDecoded, bool Complete);

    internal sealed record DamageInfo(string Message, long Offset);

    internal static SegmentReport InspectSegment(string path, int blockCount)
    {
        using var mapped = new MappedSegmentFile(path);
        var layout = mapped.Layout;
        if (!layout.IsReadable)
        {
            throw new CliException($"{path}: not a readable segment: {layout.HeaderProblem}; {layout.FooterProblem}.");
        }

        using var decoder = new PayloadDecoder();
        var cursor = mapped.CreateCursor();
        long points = 0;
        long badPayloads = 0;
        var firstBad = new List<string>();
        while (cursor.TryReadRecord(out var record))
        {
            var status = decoder.TryValidate(record.Frame, out var summary);
            if (status == PayloadStatus.Ok)
            {
                points += summary.PointCount;
            }
            else
            {
                badPayloads++;
                if (firstBad.Count < 10)
                {
                    firstBad.Add($"record {record.Ordinal} at offset {record.Offset}: {status}");
                }
            }
        }

        var stats = cursor.State.Stats;
        var footer = layout.Footer;
        return new SegmentReport(
            "segment",
            path,
            mapped.Length,
            layout.Header is { } h ? new HeaderInfo(h.Version, h.SyncMarker.ToString(), h.WriterId.ToString("x16"), h.Sequence,
                DateTimeOffset.FromUnixTimeMilliseconds(h.OpenedAt)) : null,
            layout.HeaderProblem,
            footer is null ? null : new FooterInfo(
                footer.Stats.RecordCount, footer.Stats.PointCount,
                footer.Stats.PointCount > 0 ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(footer.Stats.MinTimestamp, -62135596800, 253402300799)) : null,
                footer.Stats.PointCount > 0 ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(footer.Stats.MaxTimestamp, -62135596800, 253402300799)) : null,
                footer.Stats.FrameBytes, footer.Stats.PayloadBytes, footer.OrgIds.Count, footer.OrgIds.Take(20).ToArray(), footer.Blocks.Count,
                footer.Blocks.Take(blockCount).Select(b => new BlockInfo(b.Offset, b.FirstOrdinal, b.RecordCount, b.PointCount, b.MinTimestamp, b.MaxTimestamp)).ToArray()),
            layout.FooterProblem,
            stats.RecordsRead,
            points,
            stats.DamagedRegions,
            stats.DamagedBytes,
            layout.LostRecords(stats),
            badPayloads,
            firstBad.ToArray(),
            footer is null ? null : (double)mapped.Length / Math.Max(1, footer.Stats.PointCount),
            layout.RecordCount is null);
    }

    private static void PrintSegment(SegmentReport r)
    {
        Console.WriteLine($"segment      {r.Path}");
        Console.WriteLine($"length       {r.Length:N0} bytes");
        if (r.Header is { } h)
        {
            Console.WriteLine($"header       version {h.Version}, writer {h.WriterId}, sequence {h.Sequence}, opened {h.OpenedAt:u}, sync marker {h.SyncMarker}");
        }
        else
        {
            Console.WriteLine($"header       DAMAGED: {r.HeaderProblem}");
        }

        if (r.Footer is { } f)
        {
            Console.WriteLine($"records      {f.RecordCount:N0} payloads, {f.PointCount:N0} points, {f.OrgCount} orgs");
            Console.WriteLine($"time range   {f.MinTimestamp:u} .. {f.MaxTimestamp:u}");
            Console.WriteLine($"bytes        {f.FrameBytes:N0} compressed payload bytes, {f.PayloadBytes:N0} decompressed, {r.BytesPerPoint:F2} bytes/point as stored");
            Console.WriteLine($"orgs         {string.Join(", ", f.OrgIds)}{(f.OrgCount > f.OrgIds.Length ? ", ..." : "")}");
            Console.WriteLine($"blocks       {f.BlockCount}");
            foreach (var b in f.Blocks)
            {
                Console.WriteLine($"  @{b.Offset,-14} first #{b.FirstOrdinal,-8} {b.RecordCount,6} records {b.PointCount,10} points  ts {b.MinTimestamp}..{b.MaxTimestamp}");
            }
        }
        else
        {
            Console.WriteLine($"footer       MISSING OR DAMAGED: {r.FooterProblem} (records read by scanning)");
        }

        Console.WriteLine($"read         {r.RecordsRead:N0} intact records, {r.PointsRead:N0} points");
        var damage = r.DamagedRegions == 0 && r.BadPayloads == 0 ? (r.Incomplete ? "" : "none") : $"{r.DamagedRegions} damaged regions ({r.DamagedBytes:N0} bytes), {r.LostRecords} records lost, {r.BadPayloads} undecodable payloads";
        if (r.Incomplete)
        {
            damage += $"{(damage.Length > 0 ? "; " : "")}INCOMPLETE: no intact trailer, so records past the cut are lost and cannot be counted";
        }

        Console.WriteLine($"damage       {damage}");
        foreach (var bad in r.FirstBadPayloads)
        {
            Console.WriteLine($"  {bad}");
        }
    }

    internal sealed record SegmentReport(string Kind, string Path, long Length, HeaderInfo? Header, string? HeaderProblem, FooterInfo? Footer,
        string? FooterProblem, long RecordsRead, long PointsRead, long DamagedRegions, long DamagedBytes, long LostRecords, long BadPayloads,
        string[] FirstBadPayloads, double? BytesPerPoint, bool Incomplete);

    internal sealed record HeaderInfo(int Version, string SyncMarker, string WriterId, ulong Sequence, DateTimeOffset OpenedAt);

    internal sealed record FooterInfo(long RecordCount, long PointCount, DateTimeOffset? MinTimestamp, DateTimeOffset? MaxTimestamp, long FrameBytes,
        long PayloadBytes, int OrgCount, uint[] OrgIds, int BlockCount, BlockInfo[] Blocks);

    internal sealed record BlockInfo(long Offset, uint FirstOrdinal, int RecordCount, long PointCount, long MinTimestamp, long MaxTimestamp);
}
