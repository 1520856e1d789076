using System.Buffers;
using Tailor.Format.Codecs;

namespace Tailor.Benchmarks.Codecs;

/// <summary>A codec under another name, so that variants of one codec (other options) sit side by side in a comparison.</summary>
/// <param name="inner">The codec.</param>
/// <param name="name">The name reported.</param>
public sealed class RenamedCodec(ISeriesCodec inner, string name) : ISeriesCodec
{
    /// <inheritdoc/>
    public byte Id => inner.Id;

    /// <inheritdoc/>
    public string Name => name;

    /// <inheritdoc/>
    public int GetMaxEncodedLength(int pointCount) => inner.GetMaxEncodedLength(pointCount);

    /// <inheritdoc/>
    public int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination) => inner.Encode(timestamps, values, destination);

    /// <inheritdoc/>
    public OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed) =>
        inner.Decode(source, timestamps, values, out pointsDecoded, out bytesConsumed);

    /// <inheritdoc/>
    public OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount) => inner.ReadPointCount(source, out pointCount);
}
