using System.Buffers;
using Tailor.Format.Encoding;
using Tailor.Format.Payloads;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>One valid payload built with <see cref="PayloadWriter"/>: its body (with its fields), its frame and its summary.</summary>
public sealed record PayloadSeed(SeedInput Body, SeedInput Frame, PayloadSummary Summary);

/// <summary>
/// Valid payloads of many shapes, built once with the product's writer from a fixed seed: the seeds
/// every payload and segment mutation starts from.
/// </summary>
public static class PayloadCorpus
{
    private static readonly Lazy<IReadOnlyList<PayloadSeed>> Built = new(() => Build(0xC0FFEE));

    private static readonly long[] SpecialTimes = [long.MinValue, long.MaxValue, 0, -1, 1, long.MinValue + 1, long.MaxValue - 1, 1_790_000_000];

    private static readonly double[] SpecialValues =
    [
        0.0, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, double.MaxValue, double.MinValue,
        BitConverter.Int64BitsToDouble(0x7FF0000000000001), 1.0, -1.0, 0.1, 100.25,
    ];

    /// <summary>The shared corpus.</summary>
    public static IReadOnlyList<PayloadSeed> Seeds => Built.Value;

    /// <summary>Tokens worth planting in payload bodies and frames.</summary>
    public static IReadOnlyList<byte[]> Tokens { get; } =
    [
        [0x54, 0x50, 0x01, 0x00], // body magic, version, encoding
        [0x28, 0xB5, 0x2F, 0xFD], // zstd frame magic
        [0x50, 0x2A, 0x4D, 0x18], // a skippable frame's magic
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        [0x80, 0x80, 0x04], // varint 65536
        [0x81, 0x80, 0x04], // varint 65537
        [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];

    /// <summary>Builds a random valid payload with <paramref name="writer"/>; returns its body.</summary>
    public static byte[] BuildBody(FuzzRandom random, PayloadWriter writer, int maxSeries = 10, int maxPoints = 300)
    {
        writer.Begin(random.OneIn(8) ? uint.MaxValue - (uint)random.Next(3) : (uint)random.Next(1, 5000),
            random.OneIn(8) ? random.Pick(SpecialTimes) : 1_790_000_000_000_000_000 + random.NextInt64() % 1_000_000_000_000);
        var series = random.OneIn(10) ? 0 : random.Next(1, maxSeries + 1);
        for (var s = 0; s < series; s++)
        {
            var n = random.OneIn(12) ? 0 : random.Next(random.OneIn(4) ? maxPoints : 20) + 1;
            var timestamps = new long[n];
            var values = new double[n];
            var t = random.OneIn(6) ? random.Pick(SpecialTimes) : 1_790_000_000 + random.Next(100_000);
            var step = random.Next(4) switch { 0 => 10, 1 => 15, 2 => 60, _ => random.Next(1, 100_000) };
            for (var i = 0; i < n; i++)
            {
                timestamps[i] = random.OneIn(20) ? random.Pick(SpecialTimes) : unchecked(t + (i * step) + (random.OneIn(4) ? random.Next(-3, 4) : 0));
                values[i] = random.Next(5) switch
                {
                    0 => random.Pick(SpecialValues),
                    1 => BitConverter.Int64BitsToDouble(random.NextInt64()),
                    2 => Math.Round(random.NextDouble() * 1000, 2),
                    _ => i * 0.5,
                };
            }

            var metadataLength = random.Next(10) switch
            {
                < 3 => 0,
                9 when random.OneIn(8) => Tailor.Format.FormatLimits.MaxMetadataBytes,
                _ => random.Next(1, 200),
            };
            var metric = random.Next(3) switch { 0 => (ulong)random.Next(128), 1 => random.NextUInt64(), _ => (ulong)random.Next(1 << 20) };
            writer.AddSeries(metric, random.NextUInt64(), random.NextBytes(metadataLength), timestamps, values);
        }

        var body = new ArrayBufferWriter<byte>();
        writer.WriteBody(body);
        return body.WrittenSpan.ToArray();
    }

    /// <summary>The known fields and entries of a valid body, for targeted mutations.</summary>
    public static SeedInput Describe(byte[] body)
    {
        var fields = new List<FieldRef>
        {
            new(2, FieldKind.U8), new(3, FieldKind.U8), new(4, FieldKind.U32), new(8, FieldKind.U64), new(16, FieldKind.U32),
        };
        var units = new List<UnitRef>();
        var count = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(16));
        var p = 20;
        for (var s = 0; s < count; s++)
        {
            var start = p;
            fields.Add(new FieldRef(p, FieldKind.VarInt));
            VarInt.TryRead(body, ref p, out _);
            fields.Add(new FieldRef(p, FieldKind.U64));
            p += 8;
            fields.Add(new FieldRef(p, FieldKind.VarInt));
            VarInt.TryRead(body, ref p, out var metadata);
            units.Add(new UnitRef(p, (int)metadata));
            p += (int)metadata;
            fields.Add(new FieldRef(p, FieldKind.VarInt));
            VarInt.TryRead(body, ref p, out var points);
            fields.Add(new FieldRef(p, FieldKind.VarInt));
            VarInt.TryRead(body, ref p, out var timestampBytes);
            if (points > 0)
            {
                fields.Add(new FieldRef(p, FieldKind.VarInt));
                fields.Add(new FieldRef(p + (int)timestampBytes, FieldKind.U64));
            }

            p += (int)timestampBytes + (8 * (int)points);
            units.Add(new UnitRef(start, p - start));
        }

        return new SeedInput(body, fields, units);
    }

    /// <summary>The fields of a zstd frame's header worth hitting: descriptor, window, declared size.</summary>
    public static SeedInput DescribeFrame(byte[] frame) => new(frame,
        [new(4, FieldKind.U8), new(5, FieldKind.U8), new(5, FieldKind.U32), new(6, FieldKind.U32), new(6, FieldKind.U64), new(5, FieldKind.U64)],
        [new(0, Math.Min(frame.Length, 18))]);

    private static List<PayloadSeed> Build(ulong seed)
    {
        var random = new FuzzRandom(seed);
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var seeds = new List<PayloadSeed>();
        for (var i = 0; i < 96; i++)
        {
            var body = BuildBody(random, writer, maxSeries: i % 8 == 0 ? 40 : 10, maxPoints: i % 16 == 0 ? 3000 : 300);
            var frame = Zstd.Compress(body);
            if (decoder.TryValidate(frame, out var summary) != PayloadStatus.Ok)
            {
                throw new InvalidOperationException("The payload writer built a payload its decoder rejects.");
            }

            seeds.Add(new PayloadSeed(Describe(body), DescribeFrame(frame), summary));
        }

        return seeds;
    }
}
