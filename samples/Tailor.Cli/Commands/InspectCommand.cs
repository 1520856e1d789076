using System.CommandLine;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor inspect FILE</c>: header, footer, stats and index of a segment or S-file, and the damage found.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A segment (.tseg) or S-file (.tsf) on local disk." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of text." };
        var blocks = new Option<int>("--blocks") { Description = "How many block or index entries to list (default 10).", DefaultValueFactory = _ => 10 };
        var command = new Command("inspect", """
            Show what a segment or S-file holds: header, footer stats, block index, and every damaged
            record found by reading the whole file (records are checked, payloads decoded).

            Examples:
              tailor inspect ./tailor-data/segments/org-mod-3/2026-11-26T05/a7/00c0ffee00c0ffee-000001.tseg
              tailor inspect part-0000.tsf --json
            """)
        {
            file,
            json,
            blocks,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(json), parse.GetValue(blocks)));
        return command;
    }

    private static int Run(string path, bool json, int blockCount)
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
            if (json)
            {
                JsonOutput.Write(report);
            }
            else
            {
                PrintSegment(report);
            }

            return report.LostRecords > 0 || report.BadPayloads > 0 ? ExitCodes.Failure : ExitCodes.Success;
        }

        throw new CliException($"{path} is neither a segment (magic TSEG) nor an S-file.", ExitCodes.Failure);
    }

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
            footer is null ? null : (double)mapped.Length / Math.Max(1, footer.Stats.PointCount));
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
        var damage = r.DamagedRegions == 0 && r.BadPayloads == 0 ? "none" : $"{r.DamagedRegions} damaged regions ({r.DamagedBytes:N0} bytes), {r.LostRecords} records lost, {r.BadPayloads} undecodable payloads";
        Console.WriteLine($"damage       {damage}");
        foreach (var bad in r.FirstBadPayloads)
        {
            Console.WriteLine($"  {bad}");
        }
    }

    internal sealed record SegmentReport(string Kind, string Path, long Length, HeaderInfo? Header, string? HeaderProblem, FooterInfo? Footer,
        string? FooterProblem, long RecordsRead, long PointsRead, long DamagedRegions, long DamagedBytes, long LostRecords, long BadPayloads,
        string[] FirstBadPayloads, double? BytesPerPoint);

    internal sealed record HeaderInfo(int Version, string SyncMarker, string WriterId, ulong Sequence, DateTimeOffset OpenedAt);

    internal sealed record FooterInfo(long RecordCount, long PointCount, DateTimeOffset? MinTimestamp, DateTimeOffset? MaxTimestamp, long FrameBytes,
        long PayloadBytes, int OrgCount, uint[] OrgIds, int BlockCount, BlockInfo[] Blocks);

    internal sealed record BlockInfo(long Offset, uint FirstOrdinal, int RecordCount, long PointCount, long MinTimestamp, long MaxTimestamp);
}
