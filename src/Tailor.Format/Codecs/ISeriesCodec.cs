using System.Buffers;

namespace Tailor.Format.Codecs;

/// <summary>
/// Encodes the points of one series for one window (one S-file block) and decodes them back, bit-exactly.
/// </summary>
/// <remarks>
/// <para><b>Identity.</b> <see cref="Id"/> is written into every S-file and must never change meaning:
/// a codec's byte layout is frozen once files exist (a new layout is a new codec with a new id).
/// Ids 1 .. 127 are reserved for Tailor's built-in codecs, 128 .. 255 are for user codecs, 0 is invalid.</para>
/// <para><b>Encode.</b> Any timestamps (not only increasing ones; every int64) and any doubles (every bit
/// pattern: NaN payloads, signalling NaNs, −0.0, infinities, subnormals) are accepted and decoded back
/// bit for bit. The output is a pure function of the input, so the same points always give the same
/// bytes. The destination must hold <see cref="GetMaxEncodedLength"/> bytes; the codec writes into caller
/// memory only and allocates nothing on the managed heap in steady state.</para>
/// <para><b>Decode.</b> Reads one block from the start of <c>source</c> (bytes after the block are ignored and
/// reported through <c>bytesConsumed</c>). It never throws and never reads outside <c>source</c>, whatever
/// the bytes: a damaged or truncated block gives <see cref="OperationStatus.InvalidData"/>. Implementations
/// are thread-safe; one instance serves every thread.</para>
/// </remarks>
public interface ISeriesCodec
{
    /// <summary>The codec id stored in S-file headers; stable forever.</summary>
    byte Id { get; }

    /// <summary>The codec's stable lower-case name, such as <c>"gorilla"</c>.</summary>
    string Name { get; }

    /// <summary>The most bytes <see cref="Encode"/> writes for <paramref name="pointCount"/> points.</summary>
    /// <param name="pointCount">0 .. <see cref="SeriesCodecs.MaxPointCount"/>.</param>
    /// <returns>A destination size that is always large enough.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or above the maximum.</exception>
    int GetMaxEncodedLength(int pointCount);

    /// <summary>Encodes one series' points into <paramref name="destination"/>.</summary>
    /// <param name="timestamps">Unix epoch seconds, one per point (any order; S-files pass strictly increasing ones).</param>
    /// <param name="values">The values, same length as <paramref name="timestamps"/>.</param>
    /// <param name="destination">At least <see cref="GetMaxEncodedLength"/>(count) bytes.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">The spans differ in length, the count exceeds
    /// <see cref="SeriesCodecs.MaxPointCount"/>, or the destination is smaller than <see cref="GetMaxEncodedLength"/>.</exception>
    int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination);

    /// <summary>Decodes one block into caller buffers.</summary>
    /// <param name="source">The block, possibly followed by other bytes.</param>
    /// <param name="timestamps">Receives the timestamps; needs room for the block's point count
    /// (<see cref="ReadPointCount"/>).</param>
    /// <param name="values">Receives the values; same room.</param>
    /// <param name="pointsDecoded">The number of points written (0 unless <see cref="OperationStatus.Done"/>).</param>
    /// <param name="bytesConsumed">The length of the block (0 unless <see cref="OperationStatus.Done"/>).</param>
    /// <returns><see cref="OperationStatus.Done"/> on success; <see cref="OperationStatus.DestinationTooSmall"/>
    /// when a span is shorter than the point count (the spans' contents are then unspecified);
    /// <see cref="OperationStatus.InvalidData"/> for damaged or truncated input.</returns>
    OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed);

    /// <summary>Reads the number of points of the block at the start of <paramref name="source"/> without decoding it.</summary>
    /// <param name="source">The block.</param>
    /// <param name="pointCount">The block's point count on success, else 0.</param>
    /// <returns><see cref="OperationStatus.Done"/>, or <see cref="OperationStatus.InvalidData"/> when the count
    /// cannot be read or is above <see cref="SeriesCodecs.MaxPointCount"/>.</returns>
    OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount);
}
