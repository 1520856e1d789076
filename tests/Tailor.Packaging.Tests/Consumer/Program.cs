// The program the package test builds against the packed Tailor packages (by version, from a local
// folder), as an application that took them from NuGet would. It round-trips a segment and an S-file
// through Tailor.Format, then writes the same payloads through Tailor.Sink into a Tailor.Storage local
// store, compacts and verifies them with Tailor.Compaction. Each step prints one line the test checks;
// any mismatch throws, so the process exits non-zero.
using System.Buffers;
using Tailor.Compaction;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Series;
using Tailor.Sink;
using Tailor.Storage;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: consumer WORK_DIRECTORY");
    return 2;
}

var work = Path.GetFullPath(args[0]);
var windowStart = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
const int Orgs = 3, Metrics = 4, PointsPerSeries = 10;

// Payloads: one per org, four series of ten points each.
var frames = new List<byte[]>();
using (var payloads = new PayloadWriter())
{
    for (uint org = 1; org <= Orgs; org++)
    {
        payloads.Begin(org, intakeTime: (windowStart + 60) * 1_000_000_000L + org);
        for (ulong metric = 1; metric <= Metrics; metric++)
        {
            var (timestamps, values) = Points(org, metric);
            payloads.AddSeries(metric, contextKey: 42, "host:consumer"u8, timestamps, values);
        }

        var frame = new ArrayBufferWriter<byte>();
        payloads.Complete(frame);
        frames.Add(frame.WrittenSpan.ToArray());
    }
}

// 1. Segment: write every frame, read every record back, decode every point.
var segment = WriteSegment(frames);
var (records, points, damaged) = ReadSegment(segment, frames);
Check(records == Orgs && points == Orgs * Metrics * PointsPerSeries && damaged == 0, $"segment read back {records} records, {points} points, {damaged} damaged");
Console.WriteLine($"segment ok: {records} records, {points} points, {segment.Length} bytes");

// 2. S-file: write org 1's series, scan them all, then find one with ranged reads.
var sfile = WriteSFile();
var scanned = ScanSFile(sfile);
Check(scanned == Metrics * PointsPerSeries, $"S-file scan gave {scanned} points");
using (var reader = await SFileReader.OpenAsync(RangeSource.FromMemory(sfile)))
{
    var found = await reader.FindAsync(new SeriesKey(1, 3, 42)) ?? throw new InvalidOperationException("series 1:3:42 not found in the S-file");
    var timestamps = new long[found.Entry.PointCount];
    var values = new double[found.Entry.PointCount];
    var count = await reader.ReadPointsAsync(found.Entry, timestamps, values);
    var (expectedTimestamps, expectedValues) = Points(1, 3);
    Check(count == PointsPerSeries && timestamps.SequenceEqual(expectedTimestamps) && values.SequenceEqual(expectedValues), "S-file lookup returned other points");
    Console.WriteLine($"sfile ok: {scanned} points scanned, series 1:3:42 found with {reader.ReadCount} reads, codec {reader.Codec.Name}");
}

// 3. Store, sink and compaction: the same payloads into segments in a local store, then compacted and verified.
var storeFolder = Path.Combine(work, "store");
await using (var store = ObjectStoreFactory.Open(new Uri(storeFolder).AbsoluteUri))
{
    var map = new ShardMap(sharedShards: 2);
    await using (var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = map }))
    {
        foreach (var frame in frames)
        {
            await writer.WriteAsync(frame);
        }
    }

    var window = CompactionWindow.Parse("2026-11-26T00:00Z/4h");
    var options = new CompactionOptions { Parallelism = 1, MemoryBudgetBytes = 64L << 20, WorkDirectory = Path.Combine(work, "compaction") };
    long pointsOut = 0, found = 0, missing = 0, different = 0, extra = 0;
    foreach (var job in await new CompactionPlanner(store, options).PlanAllAsync(window))
    {
        var report = await new CompactionRunner(store, options).RunAsync(job);
        var check = await new CompactionVerifier(store, options).VerifyAsync(job.Shard, window);
        pointsOut += report.PointsOut;
        (found, missing, different, extra) = (found + check.Found, missing + check.Missing, different + check.Different, extra + check.Extra);
    }

    Check(pointsOut == Orgs * Metrics * PointsPerSeries && found == pointsOut && missing + different + extra == 0,
        $"compaction wrote {pointsOut} points; verify found {found}, missing {missing}, different {different}, extra {extra}");
    Console.WriteLine($"compaction ok: {pointsOut} points written, verify found {found}, missing {missing}, different {different}, extra {extra}");
}

return 0;

(long[] Timestamps, double[] Values) Points(uint org, ulong metric)
{
    var timestamps = new long[PointsPerSeries];
    var values = new double[PointsPerSeries];
    for (var i = 0; i < PointsPerSeries; i++)
    {
        timestamps[i] = windowStart + (i * 10);
        values[i] = (org * 1000) + (metric * 10) + (i * 0.25);
    }

    return (timestamps, values);
}

static byte[] WriteSegment(List<byte[]> frames)
{
    using var decoder = new PayloadDecoder();
    var output = new ArrayBufferWriter<byte>();
    var writer = new SegmentWriter(output, new SegmentWriterOptions { WriterId = 0xC0FFEE, Sequence = 1 });
    foreach (var frame in frames)
    {
        var status = decoder.TryValidate(frame, out var summary);
        Check(status == PayloadStatus.Ok, $"payload validation said {status}");
        writer.Append(frame, summary);
    }

    writer.Complete();
    return output.WrittenSpan.ToArray();
}

static (int Records, long Points, long Damaged) ReadSegment(byte[] file, List<byte[]> frames)
{
    using var decoder = new PayloadDecoder();
    var layout = SegmentLayout.Read(file);
    Check(layout.Footer is not null, "the segment has no footer");
    var reader = SegmentReader.OverFile(file, layout.CreateFileState());
    var records = 0;
    long points = 0;
    while (reader.TryReadRecord(out var record))
    {
        Check(record.Frame.SequenceEqual(frames[records]), $"record {records} differs from the frame written");
        Check(decoder.TryDecode(record.Frame, out var payload) == PayloadStatus.Ok, $"record {records} does not decode");
        var timestamps = new long[64];
        while (payload.TryReadSeries(out var series))
        {
            Check(series.TryDecodeTimestamps(timestamps), "timestamps do not decode");
            points += series.PointCount;
        }

        records++;
    }

    Check(layout.Footer!.Stats.PointCount == points, "the footer's point count differs from the points read");
    return (records, points, reader.CurrentState.Stats.DamagedRegions);
}

byte[] WriteSFile()
{
    var output = new ArrayBufferWriter<byte>();
    using var writer = new SFileWriter(output, new SFileWriterOptions { Shard = "org-mod-1", WindowStart = windowStart, WindowSeconds = 4 * 3600 });
    for (ulong metric = 1; metric <= Metrics; metric++)
    {
        var (timestamps, values) = Points(1, metric);
        writer.AddSeries(new SeriesKey(1, metric, 42), "host:consumer"u8, timestamps, values);
    }

    writer.Complete();
    return output.WrittenSpan.ToArray();
}

long ScanSFile(byte[] file)
{
    var scanner = new SFileScanner(file);
    try
    {
        long points = 0;
        var timestamps = new long[PointsPerSeries];
        var values = new double[PointsPerSeries];
        ulong metric = 0;
        while (scanner.MoveNext())
        {
            metric++;
            var count = scanner.ReadPoints(timestamps, values);
            var (expectedTimestamps, expectedValues) = Points(1, metric);
            Check(scanner.Current.Key == new SeriesKey(1, metric, 42) && timestamps.SequenceEqual(expectedTimestamps) && values.SequenceEqual(expectedValues),
                $"series {scanner.Current.Key} scanned back different");
            points += count;
        }

        return points;
    }
    finally
    {
        scanner.Dispose();
    }
}

static void Check(bool condition, string problem)
{
    if (!condition)
    {
        throw new InvalidOperationException(problem);
    }
}
