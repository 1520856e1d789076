using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>
/// Segment files through every segment reader: the span reader (whole file, header-only state, strict
/// mode, random splits), <see cref="SegmentSequenceReader"/> over randomly cut buffers,
/// <see cref="MemorySegmentCursor"/> with small windows, <see cref="SegmentStreamReader"/> over seekable
/// and trickling streams, <see cref="SegmentPipeReader"/>, and (for a share of cases) the file-backed
/// <see cref="FileSegmentCursor"/> and <see cref="MappedSegmentFile"/>.
/// </summary>
/// <remarks>
/// Contract: lenient readers never throw, except <see cref="SegmentFormatException"/> when neither the
/// header nor the footer gives the sync marker (or, reading from the header alone, when the header is
/// unreadable); every record returned is intact (marker, length within the configured 1 MiB limit,
/// checksum, zstd magic) and lies inside the file; readers given the same state return the same records
/// and counts; the records of contiguous splits are the whole file's records, each once, with the same
/// damage count; strict mode throws only <see cref="SegmentFormatException"/>, and exactly when the lenient
/// reader counts damage; no reader allocates more than the configured record limit (rounded to the pool's
/// size) plus a small multiple of the input. A file without damage reads completely.
/// </remarks>
public sealed class SegmentTarget : FuzzTarget
{
    private const int MaxRecordBytes = PayloadFrameTarget.MaxPayloadBytes;
    private const int MaxInput = 512 * 1024;

    private static readonly SegmentReaderOptions Lenient = new() { MaxRecordBytes = MaxRecordBytes };
    private static readonly SegmentReaderOptions StrictMode = new() { MaxRecordBytes = MaxRecordBytes, Strict = true };

    private readonly PayloadDecoder _decoder = new(MaxRecordBytes);
    private readonly GuardedBuffer? _guard = GuardedBuffer.TryCreate(MaxInput + 4096);
    private readonly RecordLog _whole = new();
    private readonly RecordLog _header = new();
    private readonly RecordLog _other = new();
    private readonly RecordLog _split = new();
    private readonly RecordLog _splits = new();
    private readonly long[] _cuts = new long[8];

    public override string Name => "segment";

    public override int DefaultCases => 12_000;

    public override FuzzInput Generate(FuzzRandom random)
    {
        var seeds = SegmentCorpus.Seeds;
        var seed = random.Pick(seeds);
        var roll = random.Next(100);
        if (roll < 4)
        {
            return new FuzzInput(seed.File.Bytes, "valid segment", Pristine: seed.Complete);
        }

        var log = new List<string>();
        byte[] bytes;
        if (roll < 88)
        {
            var other = random.Pick(seeds);
            var inPlace = random.Next(10) < 3;
            bytes = ByteMutator.Mutate(random, seed.File, seed.Tokens, roll < 80 && !inPlace ? other.File.Bytes : null, log, maxLength: MaxInput, inPlace: inPlace);
        }
        else if (roll < 95)
        {
            // A valid header, then garbage salted with the file's marker and magics.
            bytes = random.NextBytes(SegmentFormat.HeaderLength + random.NextLength(16 * 1024));
            seed.File.Bytes.AsSpan(0, SegmentFormat.HeaderLength).CopyTo(bytes);
            for (var i = random.Next(8); i > 0; i--)
            {
                var token = random.Pick(seed.Tokens);
                var at = random.Next(SegmentFormat.HeaderLength, Math.Max(SegmentFormat.HeaderLength + 1, bytes.Length - token.Length));
                token.AsSpan(0, Math.Min(token.Length, bytes.Length - at)).CopyTo(bytes.AsSpan(at));
            }

            log.Add("header then garbage");
        }
        else
        {
            bytes = random.NextBytes(random.NextLength(4096));
            log.Add("random bytes");
        }

        if (random.Next(10) < 6)
        {
            SegmentCorpus.FixChecksums(bytes, seed.Marker);
            log.Add("checksums fixed");
        }

        return new FuzzInput(bytes, string.Join(", ", log));
    }

    public override void Run(FuzzInput input)
    {
        var bytes = input.Bytes;
        var random = new FuzzRandom(XxHash64.HashToUInt64(bytes));
        var n = bytes.Length;
        var capacity = (n / (SegmentFormat.RecordHeaderLength + 1)) + 2;
        foreach (var log in new[] { _whole, _header, _other, _split, _splits })
        {
            log.Reserve(capacity);
        }

        // A reader's own allocations: the records' problem texts while it scans damage, an exception, small objects.
        var scanBound = (64L * n) + (256 * 1024);
        // Plus one buffer that holds the largest record the configured limit allows, as the pool rounds it.
        var bufferBound = scanBound + (2 * Contract.PoolSize(MaxRecordBytes + SegmentFormat.RecordHeaderLength)) + (128 * 1024);
        var file = _guard is null ? bytes : _guard.Place(bytes);

        var before = Contract.AllocatedSoFar();
        var layout = SegmentLayout.Read(file);
        Contract.Allocated("SegmentLayout.Read", before, (8L * n) + (64 * 1024));
        CheckLayoutByRanges(file, layout);

        // The reference: the whole file from the state its layout gives.
        before = Contract.AllocatedSoFar();
        ReadSpan(file, layout, null, _whole);
        Contract.Allocated("SegmentReader (whole file)", before, scanBound);
        Contract.That(_whole.Threw == !layout.IsReadable, "the layout state throws other than when the file is unreadable", $"threw {_whole.Threw}, readable {layout.IsReadable}");
        if (layout.IsReadable)
        {
            Contract.That(layout.LostRecords(_whole.Stats) >= 0, "negative lost records");
            Contract.That(layout.Footer is null || _whole.Count == 0 || _whole.LastEnd <= layout.DataEnd, "a record runs into the footer");
        }

        if (input.Pristine)
        {
            Contract.That(!_whole.Threw && _whole.Stats.DamagedRegions == 0 && layout.RecordCount == _whole.Count && layout.LostRecords(_whole.Stats) == 0,
                "valid segment not read completely", $"{_whole.Count} records of {layout.RecordCount}, {_whole.Stats.DamagedRegions} damaged regions");
        }

        // From the header alone, as pipes and non-seekable streams read.
        before = Contract.AllocatedSoFar();
        ReadSpan(file, null, SegmentReaderState.ForFile(Lenient), _header);
        Contract.Allocated("SegmentReader (header state)", before, scanBound);
        var headerReadable = SegmentHeader.TryRead(file, out _, out _);
        Contract.That(_header.Threw == !headerReadable, "the header state throws other than for an unreadable header", $"threw {_header.Threw}, header readable {headerReadable}");

        // Strict: throws exactly where lenient counts damage.
        before = Contract.AllocatedSoFar();
        ReadSpan(file, layout, null, _other, StrictMode);
        Contract.Allocated("SegmentReader (strict)", before, scanBound);
        if (!_whole.Threw)
        {
            var damaged = _whole.Stats.DamagedRegions > 0;
            Contract.That(_other.Threw == damaged, "strict mode disagrees with lenient mode about damage", $"strict threw {_other.Threw}, lenient damaged regions {_whole.Stats.DamagedRegions}");
            if (!damaged)
            {
                Same("strict reader", _other, _whole, stats: false);
            }
        }

        if (!_whole.Threw)
        {
            CheckSplits(file, layout, random, scanBound);
        }

        var sequence = ReadSources.Chunked(bytes, random);
        before = Contract.AllocatedSoFar();
        ReadSequence(sequence, layout.IsReadable ? null : SegmentReaderState.ForFile(Lenient), layout, _other, bytes);
        Contract.Allocated("SegmentSequenceReader", before, bufferBound);
        Same("SegmentSequenceReader (layout state)", _other, _whole);

        before = Contract.AllocatedSoFar();
        ReadSequence(sequence, SegmentReaderState.ForFile(Lenient), null, _other, bytes);
        Contract.Allocated("SegmentSequenceReader (header state)", before, bufferBound);
        Same("SegmentSequenceReader (header state)", _other, _header);

        if (layout.IsReadable)
        {
            var window = random.Next(SegmentFormat.RecordHeaderLength, 4096);
            before = Contract.AllocatedSoFar();
            ReadCursor(new MemorySegmentCursor(bytes, layout.CreateFileState(Lenient), window), _other, bytes);
            Contract.Allocated("MemorySegmentCursor", before, scanBound);
            Same("MemorySegmentCursor", _other, _whole);
        }

        var stream = new MemoryStream(bytes, writable: false);
        before = Contract.AllocatedSoFar();
        ReadStream(new SegmentStreamReader(stream, Lenient), _other, bytes, out var streamLayout);
        Contract.Allocated("SegmentStreamReader (seekable)", before, bufferBound + (4L * n) + (128 * 1024));
        Contract.That(streamLayout is not null && streamLayout.IsReadable == layout.IsReadable && streamLayout.DataEnd == layout.DataEnd,
            "the stream reader's layout differs");
        Same("SegmentStreamReader (seekable)", _other, layout.IsReadable ? _whole : _header);

        var trickle = new TrickleStream(bytes, random);
        before = Contract.AllocatedSoFar();
        ReadStream(new SegmentStreamReader(trickle, Lenient), _other, bytes, out _);
        Contract.Allocated("SegmentStreamReader (trickle)", before, bufferBound);
        Same("SegmentStreamReader (trickle)", _other, _header);

        var pipe = PipeReader.Create(ReadSources.Chunked(bytes, random));
        before = Contract.AllocatedSoFar();
        ReadPipe(new SegmentPipeReader(pipe, Lenient), _other, bytes);
        Contract.Allocated("SegmentPipeReader", before, bufferBound);
        Same("SegmentPipeReader", _other, _header);

        var decoded = 0;
        for (var i = 0; i < _whole.Count; i++)
        {
            var frame = file.Slice((int)_whole.Offsets[i] + SegmentFormat.RecordHeaderLength, _whole.Lengths[i]);
            decoded += _decoder.TryValidate(frame, out _) == PayloadStatus.Ok ? 1 : 0;
        }

        if (layout.IsReadable && (input.Thorough || random.Next(24) == 0))
        {
            ReadFiles(bytes, layout, random, bufferBound);
        }

        Count(_whole.Threw ? "unreadable" : _whole.Stats.DamagedRegions == 0 ? (_whole.Count > 0 ? "records, no damage" : "no records, no damage") : _whole.Count > 0 ? "records and damage" : "damage only");
        if (decoded > 0)
        {
            Count("payloads decoded");
        }
    }

    /// <summary>The layout found with ranged reads of the head and tail (a short tail first) matches the in-memory one.</summary>
    private static void CheckLayoutByRanges(ReadOnlySpan<byte> file, SegmentLayout layout)
    {
        var tail = file[Math.Max(0, file.Length - 1024)..];
        var ranged = SegmentLayout.Parse(file[..Math.Min(file.Length, SegmentFormat.HeaderLength)], tail, file.Length, out var needed);
        if (needed > tail.Length)
        {
            Contract.That(needed <= file.Length, "the layout asks for more tail bytes than the file has", $"{needed} of {file.Length}");
            ranged = SegmentLayout.Parse(file[..Math.Min(file.Length, SegmentFormat.HeaderLength)], file[^needed..], file.Length, out _);
        }

        Contract.That(ranged.IsReadable == layout.IsReadable && ranged.DataEnd == layout.DataEnd && ranged.RecordCount == layout.RecordCount
            && (ranged.Footer is null) == (layout.Footer is null), "the layout from ranged reads differs from the whole file's");
    }

    private void CheckSplits(ReadOnlySpan<byte> file, SegmentLayout layout, FuzzRandom random, long scanBound)
    {
        var count = random.Next(1, _cuts.Length - 1);
        _cuts[0] = 0;
        for (var i = 1; i < count; i++)
        {
            _cuts[i] = random.Next(file.Length + 1);
        }

        Array.Sort(_cuts, 1, count - 1);
        _cuts[count] = random.NextBool() ? long.MaxValue : file.Length;
        _splits.Reset();
        long damaged = 0;
        var before = Contract.AllocatedSoFar();
        for (var i = 0; i < count; i++)
        {
            ReadSpan(file, null, layout.CreateSplitState(_cuts[i], _cuts[i + 1], Lenient), _split);
            Contract.That(!_split.Threw, "a split threw");
            damaged += _split.Stats.DamagedRegions;
            for (var k = 0; k < _split.Count; k++)
            {
                Contract.That(_split.Offsets[k] >= _cuts[i] && _split.Offsets[k] < _cuts[i + 1], "a split returned a record that begins outside it",
                    $"record at {_split.Offsets[k]}, split [{_cuts[i]}, {_cuts[i + 1]})");
                _splits.Append(_split.Offsets[k], _split.Ordinals[k], _split.Lengths[k]);
            }
        }

        Contract.Allocated("SegmentReader (splits)", before, scanBound * count);
        if (_splits.SameRecords(_whole))
        {
            Contract.That(damaged == _whole.Stats.DamagedRegions, "the splits' damage counts do not add up to the whole file's",
                $"{damaged} against {_whole.Stats.DamagedRegions} over cuts {string.Join(", ", _cuts.Take(count + 1))}");
            return;
        }

        // Two differences the format allows. An intact record hidden inside another record's frame (a record
        // copied into a frame, checksums fixed) is found by a split that starts inside the outer one. And without
        // a trusted trailer, the footer magic at a record boundary ends the whole file's records (docs/format.md),
        // which a split that starts after it cannot know: it reads any intact record that follows.
        var footerStop = layout.DataEnd == long.MaxValue && !_whole.Stats.DamagedTail && _whole.EndPosition + 4 <= file.Length
            && BinaryPrimitives.ReadUInt32LittleEndian(file[(int)_whole.EndPosition..]) == SegmentFormat.FooterMagic ? _whole.EndPosition : long.MaxValue;
        var nested = false;
        var afterFooter = false;
        for (var k = 0; k < _splits.Count; k++)
        {
            if (!_whole.Contains(_splits.Offsets[k]))
            {
                var inside = _whole.Inside(_splits.Offsets[k]);
                var beyond = _splits.Offsets[k] > footerStop;
                Contract.That(inside || beyond, "a split returned a record the whole file does not have",
                    $"record at {_splits.Offsets[k]} over cuts {string.Join(", ", _cuts.Take(count + 1))}");
                nested |= inside;
                afterFooter |= beyond;
            }
        }

        Contract.That(nested || afterFooter, "the splits missed records of the whole file", $"{_splits.Count} against {_whole.Count} over cuts {string.Join(", ", _cuts.Take(count + 1))}");
        Count(nested ? "nested record found by a split" : "record after an untrusted footer magic found by a split");
    }

    private static void ReadSpan(ReadOnlySpan<byte> file, SegmentLayout? layout, SegmentReaderState? given, RecordLog log, SegmentReaderOptions? options = null)
    {
        log.Reset();
        try
        {
            var state = given ?? layout!.CreateFileState(options ?? Lenient);
            var reader = SegmentReader.OverFile(file, state);
            while (reader.TryReadRecord(out var record))
            {
                log.Add(record.Offset, record.Ordinal, record.Frame, file, strictOrder: true);
            }

            Contract.That(reader.CurrentState.IsDone, "a reader over the whole file stopped without being done");
            log.Stats = reader.CurrentState.Stats;
            log.EndPosition = reader.CurrentState.Position;
        }
        catch (SegmentFormatException e)
        {
            log.Threw = true;
            log.Problem = e.Message;
        }
    }

    private static void ReadSequence(System.Buffers.ReadOnlySequence<byte> sequence, SegmentReaderState? given, SegmentLayout? layout, RecordLog log, byte[] file)
    {
        log.Reset();
        try
        {
            var reader = new SegmentSequenceReader(sequence, 0, given ?? layout!.CreateFileState(Lenient));
            try
            {
                while (reader.TryReadRecord(out var record))
                {
                    log.Add(record.Offset, record.Ordinal, record.Frame, file, strictOrder: true);
                }

                log.Stats = reader.State.Stats;
            }
            finally
            {
                reader.Dispose();
            }
        }
        catch (SegmentFormatException e)
        {
            log.Threw = true;
            log.Problem = e.Message;
        }
    }

    private static void ReadCursor(SegmentRecordCursor cursor, RecordLog log, byte[] file)
    {
        log.Reset();
        while (cursor.TryReadRecord(out var record))
        {
            log.Add(record.Offset, record.Ordinal, record.Frame, file, strictOrder: true);
        }

        log.Stats = cursor.State.Stats;
    }

    private static void ReadStream(SegmentStreamReader reader, RecordLog log, byte[] file, out SegmentLayout? layout)
    {
        log.Reset();
        try
        {
            while (ReadSources.Wait(reader.ReadNextAsync()))
            {
                log.Add(reader.CurrentOffset, reader.CurrentOrdinal, reader.CurrentFrame.Span, file, strictOrder: true);
            }

            log.Stats = reader.State.Stats;
        }
        catch (SegmentFormatException e)
        {
            log.Threw = true;
            log.Problem = e.Message;
        }
        finally
        {
            layout = reader.Layout;
            reader.Dispose();
        }
    }

    private static void ReadPipe(SegmentPipeReader reader, RecordLog log, byte[] file)
    {
        log.Reset();
        try
        {
            while (ReadSources.Wait(reader.ReadNextAsync()))
            {
                log.Add(reader.CurrentOffset, reader.CurrentOrdinal, reader.CurrentFrame.Span, file, strictOrder: true);
            }

            log.Stats = reader.State.Stats;
        }
        catch (SegmentFormatException e)
        {
            log.Threw = true;
            log.Problem = e.Message;
        }
        finally
        {
            ReadSources.Wait(reader.DisposeAsync());
        }
    }

    /// <summary>One split through a stream and a cursor, and the whole file through the file-backed readers.</summary>
    private void ReadFiles(byte[] bytes, SegmentLayout layout, FuzzRandom random, long bufferBound)
    {
        var start = random.Next(bytes.Length + 1);
        var end = random.NextBool() ? long.MaxValue : random.Next(start, bytes.Length + 1);
        ReadSpan(bytes, null, layout.CreateSplitState(start, end, Lenient), _split);
        var stream = new MemoryStream(bytes, writable: false) { Position = Math.Min(start, bytes.Length) };
        ReadStream(new SegmentStreamReader(stream, Math.Min(start, bytes.Length), layout.CreateSplitState(start, end, Lenient)), _other, bytes, out _);
        Same("SegmentStreamReader (split)", _other, _split);
        ReadCursor(new MemorySegmentCursor(bytes, layout.CreateSplitState(start, end, Lenient), random.Next(SegmentFormat.RecordHeaderLength, 2048)), _other, bytes);
        Same("MemorySegmentCursor (split)", _other, _split);

        var folder = Path.Combine(FuzzSettings.ArtifactsFolder, "tmp");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"segment-{Environment.CurrentManagedThreadId}.tseg");
        File.WriteAllBytes(path, bytes);
        try
        {
            var before = Contract.AllocatedSoFar();
            var fileLayout = FileSegmentCursor.ReadLayout(path);
            Contract.That(fileLayout.IsReadable && fileLayout.DataEnd == layout.DataEnd && fileLayout.RecordCount == layout.RecordCount,
                "FileSegmentCursor.ReadLayout differs from the in-memory layout");
            using (var cursor = FileSegmentCursor.Open(path, fileLayout, windowBytes: random.Next(SegmentFormat.RecordHeaderLength, 8192)))
            {
                ReadCursor(cursor, _other, bytes);
            }

            Contract.Allocated("FileSegmentCursor", before, bufferBound + (8L * bytes.Length) + (256 * 1024));
            Same("FileSegmentCursor", _other, _whole);

            using var mapped = new MappedSegmentFile(path);
            Contract.That(mapped.Layout.DataEnd == layout.DataEnd && mapped.Layout.RecordCount == layout.RecordCount, "MappedSegmentFile's layout differs");
            ReadCursor(mapped.CreateCursor(options: Lenient, windowBytes: random.Next(SegmentFormat.RecordHeaderLength, 1 << 16)), _other, bytes);
            Same("MappedSegmentFile", _other, _whole);
            Count("file-backed readers");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Same(string reader, RecordLog actual, RecordLog expected, bool stats = true)
    {
        Contract.That(actual.Threw == expected.Threw, $"{reader} disagrees about throwing", $"threw {actual.Threw} ({actual.Problem}), reference threw {expected.Threw} ({expected.Problem})");
        Contract.That(actual.SameRecords(expected), $"{reader} returned other records", $"{actual.Describe()} against {expected.Describe()}");
        var a = actual.Stats;
        var e = expected.Stats;
        Contract.That(!stats || actual.Threw || (a.RecordsRead == e.RecordsRead && a.DamagedRegions == e.DamagedRegions && a.DamagedBytes == e.DamagedBytes
            && a.MaxOrdinal == e.MaxOrdinal && a.DamagedTail == e.DamagedTail), $"{reader} counted other damage",
            $"records {a.RecordsRead}/{e.RecordsRead}, regions {a.DamagedRegions}/{e.DamagedRegions}, bytes {a.DamagedBytes}/{e.DamagedBytes}, max ordinal {a.MaxOrdinal}/{e.MaxOrdinal}, tail {a.DamagedTail}/{e.DamagedTail}");
    }

    protected override void Dispose(bool disposing)
    {
        _decoder.Dispose();
        _guard?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>The records one reader returned, kept in arrays sized before the read so logging allocates nothing.</summary>
    private sealed class RecordLog
    {
        public long[] Offsets = new long[64];
        public uint[] Ordinals = new uint[64];
        public int[] Lengths = new int[64];

        public int Count { get; private set; }

        public SegmentReadStats Stats { get; set; }

        public bool Threw { get; set; }

        public string? Problem { get; set; }

        /// <summary>Where a span reader stood when it finished.</summary>
        public long EndPosition { get; set; }

        public long LastEnd => Count == 0 ? 0 : Offsets[Count - 1] + SegmentFormat.RecordHeaderLength + Lengths[Count - 1];

        public void Reserve(int capacity)
        {
            if (Offsets.Length < capacity)
            {
                Offsets = new long[capacity];
                Ordinals = new uint[capacity];
                Lengths = new int[capacity];
            }
        }

        public void Reset()
        {
            Count = 0;
            Stats = default;
            Threw = false;
            Problem = null;
        }

        /// <summary>Checks a record against the file's bytes and keeps it.</summary>
        public void Add(long offset, uint ordinal, ReadOnlySpan<byte> frame, ReadOnlySpan<byte> file, bool strictOrder)
        {
            var length = frame.Length;
            Contract.That(Count < Offsets.Length, "more records than the file's length allows");
            Contract.That(offset >= SegmentFormat.HeaderLength && length is > 0 and <= MaxRecordBytes
                && offset + SegmentFormat.RecordHeaderLength + length <= file.Length, "a record lies outside the file or the limit",
                $"offset {offset}, length {length}, file {file.Length}");
            Contract.That(!strictOrder || offset >= LastEnd, "records overlap or go backwards", $"{offset} after a record ending at {LastEnd}");
            var at = (int)offset;
            Contract.That(frame.SequenceEqual(file.Slice(at + SegmentFormat.RecordHeaderLength, length)), "a frame differs from the file's bytes", $"at {offset}");
            Contract.That(BinaryPrimitives.ReadInt32LittleEndian(file[(at + 20)..]) == length && BinaryPrimitives.ReadUInt32LittleEndian(file[(at + 24)..]) == ordinal,
                "a record's length or ordinal differs from the file's", $"at {offset}");
            Contract.That(BinaryPrimitives.ReadUInt32LittleEndian(file[(at + 16)..]) == SegmentFormat.Checksum(file.Slice(at + 20, 8 + length)),
                "a record with a wrong checksum was returned", $"at {offset}");
            Contract.That(Tailor.Format.Zstd.ZstdFrameDecompressor.StartsWithFrameMagic(frame), "a record without the zstd magic was returned", $"at {offset}");
            Append(offset, ordinal, length);
        }

        public void Append(long offset, uint ordinal, int length)
        {
            Contract.That(Count < Offsets.Length, "more records than the file's length allows");
            Offsets[Count] = offset;
            Ordinals[Count] = ordinal;
            Lengths[Count] = length;
            Count++;
        }

        public bool SameRecords(RecordLog other) =>
            Count == other.Count && Offsets.AsSpan(0, Count).SequenceEqual(other.Offsets.AsSpan(0, Count))
            && Ordinals.AsSpan(0, Count).SequenceEqual(other.Ordinals.AsSpan(0, Count)) && Lengths.AsSpan(0, Count).SequenceEqual(other.Lengths.AsSpan(0, Count));

        public bool Contains(long offset) => Offsets.AsSpan(0, Count).BinarySearch(offset) >= 0;

        /// <summary>Whether <paramref name="offset"/> lies inside one of the records (after its first byte).</summary>
        public bool Inside(long offset)
        {
            var i = Offsets.AsSpan(0, Count).BinarySearch(offset);
            i = i >= 0 ? i : ~i - 1;
            return i >= 0 && offset > Offsets[i] && offset < Offsets[i] + SegmentFormat.RecordHeaderLength + Lengths[i];
        }

        public string Describe() =>
            Threw ? $"an exception ({Problem})" : $"{Count} records [{string.Join(", ", Offsets.Take(Math.Min(Count, 8)))}{(Count > 8 ? ", …" : string.Empty)}]";
    }
}
