using Tailor.Format.Encoding;

namespace Tailor.Format.Codecs;

/// <summary>Version 3's choices by measured size, and the value layouts every version chooses among.</summary>
public sealed partial class TailorCodec
{
    // The runner-up layout is written too when its estimate is within 1/8 of the best one's, plus a few
    // bytes for short blocks: estimates are upper bounds (exceptions) and zstd changes the ranking.
    private const int CloseEstimateShift = 3;
    private const int CloseEstimateSlack = 8;

    /// <summary>The value layouts: a kind of the values mode byte with or without its delta flag.</summary>
    private enum ValuesLayout
    {
        Raw,
        Decimal,
        DecimalDelta,
        Bits,
        BitsDelta,
        Quotient,
    }

    /// <summary>Estimated bytes of the values section in each layout; <see cref="long.MaxValue"/> where a layout does not apply.</summary>
    private struct ValuesEstimates
    {
        public long Raw;
        public long Decimal;
        public long DecimalDelta;
        public long Bits;
        public long BitsDelta;
        public long Quotient;

        public readonly long Of(ValuesLayout layout) => layout switch
        {
            ValuesLayout.Raw => Raw,
            ValuesLayout.Decimal => Decimal,
            ValuesLayout.DecimalDelta => DecimalDelta,
            ValuesLayout.Bits => Bits,
            ValuesLayout.BitsDelta => BitsDelta,
            _ => Quotient,
        };
    }

    /// <summary>What writing the values in any planned layout needs, besides the columns left in the scratch.</summary>
    private struct ValuesPlan
    {
        public ValuesEstimates Estimates;
        public int Exponent;
        public int ExceptionCount;
        public ColumnPlan DecimalColumn;
        public ColumnPlan DecimalDeltaColumn;
        public ColumnPlan BitsColumn;
        public ColumnPlan BitsDeltaColumn;
        public QuotientPlan Quotient;
    }

    /// <summary>
    /// Version 3's choices by measured size: the values in the layout with the smallest estimate and, when
    /// the runner-up's estimate is close, in that layout too; each body plain and (where zstd is on) as a
    /// zstd frame; the smallest of these blocks is written.
    /// </summary>
    private int EncodeMeasured(ReadOnlySpan<double> values, in ValuesPlan plan, ValuesLayout best, Span<byte> destination, int bodyStart, int timestampsEnd, CodecScratch scratch)
    {
        int position = timestampsEnd;
        WriteValues(values, plan, best, scratch, destination, ref position);
        var body = destination[bodyStart..position];
        int bestEnd = position;
        int frameLength = CompressedLength(body, scratch.EnsureBytes(body.Length), scratch, ref bestEnd);

        var runnerUp = RunnerUp(plan.Estimates, best, out long estimate);
        long bestEstimate = plan.Estimates.Of(best);
        if (estimate != long.MaxValue && estimate - bestEstimate <= (bestEstimate >> CloseEstimateShift) + CloseEstimateSlack)
        {
            // The second body is built beside the first: the timestamps, then the runner-up's values.
            int timestampsLength = timestampsEnd - bodyStart;
            var other = scratch.EnsureBodyBytes(GetMaxEncodedLength(values.Length));
            destination[bodyStart..timestampsEnd].CopyTo(other);
            int otherLength = timestampsLength;
            WriteValues(values, plan, runnerUp, scratch, other, ref otherLength);
            var otherBody = other.AsSpan(0, otherLength);
            int otherEnd = bodyStart + otherLength;
            int otherFrameLength = CompressedLength(otherBody, scratch.EnsureFrameBytes(otherBody.Length), scratch, ref otherEnd);
            if (otherEnd < bestEnd)
            {
                return WriteBlock(destination, bodyStart, otherBody, otherFrameLength > 0 ? scratch.FrameBytes.AsSpan(0, otherFrameLength) : default);
            }
        }

        return WriteBlock(destination, bodyStart, body, frameLength > 0 ? scratch.Bytes.AsSpan(0, frameLength) : default);
    }

    /// <summary>
    /// Compresses <paramref name="body"/> into <paramref name="frame"/> when zstd is on and the body is long
    /// enough; returns the frame's length when the compressed block would end before <paramref name="end"/>
    /// (and moves <paramref name="end"/> there), else 0.
    /// </summary>
    private int CompressedLength(ReadOnlySpan<byte> body, Span<byte> frame, CodecScratch scratch, ref int end)
    {
        if (!_useZstd || body.Length < _zstdMinBodyLength)
        {
            return 0;
        }

        int frameLength = scratch.Compress(body, frame[..body.Length], _options.ZstdLevel);
        if (frameLength <= 0)
        {
            return 0;
        }

        int bodyStart = end - body.Length;
        int compressedEnd = bodyStart + VarInt.GetLength((ulong)body.Length) + VarInt.GetLength((ulong)frameLength) + frameLength;
        if (compressedEnd >= end || compressedEnd > bodyStart + (int)(body.Length * (1 - _zstdMinSavings)))
        {
            return 0;
        }

        end = compressedEnd;
        return frameLength;
    }

    /// <summary>Writes the block's body at <paramref name="bodyStart"/>: plain when <paramref name="frame"/> is empty, else as that zstd frame of it.</summary>
    private static int WriteBlock(Span<byte> destination, int bodyStart, ReadOnlySpan<byte> body, ReadOnlySpan<byte> frame)
    {
        int position = bodyStart;
        if (frame.IsEmpty)
        {
            destination[0] = BodyPlain;
            if (!body.Overlaps(destination[bodyStart..]))
            {
                body.CopyTo(destination[bodyStart..]);
            }

            return bodyStart + body.Length;
        }

        destination[0] = BodyZstd;
        VarInt.Write(destination, ref position, (ulong)body.Length);
        VarInt.Write(destination, ref position, (ulong)frame.Length);
        frame.CopyTo(destination[position..]);
        return position + frame.Length;
    }

}
