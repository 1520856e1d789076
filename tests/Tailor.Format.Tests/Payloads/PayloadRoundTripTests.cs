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

    [Fact]
    public void Decoding_timestamps_says_whether_they_step_evenly_upwards_as_a_plain_model_does()
    {
        var random = new Random(20261127);
        long[][] edges =
        [
            [], [5], [long.MinValue], [1, 2], [2, 1], [3, 3], [0, 10, 20, 30], [0, 10, 20, 31], [0, 10, 21, 30],
            [long.MaxValue - 20, long.MaxValue - 10, long.MaxValue], [long.MaxValue - 10, long.MaxValue, long.MinValue + 9], // wraps: differences still equal
            [0, long.MaxValue], [long.MinValue, 0, long.MinValue], [-30, -20, -10, 0, 10],
        ];
        var cases = new List<long[]>(edges);
        for (var i = 0; i < 2000; i++)
        {
            var n = random.Next(1, 40);
            var start = random.NextInt64(-1L << 40, 1L << 40);
            var step = random.Next(4) switch { 0 => random.Next(1, 120), 1 => -random.Next(0, 120), 2 => 0, _ => random.NextInt64(1, long.MaxValue) };
            var ts = new long[n];
            for (var k = 0; k < n; k++)
            {
                ts[k] = unchecked(start + (k * step));
            }

            if (random.Next(3) == 0)
            {
                ts[random.Next(n)] += random.Next(-2, 3); // one jittered point (or none)
            }

            cases.Add(ts);
        }

        using var writer = new PayloadWriter();
        foreach (var ts in cases)
        {
            var payload = new TestPayload(1, 2, [new TestSeries(3, 4, [], ts, new double[ts.Length])]);
            var body = TestPayloads.EncodeBody(writer, payload);
            Assert.Equal(PayloadStatus.Ok, PayloadReader.TryCreate(body, out var reader));
            Assert.True(reader.TryReadSeries(out var series));
            var plain = new long[ts.Length];
            var flagged = new long[ts.Length];
            Assert.True(series.TryDecodeTimestamps(plain));
            Assert.True(series.TryDecodeTimestamps(flagged, out var regular));
            Assert.Equal(ts, plain);
            Assert.Equal(ts, flagged);
            Assert.True(Model(ts) == regular, $"[{string.Join(", ", ts)}]: model {Model(ts)}, decoder {regular}");
        }

        // One point, or a positive first difference that every later difference equals (wrapping subtraction).
        static bool Model(long[] ts)
        {
            if (ts.Length < 2)
            {
                return ts.Length == 1;
            }

            var step = unchecked(ts[1] - ts[0]);
            return step > 0 && ts.Zip(ts.Skip(1), (a, b) => unchecked(b - a)).All(d => d == step);
        }
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
