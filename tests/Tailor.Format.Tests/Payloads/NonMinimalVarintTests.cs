using Tailor.Format.Encoding;
using Tailor.Format.Payloads;

namespace Tailor.Format.Tests.Payloads;

/// <summary>
/// docs/format.md: a non-minimal varint (trailing zero groups, up to 10 bytes) is valid and decodes to
/// the same value; longer or overflowing encodings are not.
/// </summary>
public sealed class NonMinimalVarintTests
{
    [Theory]
    [InlineData(new byte[] { 0x80, 0x00 }, 0UL)]
    [InlineData(new byte[] { 0x81, 0x80, 0x00 }, 1UL)]
    [InlineData(new byte[] { 0xC8, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 200UL)]
    public void A_non_minimal_varint_of_up_to_ten_bytes_reads_as_its_value(byte[] encoded, ulong expected)
    {
        var position = 0;
        Assert.True(VarInt.TryRead(encoded, ref position, out var value));
        Assert.Equal(expected, value);
        Assert.Equal(encoded.Length, position);
    }

    [Fact]
    public void Eleven_bytes_or_a_tenth_byte_above_one_is_not_a_varint()
    {
        var position = 0;
        Assert.False(VarInt.TryRead([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], ref position, out _));
        position = 0;
        Assert.False(VarInt.TryRead([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], ref position, out _));
    }

    [Fact]
    public void A_payload_written_with_non_minimal_varints_reads_as_the_minimal_one()
    {
        // metric 7, metadata "x", 2 points at 100 and 110 with value 0.0: once minimal, once with every varint padded.
        var minimal = Body([0x07], [0x01], [0x02], [0x03], [0xC8, 0x01, 0x14]);
        var padded = Body([0x87, 0x00], [0x81, 0x00], [0x82, 0x00], [0x85, 0x00], [0xC8, 0x81, 0x00, 0x94, 0x00]);
        Assert.Equal("7|9|x|100,110|0,0", Read(minimal));
        Assert.Equal("7|9|x|100,110|0,0", Read(padded));
    }

    private static string Read(byte[] body)
    {
        Assert.Equal(PayloadStatus.Ok, PayloadReader.TryCreate(body, out var check));
        Assert.Equal(PayloadStatus.Ok, check.Validate(out _));
        Assert.Equal(PayloadStatus.Ok, PayloadReader.TryCreate(body, out var reader));
        Assert.True(reader.TryReadSeries(out var series));
        var timestamps = new long[series.PointCount];
        var values = new double[series.PointCount];
        Assert.True(series.TryDecodeTimestamps(timestamps));
        series.DecodeValues(values);
        var read = $"{series.MetricId}|{series.ContextKey}|{System.Text.Encoding.ASCII.GetString(series.Metadata)}|{string.Join(',', timestamps)}|"
            + string.Join(',', values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.False(reader.TryReadSeries(out _));
        Assert.Equal(PayloadStatus.Ok, reader.Status);
        return read;
    }

    private static byte[] Body(byte[] metric, byte[] metadataLength, byte[] pointCount, byte[] timestampBytes, byte[] timestamps)
    {
        var body = new List<byte> { 0x54, 0x50, 1, 0 };
        body.AddRange(BitConverter.GetBytes(42u));
        body.AddRange(BitConverter.GetBytes(1L));
        body.AddRange(BitConverter.GetBytes(1u));
        body.AddRange(metric);
        body.AddRange(BitConverter.GetBytes(9UL));
        body.AddRange(metadataLength);
        body.Add((byte)'x');
        body.AddRange(pointCount);
        body.AddRange(timestampBytes);
        body.AddRange(timestamps);
        body.AddRange(new byte[16]);
        return [.. body];
    }
}
