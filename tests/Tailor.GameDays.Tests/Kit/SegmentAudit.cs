using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>
/// What the segment area of a store holds after a game day, read record by record: which payloads (by
/// the hash of their frame) and how many copies, which segments are not fully readable, and who wrote what.
/// </summary>
internal sealed class SegmentAudit
{
    private SegmentAudit()
    {
    }

    /// <summary>Segment objects.</summary>
    public int Segments { get; private set; }

    /// <summary>Segment bytes.</summary>
    public long Bytes { get; private set; }

    /// <summary>Records read from all segments.</summary>
    public long Records { get; private set; }

    /// <summary>Copies of each frame, by hash.</summary>
    public Dictionary<string, int> Copies { get; } = new(StringComparer.Ordinal);

    /// <summary>Segments without an intact footer, with damage, or whose header names another writer than the key: key and problem.</summary>
    public List<string> Unreadable { get; } = [];

    /// <summary>Segments by writer id (hex, as in keys).</summary>
    public Dictionary<string, int> SegmentsByWriter { get; } = new(StringComparer.Ordinal);

    /// <summary>Every segment key.</summary>
    public List<string> Keys { get; } = [];

    public static async Task<SegmentAudit> ReadAsync(IObjectStore store)
    {
        var audit = new SegmentAudit();
        await foreach (var info in store.ListAsync(ObjectKeys.SegmentsRoot))
        {
            if (!ObjectKeys.TryParseSegment(info.Key, out var key))
            {
                continue;
            }

            audit.Segments++;
            audit.Bytes += info.Size;
            audit.Keys.Add(info.Key);
            var writer = ObjectKeys.FormatWriterId(key.WriterId);
            audit.SegmentsByWriter[writer] = audit.SegmentsByWriter.GetValueOrDefault(writer) + 1;
            var bytes = new byte[info.Size];
            var read = 0;
            while (read < bytes.Length)
            {
                var n = await store.ReadAsync(info.Key, read, bytes.AsMemory(read));
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            if (read != bytes.Length)
            {
                audit.Unreadable.Add($"{info.Key}: {read} of {bytes.Length} bytes could be read");
                continue;
            }

            var layout = SegmentLayout.Read(bytes);
            if (layout.Footer is null)
            {
                audit.Unreadable.Add($"{info.Key}: no intact footer ({layout.FooterProblem})");
            }
            else if (layout.Footer.WriterId != key.WriterId || (long)layout.Footer.Sequence != key.Sequence)
            {
                audit.Unreadable.Add($"{info.Key}: the footer says writer {ObjectKeys.FormatWriterId(layout.Footer.WriterId)} sequence {layout.Footer.Sequence}");
            }

            var reader = SegmentReader.OverFile(bytes, layout.CreateFileState());
            long records = 0;
            while (reader.TryReadRecord(out var record))
            {
                var hash = GameDayWorkload.HashOf(record.Frame);
                audit.Copies[hash] = audit.Copies.GetValueOrDefault(hash) + 1;
                records++;
            }

            audit.Records += records;
            var stats = reader.CurrentState.Stats;
            if (stats.DamagedRegions > 0 || (layout.RecordCount is { } expected && expected != records))
            {
                audit.Unreadable.Add($"{info.Key}: {stats.DamagedRegions} damaged regions, {records} of {layout.RecordCount} records read");
            }
        }

        return audit;
    }

    /// <summary>Produced payloads with no copy in any segment (indices into the workload).</summary>
    public List<int> Missing(GameDayWorkload workload) =>
        [.. workload.Frames.Where(f => !Copies.ContainsKey(f.Hash)).Select(f => f.Index)];

    /// <summary>Records in segments that no produced payload explains.</summary>
    public int Unknown(GameDayWorkload workload) => Copies.Where(c => !workload.ProducedCopies.ContainsKey(c.Key)).Sum(c => c.Value);

    /// <summary>Copies beyond those produced: payloads the sink wrote more than once (redelivery after a kill or a rebalance).</summary>
    public long Duplicates(GameDayWorkload workload) =>
        Copies.Sum(c => Math.Max(0, c.Value - workload.ProducedCopies.GetValueOrDefault(c.Key)));
}
