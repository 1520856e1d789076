using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;
using Tailor.Format.Codecs;

namespace Tailor.Compaction.Writing;

/// <summary>One encoded series of a chunk: where its block and metadata are in the chunk's buffers.</summary>
internal struct EncodedSeries
{
    public CompactKey Key;
    public long BlockOffset;
    public int BlockLength;
    public long MetadataOffset;
    public int MetadataLength;
    public int Count;
    public long First;
    public long Last;
}

/// <summary>
/// The series of one key range, merged and encoded by one worker: blocks and metadata in native
/// buffers, in key order, ready to be written into S-file parts.
/// </summary>
internal sealed unsafe class EncodedChunk(ISeriesCodec codec) : IRangeSink
{
    /// <summary>
    /// What a chunk is taken to hold per point when the merge sizes its ranges: about 2.5 times what
    /// the default codec writes on the benchmark's workload (1.63 bytes a point with metadata and
    /// series entries), so chunks of less regular data still stay near the merge's reserve.
    /// </summary>
    public const double BytesPerPointEstimate = 4;

    private readonly NativeBuffer<byte> _blocks = new(1 << 20);
    private readonly NativeBuffer<byte> _metadata = new(1 << 16);
    private readonly NativeBuffer<EncodedSeries> _series = new(1 << 10);

    public long Count => _series.Count;

    public ref EncodedSeries this[long index] => ref _series[index];

    public ReadOnlySpan<byte> Block(in EncodedSeries series) => new(_blocks.Pointer + series.BlockOffset, series.BlockLength);

    public ReadOnlySpan<byte> Metadata(in EncodedSeries series) => new(_metadata.Pointer + series.MetadataOffset, series.MetadataLength);

    public void Accept(in CompactKey key, ReadOnlySpan<byte> metadata, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        var max = codec.GetMaxEncodedLength(timestamps.Length);
        var blockOffset = _blocks.Count;
        var written = codec.Encode(timestamps, values, _blocks.Reserve(max));
        _blocks.Count += written;
        var metadataOffset = _metadata.Count;
        metadata.CopyTo(_metadata.Reserve(metadata.Length));
        _metadata.Count += metadata.Length;
        _series.Add(new EncodedSeries
        {
            Key = key,
            BlockOffset = blockOffset,
            BlockLength = written,
            MetadataOffset = metadataOffset,
            MetadataLength = metadata.Length,
            Count = timestamps.Length,
            First = timestamps[0],
            Last = timestamps[^1],
        });
    }

    public void Clear()
    {
        _blocks.Clear();
        _metadata.Clear();
        _series.Clear();
    }

    public void Dispose()
    {
        _blocks.Dispose();
        _metadata.Dispose();
        _series.Dispose();
    }
}
