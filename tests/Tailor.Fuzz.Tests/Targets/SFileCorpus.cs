using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Tailor.Format.Codecs;
using Tailor.Format.Series;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>One valid S-file built with <see cref="SFileWriter"/>, with its known fields, units and keys.</summary>
public sealed record SFileSeed(SeedInput File, SeriesKey[] Keys, IReadOnlyList<byte[]> Tokens);

/// <summary>
/// S-files of many shapes (empty, one series, many small index pages, plain and zstd pages, both
/// codecs, long and non-ASCII shard names), built once with the product's writer.
/// </summary>
public static class SFileCorpus
{
    private static readonly Lazy<IReadOnlyList<SFileSeed>> Built = new(() => Build(0x5F11E));

    private static readonly string[] Shards = ["org-mod-7", "org-123456", string.Empty, "shård-ü-测试", new string('s', 255), "org-mod-0"];

    public static IReadOnlyList<SFileSeed> Seeds => Built.Value;

    /// <summary>
    /// Recomputes every checksum a reader checks (blocks named by plain index pages, index pages, the
    /// footer, the trailer, the header), following the offsets as they now stand, so mutated fields get
    /// past the checksums to the checks behind them.
    /// </summary>
    public static void FixChecksums(byte[] data)
    {
        var n = data.Length;
        if (n >= SFileFormat.TrailerLength && BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(n - 4)) == SFileFormat.TrailerMagic)
        {
            var trailer = data.AsSpan(n - SFileFormat.TrailerLength);
            var footerOffset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
            var footerLength = BinaryPrimitives.ReadInt32LittleEndian(trailer[8..]);
            if (footerOffset >= 0 && footerLength >= SFileFormat.FooterFixedLength && footerOffset <= n - SFileFormat.TrailerLength - footerLength)
            {
                var footer = data.AsSpan((int)footerOffset, footerLength);
                var pages = BinaryPrimitives.ReadInt32LittleEndian(footer[12..]);
                for (var i = 0; i < pages && SFileFormat.FooterFixedLength + ((i + 1) * SFileFormat.PageDirectoryEntryLength) <= footerLength; i++)
                {
                    var d = footer[(SFileFormat.FooterFixedLength + (i * SFileFormat.PageDirectoryEntryLength))..];
                    FixPage(data, BinaryPrimitives.ReadInt64LittleEndian(d[20..]), BinaryPrimitives.ReadInt32LittleEndian(d[28..]));
                }

                BinaryPrimitives.WriteUInt32LittleEndian(trailer[12..], SFileFormat.Checksum(data.AsSpan((int)footerOffset, footerLength)));
            }

            BinaryPrimitives.WriteUInt32LittleEndian(trailer[24..], SFileFormat.Checksum(trailer[..24]));
        }

        if (n >= SFileFormat.HeaderFixedLength && BinaryPrimitives.ReadUInt32LittleEndian(data) == SFileFormat.HeaderMagic)
        {
            var end = 32 + data[9];
            if (end + 4 <= n)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(end), SFileFormat.Checksum(data.AsSpan(0, end)));
            }
        }
    }

    private static void FixPage(byte[] data, long offset, int length)
    {
        if (offset < 0 || length < SFileFormat.IndexPageOverhead || offset > data.Length - length)
        {
            return;
        }

        var page = data.AsSpan((int)offset, length);
        if (page[4] == SFileFormat.PagePlain)
        {
            var count = BinaryPrimitives.ReadInt32LittleEndian(page[8..]);
            var crc = new Crc32();
            for (var j = 0; j < count && SFileFormat.IndexPageHeaderLength + ((j + 1) * SFileFormat.IndexEntryLength) <= length - 4; j++)
            {
                var e = page.Slice(SFileFormat.IndexPageHeaderLength + (j * SFileFormat.IndexEntryLength), SFileFormat.IndexEntryLength);
                var blockOffset = BinaryPrimitives.ReadInt64LittleEndian(e[20..]);
                var blockLength = BinaryPrimitives.ReadInt32LittleEndian(e[28..]);
                if (blockOffset >= 0 && blockLength > SFileFormat.BlockChecksumLength && blockOffset <= data.Length - blockLength)
                {
                    var block = data.AsSpan((int)blockOffset, blockLength);
                    crc.Reset();
                    crc.Append(e[..SeriesKey.EncodedLength]);
                    crc.Append(block[..^4]);
                    BinaryPrimitives.WriteUInt32LittleEndian(block[^4..], crc.GetCurrentHashAsUInt32());
                }
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(page[^4..], SFileFormat.Checksum(page[..^4]));
    }

    private static List<SFileSeed> Build(ulong seed)
    {
        var random = new FuzzRandom(seed);
        var seeds = new List<SFileSeed>();
        for (var i = 0; i < 40; i++)
        {
            var shard = Shards[i % Shards.Length];
            var output = new ArrayBufferWriter<byte>();
            var writer = new SFileWriter(output, new SFileWriterOptions
            {
                Codec = i % 2 == 0 ? SeriesCodecs.Tailor : SeriesCodecs.Gorilla,
                Shard = shard,
                WindowStart = 1_790_000_000 - (1_790_000_000 % 14_400),
                WindowSeconds = i % 5 == 0 ? 0 : 14_400,
                IndexPageTargetBytes = random.Pick([128, 512, 4096, 65536]),
                CompressIndexPages = i % 3 != 0,
            });
            var count = i % 10 == 0 ? 0 : random.Next(1, i % 4 == 0 ? 200 : 40);
            var keys = new SortedSet<SeriesKey>();
            while (keys.Count < count)
            {
                keys.Add(new SeriesKey((uint)random.Next(1, 50), random.OneIn(4) ? random.NextUInt64() : (ulong)random.Next(100), random.NextUInt64()));
            }

            var fields = new List<FieldRef>
            {
                new(4, FieldKind.U16), new(6, FieldKind.U16), new(8, FieldKind.U8), new(9, FieldKind.U8), new(10, FieldKind.U8),
                new(16, FieldKind.U64), new(24, FieldKind.U64), new(32 + System.Text.Encoding.UTF8.GetByteCount(shard), FieldKind.U32),
            };
            var units = new List<UnitRef>();
            foreach (var key in keys)
            {
                var n = random.OneIn(10) ? random.Next(1, 3000) : random.Next(1, 200);
                var timestamps = new long[n];
                var values = new double[n];
                var t = random.OneIn(10) ? long.MinValue + random.Next(1000) : 1_790_000_000L + random.Next(1000);
                for (var k = 0; k < n; k++)
                {
                    t += random.OneIn(5) ? random.Next(1, 100_000) : 10;
                    timestamps[k] = t;
                    values[k] = random.Next(4) switch
                    {
                        0 => BitConverter.Int64BitsToDouble(random.NextInt64()),
                        1 => Math.Round(random.NextDouble() * 100, 2),
                        2 => k,
                        _ => 42.0,
                    };
                }

                var metadata = random.NextBytes(random.OneIn(3) ? 0 : random.OneIn(20) ? 5000 : random.Next(1, 120));
                var start = (int)writer.Length;
                writer.AddSeries(key, metadata, timestamps, values);
                fields.Add(new FieldRef(start, FieldKind.U8));
                fields.Add(new FieldRef(start + 1, FieldKind.VarInt));
                units.Add(new UnitRef(start, (int)writer.Length - start));
            }

            var footer = writer.Complete();
            var bytes = output.WrittenSpan.ToArray();
            foreach (var page in footer.Pages)
            {
                var p = (int)page.Offset;
                units.Add(new UnitRef(p, page.Length));
                fields.Add(new FieldRef(p + 4, FieldKind.U8));
                fields.Add(new FieldRef(p + 8, FieldKind.U32));
                fields.Add(new FieldRef(p + 12, FieldKind.U32));
                fields.Add(new FieldRef(p + 16, FieldKind.U32));
                if (bytes[p + 4] == SFileFormat.PagePlain)
                {
                    for (var j = 0; j < page.EntryCount; j++)
                    {
                        var e = p + SFileFormat.IndexPageHeaderLength + (j * SFileFormat.IndexEntryLength);
                        fields.Add(new FieldRef(e, FieldKind.U32));
                        fields.Add(new FieldRef(e + 20, FieldKind.U64));
                        fields.Add(new FieldRef(e + 28, FieldKind.U32));
                        fields.Add(new FieldRef(e + 32, FieldKind.U32));
                        fields.Add(new FieldRef(e + 36, FieldKind.U64));
                        fields.Add(new FieldRef(e + 44, FieldKind.U64));
                        fields.Add(new FieldRef(e + 52, FieldKind.U32));
                        fields.Add(new FieldRef(e + 56, FieldKind.U32));
                    }
                }
            }

            var f = (int)(footer.IndexOffset + footer.IndexLength); // the footer follows the index pages

            foreach (var at in new[] { 4, 6, 7 })
            {
                fields.Add(new FieldRef(f + at, at == 4 ? FieldKind.U16 : FieldKind.U8));
            }

            foreach (var at in new[] { 8, 12, 72, 76, 80, 84, 88 })
            {
                fields.Add(new FieldRef(f + at, FieldKind.U32));
            }

            for (var at = 16; at < 72; at += 8)
            {
                fields.Add(new FieldRef(f + at, FieldKind.U64));
            }

            for (var p = 0; p < footer.PageCount; p++)
            {
                var d = f + SFileFormat.FooterFixedLength + (p * SFileFormat.PageDirectoryEntryLength);
                fields.Add(new FieldRef(d, FieldKind.U32));
                fields.Add(new FieldRef(d + 20, FieldKind.U64));
                fields.Add(new FieldRef(d + 28, FieldKind.U32));
                fields.Add(new FieldRef(d + 32, FieldKind.U32));
            }

            var t0 = bytes.Length - SFileFormat.TrailerLength;
            fields.Add(new FieldRef(t0, FieldKind.U64));
            fields.Add(new FieldRef(t0 + 8, FieldKind.U32));
            fields.Add(new FieldRef(t0 + 16, FieldKind.U64));
            units.Add(new UnitRef(f, footer.EncodedLength));
            units.Add(new UnitRef(t0, SFileFormat.TrailerLength));
            byte[][] tokens =
            [
                [0x54, 0x53, 0x46, 0x48], [0x54, 0x53, 0x46, 0x49], [0x54, 0x53, 0x46, 0x46], [0x54, 0x53, 0x46, 0x45], [0x28, 0xB5, 0x2F, 0xFD],
                [0xFF, 0xFF, 0xFF, 0x7F], [0x00, 0x00, 0x00, 0x01], .. units.Take(2).Select(u => bytes.AsSpan(u.Offset, Math.Min(u.Length, 512)).ToArray()),
            ];
            seeds.Add(new SFileSeed(new SeedInput(bytes, fields, units), [.. keys], tokens));
        }

        return seeds;
    }
}
