using FsCheck.Xunit;
using Tailor.Format.Payloads;
using Tailor.Format.Tests.Support;
using Tailor.Format.Zstd;

namespace Tailor.Format.Tests.Payloads;

public sealed class PayloadDamageTests
{
    [Fact]
    public void Bytes_that_are_not_a_frame_are_reported()
    {
        using var decoder = new PayloadDecoder();
        Assert.Equal(PayloadStatus.NotAFrame, decoder.TryDecode("hello, world"u8, out _));
        Assert.Equal(PayloadStatus.NotAFrame, decoder.TryDecode([], out _));
    }

    [Fact]
    public void A_frame_declaring_more_than_the_limit_is_damage_not_an_allocation()
    {
        using var compressor = new ZstdFrameCompressor();
        var big = new byte[2 * 1024 * 1024];
        var frame = new byte[ZstdFrameCompressor.GetMaxFrameLength(big.Length)];
        var n = compressor.Compress(big, frame);
        using var decoder = new PayloadDecoder(maxPayloadBytes: 1024 * 1024);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(PayloadStatus.TooLarge, decoder.TryDecode(frame.AsSpan(0, n), out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
    }

    [Fact]
    public void Truncated_and_trailing_frames_are_corrupt()
    {
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var frame = TestPayloads.Encode(writer, TestPayloads.Random(new Random(3)));
        Assert.Equal(PayloadStatus.CorruptFrame, decoder.TryDecode(frame.AsSpan(0, frame.Length - 3), out _));
        Assert.Equal(PayloadStatus.CorruptFrame, decoder.TryDecode([.. frame, 1, 2, 3], out _));
    }

    [Property(MaxTest = 500)]
    public bool Any_damaged_body_is_rejected_or_read_within_bounds(int seed)
    {
        // Bit flips, truncation and random bytes in a body never throw, hang or read out of bounds.
        var rng = new Random(seed);
        using var writer = new PayloadWriter();
        var body = TestPayloads.EncodeBody(writer, TestPayloads.Random(rng));
        switch (rng.Next(3))
        {
            case 0:
                for (var i = 0; i < rng.Next(1, 4); i++)
                {
                    body[rng.Next(body.Length)] ^= (byte)(1 << rng.Next(8));
                }

                break;
            case 1:
                body = body[..rng.Next(body.Length)];
                break;
            default:
                rng.NextBytes(body.AsSpan(rng.Next(body.Length)));
                break;
        }

        if (PayloadReader.TryCreate(body, out var reader) != PayloadStatus.Ok)
        {
            return true;
        }

        var scratchT = new long[body.Length];
        var scratchV = new double[body.Length];
        while (reader.TryReadSeries(out var s))
        {
            if (s.PointCount > body.Length || s.Metadata.Length > 64 * 1024)
            {
                return false;
            }

            s.TryDecodeTimestamps(scratchT);
            s.DecodeValues(scratchV);
        }

        return reader.Status is PayloadStatus.Ok or PayloadStatus.Malformed;
    }

    [Fact]
    public void Trailing_bytes_after_the_last_entry_make_the_payload_malformed()
    {
        using var writer = new PayloadWriter();
        var body = TestPayloads.EncodeBody(writer, TestPayloads.Random(new Random(9)));
        byte[] longer = [.. body, 0];
        Assert.Equal(PayloadStatus.Ok, PayloadReader.TryCreate(longer, out var reader));
        Assert.Equal(PayloadStatus.Malformed, reader.Validate(out _));
    }
}
