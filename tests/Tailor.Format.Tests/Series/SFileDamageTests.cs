using System.Buffers.Binary;
using Tailor.Format.Codecs;
using Tailor.Format.Series;

namespace Tailor.Format.Tests.Series;

/// <summary>S-files are outputs Tailor wrote, so readers are strict: any damage is a typed exception naming an offset, never wrong data.</summary>
[Collection(SFileTestCollection.Name)]
public sealed class SFileDamageTests
{
    private static readonly TestSeries[] Small = TestSFiles.Corpus(40, seed: 9).Take(8).Select(s => s with
    {
        Timestamps = s.Timestamps[..Math.Min(40, s.Timestamps.Length)],
        Values = s.Values[..Math.Min(40, s.Values.Length)],
    }).ToArray();

    private static readonly byte[] SmallFile = TestSFiles.Write(Small, new SFileWriterOptions { IndexPageTargetBytes = 300, Shard = "org-mod-1" });

    /// <summary>The same series with plain index pages, so tests can change a page body and fix its checksum.</summary>
    private static readonly byte[] PlainFile = TestSFiles.Write(Small, new SFileWriterOptions { IndexPageTargetBytes = 300, CompressIndexPages = false });

    /// <summary>Reads everything the scanner and the lookup can; returns the exception, or null when all data came back right.</summary>
    private static Exception? ReadEverything(byte[] file)
    {
        try
        {
            Assert.Null(TestSFiles.Compare(Small, TestSFiles.Scan(file)));
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static async Task<Exception?> LookUpEverything(byte[] file)
    {
        try
        {
            using var reader = await SFileReader.OpenAsync(RangeSource.FromMemory(file));
            foreach (var s in Small)
            {
                var found = await reader.FindAsync(s.Key);
                Assert.NotNull(found);
                var metadata = found.Value.Metadata.ToArray();
                var ts = new long[s.Timestamps.Length];
                var vs = new double[ts.Length];
                var n = await reader.ReadPointsAsync(found.Value.Entry, ts, vs);
                Assert.Null(TestSFiles.Compare(s, new TestSeries(found.Value.Entry.Key, metadata, ts[..n], vs[..n])));
            }

            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public async Task Every_single_byte_change_is_detected_by_a_full_scan_and_never_gives_wrong_data_to_a_lookup()
    {
        Assert.True(SFileLayout.Read(SmallFile).Footer.PageCount >= 3);
        Assert.Null(ReadEverything(SmallFile));
        var rng = new Random(1);
        for (var position = 0; position < SmallFile.Length; position++)
        {
            var damaged = (byte[])SmallFile.Clone();
            damaged[position] ^= (byte)rng.Next(1, 256);
            var scan = ReadEverything(damaged);
            var e = Assert.IsType<SFileFormatException>(scan);
            Assert.InRange(e.Offset, 0, SmallFile.Length);
            Assert.Contains("offset", e.Message);

            // The lookup reads only the tail, one page and one block: it either fails the same way or returns the right data.
            var lookup = await LookUpEverything(damaged);
            if (lookup is not null)
            {
                Assert.IsType<SFileFormatException>(lookup);
            }
        }
    }

    [Fact]
    public async Task A_truncated_file_of_any_length_is_reported_as_damage()
    {
        for (var length = 0; length < SmallFile.Length; length++)
        {
            var cut = SmallFile[..length];
            Assert.IsType<SFileFormatException>(ReadEverything(cut));
            Assert.IsType<SFileFormatException>(await LookUpEverything(cut));
        }
    }

    [Fact]
    public async Task Garbage_and_other_files_are_not_s_files()
    {
        var rng = new Random(2);
        foreach (var length in new[] { 0, 1, 31, 32, 100, 195, 4096, 70_000 })
        {
            var garbage = new byte[length];
            rng.NextBytes(garbage);
            Assert.IsType<SFileFormatException>(ReadEverything(garbage));
            Assert.IsType<SFileFormatException>(await LookUpEverything(garbage));
        }

        var segment = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "golden", "segment-v1.tseg"));
        var e = Assert.IsType<SFileFormatException>(ReadEverything(segment));
        Assert.Contains("TSFH", e.Message);
        Assert.IsType<SFileFormatException>(await LookUpEverything(segment));
    }

    [Fact]
    public void Damage_is_reported_at_the_offset_of_the_structure_that_holds_it()
    {
        var layout = SFileLayout.Read(SmallFile);
        var footer = layout.Footer;
        var scanner = new SFileScanner(SmallFile);
        var entries = new List<SFileIndexEntry>();
        while (scanner.MoveNext())
        {
            entries.Add(scanner.Current);
        }

        scanner.Dispose();

        var block = entries[5];
        AssertDamageAt(block.BlockOffset + 3, block.BlockOffset, "block");
        var page = footer.Pages[1];
        AssertDamageAt(page.Offset + 30, page.Offset, "page 1");
        AssertDamageAt(layout.FooterOffset + 20, layout.FooterOffset, "footer");
        AssertDamageAt(10, 0, "header");
    }

    private static void AssertDamageAt(long position, long expectedOffset, string what)
    {
        var damaged = (byte[])SmallFile.Clone();
        damaged[position] ^= 0x40;
        var e = Assert.IsType<SFileFormatException>(ReadEverything(damaged));
        Assert.True(e.Offset == expectedOffset, $"{what}: damage at {position} reported at {e.Offset}, expected {expectedOffset}: {e.Message}");
    }

    /// <summary>Fields that are wrong under intact checksums (a writer bug, or deliberate) are caught by the consistency checks, before any allocation they would size.</summary>
    [Fact]
    public async Task Inconsistent_fields_under_valid_checksums_are_rejected_without_large_allocations()
    {
        Assert.Null(ReadEverything(PlainFile));
        var layout = SFileLayout.Read(PlainFile);
        var footerAt = (int)layout.FooterOffset;

        // A footer claiming 1 GiB page bodies.
        var huge = PatchFooter(f => BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(footerAt + 80), 1 << 30));
        Assert.IsType<SFileFormatException>(ReadEverything(huge));
        Assert.IsType<SFileFormatException>(await LookUpEverything(huge));

        // A footer whose page directory points outside the index.
        var badPage = PatchFooter(f => BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(footerAt + SFileFormat.FooterFixedLength + 20), 5));
        Assert.IsType<SFileFormatException>(ReadEverything(badPage));

        // A footer with a different series count than its trailer.
        var count = PatchFooter(f => BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(footerAt + 16), 9));
        Assert.IsType<SFileFormatException>(ReadEverything(count));

        // An index entry whose block length reaches past the blocks, in a page with a valid checksum.
        var page = layout.Footer.Pages[0];
        var longBlock = PatchPage(page, body => BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(28), int.MaxValue));
        Assert.IsType<SFileFormatException>(ReadEverything(longBlock));
        Assert.IsType<SFileFormatException>(await LookUpEverything(longBlock));

        // An index entry with a page body length past the footer's bound.
        var longBody = PatchPage(page, _ => { }, bodyLength: 1 << 30);
        Assert.IsType<SFileFormatException>(ReadEverything(longBody));
        Assert.IsType<SFileFormatException>(await LookUpEverything(longBody));

        // A block whose checksum is right for its bytes but whose codec data is not a block.
        var entry = FirstEntry(PlainFile);
        var badBlock = (byte[])PlainFile.Clone();
        var codecBytes = badBlock.AsSpan((int)entry.BlockOffset, entry.BlockLength - 4);
        codecBytes.Fill(0xEE);
        BinaryPrimitives.WriteUInt32LittleEndian(badBlock.AsSpan((int)entry.BlockOffset + entry.BlockLength - 4),
            SFileFormat.BlockChecksum(entry.Key, codecBytes, new System.IO.Hashing.Crc32()));
        var e = Assert.IsType<SFileFormatException>(ReadEverything(badBlock));
        Assert.Equal(entry.BlockOffset, e.Offset);
        Assert.IsType<SFileFormatException>(await LookUpEverything(badBlock));

        // The block under another key fails its checksum: a block is bound to the key of its entry.
        var rekeyed = PatchPage(page, body => BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(12), entry.Key.ContextKey ^ 1));
        Assert.IsType<SFileFormatException>(ReadEverything(rekeyed));
    }

    [Fact]
    public async Task A_codec_that_is_not_registered_is_a_clear_error()
    {
        var registry = new SeriesCodecRegistry();
        var custom = new RenumberedCodec(200);
        registry.Register(custom);
        var file = TestSFiles.Write(Small, new SFileWriterOptions { Codec = custom });
        Assert.Null(TestSFiles.Compare(Small, TestSFiles.Scan(file, new SFileReaderOptions { Codecs = registry })));
        var e = Assert.IsType<SFileFormatException>(ReadEverything(file));
        Assert.Contains("codec id 200", e.Message);
        Assert.IsType<SFileFormatException>(await LookUpEverything(file));
    }

    private static SFileIndexEntry FirstEntry(byte[] file)
    {
        var scanner = new SFileScanner(file);
        try
        {
            Assert.True(scanner.MoveNext());
            return scanner.Current;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>Changes the footer of <see cref="PlainFile"/>, then fixes the footer checksum in the trailer and the trailer's own checksum.</summary>
    private static byte[] PatchFooter(Action<byte[]> change)
    {
        var file = (byte[])PlainFile.Clone();
        change(file);
        var trailerAt = file.Length - SFileFormat.TrailerLength;
        var footerAt = (int)BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(trailerAt));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(trailerAt + 12), SFileFormat.Checksum(file.AsSpan(footerAt, trailerAt - footerAt)));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(trailerAt + 24), SFileFormat.Checksum(file.AsSpan(trailerAt, 24)));
        return file;
    }

    /// <summary>Changes a plain page's body (and optionally its declared body length) in a copy of <see cref="PlainFile"/>, and fixes the page checksum.</summary>
    private static byte[] PatchPage(SFileIndexPage page, Action<byte[]> changeBody, int? bodyLength = null)
    {
        var file = (byte[])PlainFile.Clone();
        var at = (int)page.Offset;
        Assert.Equal(SFileFormat.PagePlain, file[at + 4]);
        var length = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 12));
        var body = file.AsSpan(at + SFileFormat.IndexPageHeaderLength, length).ToArray();
        changeBody(body);
        body.CopyTo(file, at + SFileFormat.IndexPageHeaderLength);
        if (bodyLength is { } declared)
        {
            BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(at + 12), declared);
        }

        var crcAt = at + SFileFormat.IndexPageHeaderLength + length;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(crcAt), SFileFormat.Checksum(file.AsSpan(at, crcAt - at)));
        return file;
    }

    /// <summary>The default codec under a user codec id.</summary>
    private sealed class RenumberedCodec(byte id) : ISeriesCodec
    {
        public byte Id => id;

        public string Name => "renumbered";

        public int GetMaxEncodedLength(int pointCount) => SeriesCodecs.Tailor.GetMaxEncodedLength(pointCount);

        public int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination) =>
            SeriesCodecs.Tailor.Encode(timestamps, values, destination);

        public System.Buffers.OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed) =>
            SeriesCodecs.Tailor.Decode(source, timestamps, values, out pointsDecoded, out bytesConsumed);

        public System.Buffers.OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount) =>
            SeriesCodecs.Tailor.ReadPointCount(source, out pointCount);
    }
}
