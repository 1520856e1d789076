using System.Buffers;

namespace Tailor.Format.Series;

/// <summary>
/// The reference S-file builder: takes points in any order, with any duplication, applies the
/// duplicate rules, sorts, and writes the S-file. Simple and held entirely in memory, it is meant for
/// small inputs and tests; the compaction engine must produce exactly the same bytes from the same points.
/// </summary>
/// <remarks>
/// <para><b>Values.</b> Each (series, timestamp) appears once: among the points given for it, the value of
/// the one with the latest intake time wins; between equal intake times, the value whose 64-bit pattern
/// is larger as an unsigned integer wins. The result depends only on the set of points.</para>
/// <para><b>Metadata.</b> A series' metadata is the metadata given with the latest intake time; between
/// equal intake times, the ordinally larger byte string (compared byte by byte as unsigned, a proper
/// prefix being smaller) wins. Only metadata that comes with at least one point counts.</para>
/// <para>A series appears in the file only if it has at least one point. The rules are written down in
/// docs/format.md ("Writing: duplicates, order and determinism"). Not thread-safe.</para>
/// </remarks>
public sealed class InMemorySFileBuilder
{
    private readonly SFileWriterOptions _options;
    private readonly Dictionary<SeriesKey, SeriesState> _series = [];

    /// <summary>Creates an empty builder.</summary>
    /// <param name="options">The writer options (codec, shard, window, index); null for the defaults.</param>
    public InMemorySFileBuilder(SFileWriterOptions? options = null)
    {
        _options = options ?? new SFileWriterOptions();
    }

    /// <summary>The number of points given so far, duplicates included.</summary>
    public long PointsAdded { get; private set; }

    /// <summary>The number of distinct series so far.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Adds one point.</summary>
    /// <param name="key">The series.</param>
    /// <param name="metadata">The metadata of the series entry the point came in (at most 64 KiB).</param>
    /// <param name="timestamp">The timestamp, Unix epoch seconds.</param>
    /// <param name="value">The value (any bit pattern).</param>
    /// <param name="intakeTime">The intake time of the payload the point came in (ns).</param>
    /// <exception cref="ArgumentException">The metadata is longer than <see cref="FormatLimits.MaxMetadataBytes"/>.</exception>
    public void Add(in SeriesKey key, ReadOnlySpan<byte> metadata, long timestamp, double value, long intakeTime)
    {
        var state = Offer(key, metadata, intakeTime);
        AddPoint(state, timestamp, value, intakeTime);
    }

    /// <summary>Adds one payload's series entry: its points share the entry's metadata and the payload's intake time.</summary>
    /// <param name="key">The series.</param>
    /// <param name="metadata">The entry's metadata (at most 64 KiB).</param>
    /// <param name="intakeTime">The payload's intake time (ns).</param>
    /// <param name="timestamps">The timestamps, in any order, duplicates allowed.</param>
    /// <param name="values">The values, one per timestamp.</param>
    /// <exception cref="ArgumentException">The spans differ in length or the metadata is too long.</exception>
    public void AddSeries(in SeriesKey key, ReadOnlySpan<byte> metadata, long intakeTime, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException("Timestamps and values must have the same length.", nameof(values));
        }

        if (timestamps.IsEmpty)
        {
            return; // an entry without points adds no series
        }

        var state = Offer(key, metadata, intakeTime);
        for (var i = 0; i < timestamps.Length; i++)
        {
            AddPoint(state, timestamps[i], values[i], intakeTime);
        }
    }

    /// <summary>Writes the S-file of every point given so far.</summary>
    /// <returns>The file's bytes.</returns>
    public byte[] Build()
    {
        var output = new ArrayBufferWriter<byte>();
        WriteTo(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the S-file of every point given so far into <paramref name="output"/>.</summary>
    /// <param name="output">Where the file goes.</param>
    /// <returns>The footer written.</returns>
    public SFileFooter WriteTo(IBufferWriter<byte> output)
    {
        var keys = _series.Keys.ToArray();
        Array.Sort(keys);
        using var writer = new SFileWriter(output, _options);
        foreach (var key in keys)
        {
            var state = _series[key];
            var timestamps = state.Points.Keys.ToArray();
            Array.Sort(timestamps);
            var values = new double[timestamps.Length];
            for (var i = 0; i < timestamps.Length; i++)
            {
                values[i] = BitConverter.UInt64BitsToDouble(state.Points[timestamps[i]].Bits);
            }

            writer.AddSeries(key, state.Metadata, timestamps, values);
        }

        return writer.Complete();
    }

    private SeriesState Offer(in SeriesKey key, ReadOnlySpan<byte> metadata, long intakeTime)
    {
        if (metadata.Length > FormatLimits.MaxMetadataBytes)
        {
            throw new ArgumentException($"Metadata is {metadata.Length} bytes; at most {FormatLimits.MaxMetadataBytes} are allowed.", nameof(metadata));
        }

        if (!_series.TryGetValue(key, out var state))
        {
            state = new SeriesState { MetadataIntake = intakeTime, Metadata = metadata.ToArray() };
            _series.Add(key, state);
        }
        else if (intakeTime > state.MetadataIntake
                 || (intakeTime == state.MetadataIntake && metadata.SequenceCompareTo(state.Metadata) > 0))
        {
            state.MetadataIntake = intakeTime;
            state.Metadata = metadata.ToArray();
        }

        return state;
    }

    private void AddPoint(SeriesState state, long timestamp, double value, long intakeTime)
    {
        PointsAdded++;
        var bits = BitConverter.DoubleToUInt64Bits(value);
        if (!state.Points.TryGetValue(timestamp, out var current)
            || intakeTime > current.IntakeTime
            || (intakeTime == current.IntakeTime && bits > current.Bits))
        {
            state.Points[timestamp] = (intakeTime, bits);
        }
    }

    private sealed class SeriesState
    {
        public long MetadataIntake;
        public byte[] Metadata = [];
        public readonly Dictionary<long, (long IntakeTime, ulong Bits)> Points = [];
    }
}
