using System.Buffers;
using Tailor.Format.Payloads;

namespace Tailor.Format.Tests.Support;

public sealed record TestSeries(ulong Metric, ulong Context, byte[] Metadata, long[] Timestamps, double[] Values);

public sealed record TestPayload(uint Org, long Intake, TestSeries[] Series)
{
    public long PointCount => Series.Sum(s => (long)s.Timestamps.Length);
}

/// <summary>Builds, encodes and decodes payloads for tests, comparing doubles bit for bit.</summary>
public static class TestPayloads
{
    private static readonly double[] Specials =
    [
        0.0, -0.0, double.NaN, BitConverter.Int64BitsToDouble(0x7FF0000000000001), BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8DEADBEEF0001)),
        double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue,
        BitConverter.Int64BitsToDouble(0x000FFFFFFFFFFFFF), 1.0, -1.0, 0.1, 100.25,
    ];

    private static readonly long[] SpecialTimes = [long.MinValue, long.MaxValue, 0, -1, 1, long.MinValue + 1, long.MaxValue - 1];

    public static TestPayload Random(Random rng, int maxSeries = 8, int maxPoints = 40)
    {
        var series = new TestSeries[rng.Next(0, maxSeries + 1)];
        for (var i = 0; i < series.Length; i++)
        {
            var n = rng.Next(0, maxPoints + 1);
            var ts = new long[n];
            var values = new double[n];
            var t = rng.Next(4) == 0 ? SpecialTimes[rng.Next(SpecialTimes.Length)] : 1_790_000_000L + rng.Next(100_000);
            var step = rng.Next(4) switch { 0 => 10, 1 => 15, 2 => 60, _ => rng.Next(1, 1000) };
            for (var k = 0; k < n; k++)
            {
                ts[k] = rng.Next(10) == 0 ? SpecialTimes[rng.Next(SpecialTimes.Length)] : unchecked(t + (k * step) + rng.Next(-2, 3));
                values[k] = rng.Next(5) switch
                {
                    0 => Specials[rng.Next(Specials.Length)],
                    1 => BitConverter.Int64BitsToDouble(rng.NextInt64(long.MinValue, long.MaxValue)),
                    2 => Math.Round(rng.NextDouble() * 100, 2),
                    _ => k * 3.0,
                };
            }

            var metadata = new byte[rng.Next(3) == 0 ? 0 : rng.Next(1, 300)];
            rng.NextBytes(metadata);
            series[i] = new TestSeries((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), metadata, ts, values);
        }

        return new TestPayload((uint)rng.Next(), rng.NextInt64(), series);
    }

    public static byte[] Encode(PayloadWriter writer, TestPayload payload)
    {
        writer.Begin(payload.Org, payload.Intake);
        foreach (var s in payload.Series)
        {
            writer.AddSeries(s.Metric, s.Context, s.Metadata, s.Timestamps, s.Values);
        }

        var output = new ArrayBufferWriter<byte>();
        writer.Complete(output);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] EncodeBody(PayloadWriter writer, TestPayload payload)
    {
        writer.Begin(payload.Org, payload.Intake);
        foreach (var s in payload.Series)
        {
            writer.AddSeries(s.Metric, s.Context, s.Metadata, s.Timestamps, s.Values);
        }

        var output = new ArrayBufferWriter<byte>();
        writer.WriteBody(output);
        return output.WrittenSpan.ToArray();
    }

    public static TestPayload Decode(PayloadDecoder decoder, ReadOnlySpan<byte> frame)
    {
        var status = decoder.TryDecode(frame, out var reader);
        if (status != PayloadStatus.Ok)
        {
            throw new InvalidDataException($"payload status {status}");
        }

        return Read(ref reader);
    }

    public static TestPayload DecodeBody(ReadOnlySpan<byte> body)
    {
        var status = PayloadReader.TryCreate(body, out var reader);
        if (status != PayloadStatus.Ok)
        {
            throw new InvalidDataException($"payload status {status}");
        }

        return Read(ref reader);
    }

    private static TestPayload Read(ref PayloadReader reader)
    {
        var list = new List<TestSeries>();
        while (reader.TryReadSeries(out var s))
        {
            var ts = new long[s.PointCount];
            var values = new double[s.PointCount];
            if (!s.TryDecodeTimestamps(ts))
            {
                throw new InvalidDataException("timestamps malformed");
            }

            s.DecodeValues(values);
            list.Add(new TestSeries(s.MetricId, s.ContextKey, s.Metadata.ToArray(), ts, values));
        }

        if (reader.Status != PayloadStatus.Ok)
        {
            throw new InvalidDataException($"payload status {reader.Status} at {reader.Position}");
        }

        return new TestPayload(reader.Header.OrgId, reader.Header.IntakeTime, [.. list]);
    }

    public static bool SameAs(this TestPayload a, TestPayload b)
    {
        if (a.Org != b.Org || a.Intake != b.Intake || a.Series.Length != b.Series.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Series.Length; i++)
        {
            var x = a.Series[i];
            var y = b.Series[i];
            if (x.Metric != y.Metric || x.Context != y.Context || !x.Metadata.AsSpan().SequenceEqual(y.Metadata)
                || !x.Timestamps.AsSpan().SequenceEqual(y.Timestamps) || x.Values.Length != y.Values.Length)
            {
                return false;
            }

            for (var k = 0; k < x.Values.Length; k++)
            {
                if (BitConverter.DoubleToInt64Bits(x.Values[k]) != BitConverter.DoubleToInt64Bits(y.Values[k]))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
