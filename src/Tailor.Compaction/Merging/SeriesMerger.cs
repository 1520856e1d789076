using Tailor.Compaction.Memory;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Merging;

/// <summary>Receives the merged series in key order.</summary>
internal interface IMergedSeriesSink
{
    /// <summary>One series: its key, winning metadata and points (valid only during the call).</summary>
    void Accept(in CompactKey key, ReadOnlySpan<byte> metadata, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values);
}

/// <summary>
/// Merges every source (reading threads' memory, spill files) by series key and hands each series'
/// deduplicated points to a sink, with the metadata that wins over all reading threads.
/// </summary>
internal sealed class SeriesMerger : IDisposable
{
    private readonly List<RunSource> _sources;
    private readonly IReadOnlyList<SeriesTable> _tables;
    private readonly NativeBuffer<RunView> _runs = new(256);
    private readonly PointMerger _points = new();

    public SeriesMerger(List<RunSource> sources, IReadOnlyList<SeriesTable> tables)
    {
        _sources = sources;
        _tables = tables;
    }

    public long Series { get; private set; }

    public long PointsOut { get; private set; }

    public long Duplicates => _points.Duplicates;

    public void Run(IMergedSeriesSink sink, CancellationToken cancellationToken)
    {
        var active = new List<RunSource>(_sources.Where(s => s.HasCurrent));
        var current = new List<RunSource>(active.Count);
        while (active.Count > 0)
        {
            var key = active[0].CurrentKey;
            for (var i = 1; i < active.Count; i++)
            {
                var k = active[i].CurrentKey;
                if (k.CompareTo(key) < 0)
                {
                    key = k;
                }
            }

            _runs.Clear();
            current.Clear();
            foreach (var source in active)
            {
                if (source.CurrentKey == key)
                {
                    source.AddRuns(_runs);
                    current.Add(source);
                }
            }

            var n = _points.Merge(_runs, out var timestamps, out var values);
            if (n > 0)
            {
                sink.Accept(key, WinningMetadata(key), timestamps, values);
                Series++;
                PointsOut += n;
            }

            foreach (var source in current)
            {
                source.MoveNext();
                if (!source.HasCurrent)
                {
                    active.Remove(source);
                }
            }

            if ((Series & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    public void Dispose()
    {
        _runs.Dispose();
        _points.Dispose();
    }

    private ReadOnlySpan<byte> WinningMetadata(in CompactKey key)
    {
        var best = ReadOnlySpan<byte>.Empty;
        var bestIntake = long.MinValue;
        var found = false;
        foreach (var table in _tables)
        {
            var id = table.Find(key);
            if (id < 0 || table[id].MetadataLength < 0)
            {
                continue;
            }

            var intake = table[id].MetadataIntake;
            var metadata = table.Metadata(id);
            if (!found || intake > bestIntake || (intake == bestIntake && metadata.SequenceCompareTo(best) > 0))
            {
                best = metadata;
                bestIntake = intake;
                found = true;
            }
        }

        return best;
    }
}
