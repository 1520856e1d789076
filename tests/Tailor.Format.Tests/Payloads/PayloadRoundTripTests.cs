using System.Buffers;
using FsCheck.Xunit;
using Tailor.Format.Payloads;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Payloads;

public sealed class PayloadRoundTripTests
{
    [Property(MaxTest = 300)]
    public bool Any_payload_round_trips_through_the_frame(int seed)
    {
        var payload = TestPayloads.Random(new Random(seed));
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var frame = TestPayloads.Encode(writer, payload);
        return TestPayloads.Decode(decoder, frame).SameAs(payload);
    }

    [Property(MaxTest = 300)]
    public bool Generated_series_round_trip_bit_exactly(uint org, long intake, ulong metric, ulong context, byte[] metadata, long[] timestamps, double[] values)
    {
        var n = Math.Min(timestamps.Length, values.Length);
        var payload = new TestPayload(org, intake, [new TestSeries(metric, context, metadata, timestamps[..n], values[..n])]);
        using var writer = new PayloadWriter();
        return TestPayloads.DecodeBody(TestPayloads.EncodeBody(writer, payload)).SameAs(payload);
    }

    [Property(MaxTest = 200)]
    public bool Summary_counts_every_point_and_the_time_range(int seed)
    {
        var payload = TestPayloads.Random(new Random(seed));
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var frame = TestPayloads.Encode(writer, payload);
        if (decoder.TryValidate(frame, out var summary) != PayloadStatus.Ok)
        {
            return false;
        }

        var all = payload.Series.SelectMany(s => s.Timestamps).ToArray();
        return summary.OrgId == payload.Org && summary.IntakeTime == payload.Intake && summary.SeriesCount == payload.Series.Length
            && summary.PointCount == all.Length
            && summary.MinTimestamp == (all.Length == 0 ? long.MaxValue : all.Min())
            && summary.MaxTimestamp == (all.Length == 0 ? long.MinValue : all.Max());
    }

    [Fact]
    public void Empty_payload_round_trips()
    {
        var payload = new TestPayload(42, 7, []);
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        Assert.True(TestPayloads.Decode(decoder, TestPayloads.Encode(writer, payload)).SameAs(payload));
    }

    [Fact]
    public void Metadata_over_64_KiB_is_refused_by_the_writer()
    {
        using var writer = new PayloadWriter();
        writer.Begin(1, 1);
        var error = Assert.Throws<ArgumentException>(() => writer.AddSeries(1, 1, new byte[(64 * 1024) + 1], [], []));
        Assert.Contains("65536", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_refuses_a_payload_past_its_bound()
    {
        using var writer = new PayloadWriter(new PayloadWriterOptions { MaxPayloadBytes = 1000 });
        writer.Begin(1, 1);
        var ts = Enumerable.Range(0, 200).Select(i => (long)i).ToArray();
        Assert.Throws<ArgumentException>(() => writer.AddSeries(1, 1, [], ts, new double[200]));
    }

    [Fact]
    public void Kafka_key_is_the_org_id_little_endian()
    {
        Span<byte> key = stackalloc byte[4];
        PayloadFormat.WriteKey(key, 0x01020304);
        Assert.Equal(new byte[] { 4, 3, 2, 1 }, key.ToArray());
        Assert.True(PayloadFormat.TryReadKey(key, out var org));
        Assert.Equal(0x01020304u, org);
        Assert.False(PayloadFormat.TryReadKey([1, 2, 3], out _));
        Assert.False(PayloadFormat.TryReadKey([], out _));
    }

    [Fact]
    public void Payload_entry_encoding_is_compact_for_regular_series()
    {
        // 360 points at a 10 s interval: timestamps cost one byte each after the first.
        using var writer = new PayloadWriter();
        var ts = Enumerable.Range(0, 360).Select(i => 1_790_000_000L + (i * 10)).ToArray();
        var values = Enumerable.Range(0, 360).Select(i => 1000.0 + i).ToArray();
        writer.Begin(1, 1);
        writer.AddSeries(5, 6, [], ts, values);
        var frame = new ArrayBufferWriter<byte>();
        writer.Complete(frame);
        Assert.True(writer.BodyLength < PayloadFormat.HeaderLength + 20 + 5 + 360 + (8 * 360));
        Assert.True(frame.WrittenCount < writer.BodyLength / 2, $"frame {frame.WrittenCount} bytes for a {writer.BodyLength}-byte body");
    }
}
