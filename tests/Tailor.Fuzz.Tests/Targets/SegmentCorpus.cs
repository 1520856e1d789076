using System.Buffers;
using System.Buffers.Binary;
using Tailor.Format.Segments;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>One valid segment file built with <see cref="SegmentWriter"/>, with its known fields and records.</summary>
public sealed record SegmentSeed(SeedInput File, SyncMarker Marker, int RecordCount, bool Complete, IReadOnlyList<byte[]> Tokens);

/// <summary>
/// Segment files of many shapes (no records, one block, many small blocks, truncated without a
/// footer), built once with the product's writer from payloads of <see cref="PayloadCorpus"/>.
/// </summary>
public static class SegmentCorpus
{
    private static readonly Lazy<IReadOnlyList<SegmentSeed>> Built = new(() => Build(0x5E6));

    public static IReadOnlyList<SegmentSeed> Seeds => Built.Value;

    /// <summary>Recomputes every checksum a reader checks, so mutated lengths, counts and offsets get past them.</summary>
    /// <remarks>Record checksums are fixed wherever the marker stands (also inside other records, which makes
    /// nested records a reader may find); the footer's checksum wherever the trailer points; then the trailer's and the header's.</remarks>
    public static void FixChecksums(byte[] data, SyncMarker marker)
    {
        Span<byte> markerBytes = stackalloc byte[SegmentFormat.SyncMarkerLength];
        marker.Write(markerBytes);
        var from = 0;
        while (from < data.Length)
        {
            var found = data.AsSpan(from).IndexOf(markerBytes);
            if (found < 0)
            {
                break;
            }

            var at = from + found;
            if (at + SegmentFormat.RecordHeaderLength <= data.Length)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at + 20));
                if (length > 0 && length <= data.Length - at - SegmentFormat.RecordHeaderLength)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at + 16),
                        SegmentFormat.Checksum(data.AsSpan(at + 20, 8 + length)));
                }
            }

            from = at + 1;
        }

        var n = data.Length;
        if (n >= SegmentFormat.TrailerLength && BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(n - 4)) == SegmentFormat.TrailerMagic)
        {
            var trailer = data.AsSpan(n - SegmentFormat.TrailerLength);
            var offset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
            var length = BinaryPrimitives.ReadInt32LittleEndian(trailer[8..]);
            if (offset >= 0 && length >= 0 && offset <= n - SegmentFormat.TrailerLength - length)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(trailer[12..], SegmentFormat.Checksum(data.AsSpan((int)offset, length)));
            }

            BinaryPrimitives.WriteUInt32LittleEndian(trailer[24..], SegmentFormat.Checksum(trailer[..24]));
        }

        if (n >= SegmentFormat.HeaderLength && BinaryPrimitives.ReadUInt32LittleEndian(data) == SegmentFormat.HeaderMagic)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(52), SegmentFormat.Checksum(data.AsSpan(0, 52)));
        }
    }

    private static List<SegmentSeed> Build(ulong seed)
    {
        var random = new FuzzRandom(seed);
        var payloads = PayloadCorpus.Seeds.Where(p => p.Frame.Bytes.Length <= 16 * 1024).ToArray();
        var seeds = new List<SegmentSeed>();
        for (var i = 0; i < 48; i++)
        {
            var marker = new SyncMarker(random.NextUInt64(), random.NextUInt64());
            var output = new ArrayBufferWriter<byte>();
            var writer = new SegmentWriter(output, new SegmentWriterOptions
            {
                WriterId = random.NextUInt64(),
                Sequence = (ulong)random.Next(1000),
                OpenedAt = 1_790_000_000_000 + random.Next(1_000_000),
                SyncMarker = marker,
                BlockTargetBytes = random.Pick([64, 512, 4096, 1 << 20]),
                MaxRecordBytes = PayloadFrameTarget.MaxPayloadBytes,
            });
            var fields = new List<FieldRef>
            {
                new(4, FieldKind.U16), new(6, FieldKind.U16), new(8, FieldKind.U64), new(16, FieldKind.U64), new(24, FieldKind.U64),
                new(32, FieldKind.U64), new(40, FieldKind.U64), new(48, FieldKind.U32), new(52, FieldKind.U32),
            };
            var units = new List<UnitRef> { new(0, SegmentFormat.HeaderLength) };
            var records = i % 12 == 0 ? 0 : random.Next(1, i % 5 == 0 ? 120 : 24);
            for (var r = 0; r < records; r++)
            {
                var payload = random.Pick(payloads);
                var offset = (int)writer.Append(payload.Frame.Bytes, payload.Summary);
                fields.Add(new FieldRef(offset + 16, FieldKind.U32));
                fields.Add(new FieldRef(offset + 20, FieldKind.U32));
                fields.Add(new FieldRef(offset + 24, FieldKind.U32));
                fields.Add(new FieldRef(offset + 28, FieldKind.U32));
                units.Add(new UnitRef(offset, SegmentFormat.RecordHeaderLength + payload.Frame.Bytes.Length));
            }

            var complete = i % 7 != 3;
            if (complete)
            {
                var footerOffset = (int)writer.Length;
                var footer = writer.Complete();
                var footerLength = footer.EncodedLength;
                foreach (var at in new[] { 4, 6 })
                {
                    fields.Add(new FieldRef(footerOffset + at, FieldKind.U16));
                }

                foreach (var at in new[] { 8, 12, 16, 20 })
                {
                    fields.Add(new FieldRef(footerOffset + at, FieldKind.U32));
                }

                for (var at = 56; at < 120; at += 8)
                {
                    fields.Add(new FieldRef(footerOffset + at, FieldKind.U64));
                }

                var blocks = footerOffset + 120 + (4 * footer.OrgIds.Count);
                for (var b = 0; b < footer.Blocks.Count; b++)
                {
                    var e = blocks + (b * SegmentFormat.BlockEntryLength);
                    fields.Add(new FieldRef(e, FieldKind.U64));
                    fields.Add(new FieldRef(e + 8, FieldKind.U32));
                    fields.Add(new FieldRef(e + 12, FieldKind.U32));
                    fields.Add(new FieldRef(e + 16, FieldKind.U64));
                }

                var trailer = footerOffset + footerLength;
                fields.Add(new FieldRef(trailer, FieldKind.U64));
                fields.Add(new FieldRef(trailer + 8, FieldKind.U32));
                fields.Add(new FieldRef(trailer + 16, FieldKind.U64));
                units.Add(new UnitRef(footerOffset, footerLength));
                units.Add(new UnitRef(trailer, SegmentFormat.TrailerLength));
            }

            var bytes = output.WrittenSpan.ToArray();
            if (!complete && records > 0 && random.NextBool())
            {
                bytes = bytes.AsSpan(0, bytes.Length - random.Next(1, 40)).ToArray(); // cut inside the last record
            }

            var markerBytes = new byte[16];
            marker.Write(markerBytes);
            byte[][] tokens =
            [
                markerBytes, markerBytes, [0x54, 0x53, 0x46, 0x54], [0x54, 0x53, 0x54, 0x52], [0x54, 0x53, 0x45, 0x47, 0x01, 0x00, 0x38, 0x00],
                [0x28, 0xB5, 0x2F, 0xFD], .. units.Skip(1).Take(3).Select(u => bytes.AsSpan(u.Offset, Math.Min(u.Length, bytes.Length - u.Offset)).ToArray()),
            ];
            seeds.Add(new SegmentSeed(new SeedInput(bytes, fields, units), marker, records, complete, tokens));
        }

        return seeds;
    }
}
