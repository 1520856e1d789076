using System.IO.Hashing;
using Tailor.Format.Codecs;
using Tailor.Format.Series;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>
/// S-files through <see cref="SFileHeader.Read"/>, <see cref="SFileLayout"/> (whole and by ranged tail
/// reads), <see cref="SFileScanner"/> over a span and over a span source (and, for a share of cases, a
/// <see cref="MappedSFile"/>), and <see cref="SFileReader"/> lookups of every key the scanner found and of
/// keys the file does not hold.
/// </summary>
/// <remarks>
/// Contract: the readers are strict, so the only exception any of them may throw on file content is
/// <see cref="SFileFormatException"/>; a lookup finds exactly the entry, metadata and points the scanner
/// read for a key; a block the scanner rejects is rejected by the lookup too; nothing allocates more than
/// the bounds the footer itself is checked against (an index page body of at most 16 MiB, codec buffers for
/// the points decoded) plus a small multiple of the file; a valid file reads completely, and a cold lookup
/// takes at most three range reads.
/// </remarks>
public sealed class SFileTarget : FuzzTarget
{
    private const int MaxInput = 1 << 20;
    private const int PointCap = 1 << 16;

    private readonly GuardedBuffer? _guard = GuardedBuffer.TryCreate(MaxInput + 4096);
    private readonly long[] _timestamps = new long[PointCap];
    private readonly double[] _values = new double[PointCap];
    private readonly List<Scanned> _scanned = new(4096);
    private readonly List<Scanned> _again = new(4096);

    public override string Name => "sfile";

    public override int DefaultCases => 12_000;

    public override FuzzInput Generate(FuzzRandom random)
    {
        var seeds = SFileCorpus.Seeds;
        var seed = random.Pick(seeds);
        var roll = random.Next(100);
        if (roll < 4)
        {
            return new FuzzInput(seed.File.Bytes, "valid S-file", Pristine: true);
        }

        var log = new List<string>();
        byte[] bytes;
        if (roll < 90)
        {
            var inPlace = random.NextBool();
            bytes = ByteMutator.Mutate(random, seed.File, seed.Tokens, roll < 84 && !inPlace ? random.Pick(seeds).File.Bytes : null, log, maxLength: MaxInput, inPlace: inPlace);
        }
        else if (roll < 95)
        {
            // Valid head and tail around garbage: the footer and pages point into noise.
            bytes = seed.File.Bytes.ToArray();
            var from = random.Next(bytes.Length);
            random.NextBytes(bytes.AsSpan(from, Math.Min(bytes.Length - from, random.NextLength(4096))));
            log.Add("garbage in the middle");
        }
        else
        {
            bytes = random.NextBytes(random.NextLength(4096));
            if (bytes.Length >= 4 && random.NextBool())
            {
                seed.Tokens[0].CopyTo(bytes, 0);
            }

            log.Add("random bytes");
        }

        if (random.Next(10) < 6)
        {
            SFileCorpus.FixChecksums(bytes);
            log.Add("checksums fixed");
        }

        return new FuzzInput(bytes, string.Join(", ", log));
    }

    public override void Run(FuzzInput input)
    {
        var bytes = input.Bytes;
        var n = bytes.Length;
        var random = new FuzzRandom(XxHash64.HashToUInt64(bytes));
        var file = _guard is null ? bytes : _guard.Place(bytes);
        var small = (16L * n) + (256 * 1024);

        var before = Contract.AllocatedSoFar();
        var headerOk = Strict(() => SFileHeader.Read(bytes));
        SFileLayout? layout = null;
        try
        {
            layout = SFileLayout.Read(file);
        }
        catch (SFileFormatException)
        {
        }

        Contract.Allocated("SFileHeader.Read and SFileLayout.Read", before, small);
        CheckLayoutByRanges(file, layout);
        Contract.That(!input.Pristine || (headerOk && layout is not null), "valid S-file rejected");

        // What the footer allows: one page body buffer, codec buffers for the largest series decoded, and the file's size in small objects.
        var bound = small;
        if (layout is not null)
        {
            var stats = layout.Footer.Stats;
            bound += Contract.PoolSize(stats.MaxPageBodyLength) + (20L * Math.Min(stats.MaxPointCount, PointCap)) + (128 * 1024);
        }

        before = Contract.AllocatedSoFar();
        var scanError = ScanSpan(file, _scanned);
        Contract.Allocated("SFileScanner (span)", before, bound);
        Contract.That(!input.Pristine || scanError is null, "valid S-file does not scan", $"{scanError}");
        Contract.That(scanError is not null || layout is null || _scanned.Count == layout.Footer.Stats.SeriesCount, "a clean scan missed series");

        before = Contract.AllocatedSoFar();
        var sourceError = ScanSource(new MemorySFileSource(bytes), _again);
        Contract.Allocated("SFileScanner (span source)", before, bound);
        SameScan("SFileScanner over a span source", sourceError, scanError);

        if (input.Thorough || random.Next(24) == 0)
        {
            var path = Path.Combine(FuzzSettings.ArtifactsFolder, "tmp", $"sfile-{Environment.CurrentManagedThreadId}.tsf");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            try
            {
                using var mapped = new MappedSFile(path);
                SameScan("SFileScanner over a mapped file", ScanSource(mapped, _again), scanError);
                Count("mapped file");
            }
            finally
            {
                File.Delete(path);
            }
        }

        before = Contract.AllocatedSoFar();
        Lookups(bytes, layout, random);
        Contract.Allocated("SFileReader", before, bound + Contract.PoolSize(n) + (64 * 1024));
        if (input.Pristine && _scanned.Count > 0 && layout!.TailLength <= SFileLayout.DefaultTailBytes)
        {
            ColdLookup(bytes);
        }

        Count(layout is null ? (headerOk ? "footer rejected" : "rejected") : scanError is null ? "scanned clean" : _scanned.Count > 0 ? "series then damage" : "damage before any series");
    }

    /// <summary>The layout from ranged tail reads (a short tail first, then what it asks for) matches the whole file's.</summary>
    private static void CheckLayoutByRanges(ReadOnlySpan<byte> file, SFileLayout? layout)
    {
        SFileLayout? ranged = null;
        try
        {
            var tail = file[Math.Max(0, file.Length - 1024)..];
            ranged = SFileLayout.Parse(tail, file.Length, out var needed);
            if (ranged is null)
            {
                Contract.That(needed > tail.Length && needed <= file.Length, "the layout asks for a tail it cannot use", $"{needed} of {file.Length}");
                ranged = SFileLayout.Parse(file[^needed..], file.Length, out _);
                Contract.That(ranged is not null, "the layout asked for more tail bytes twice");
            }
        }
        catch (SFileFormatException)
        {
        }

        Contract.That((ranged is null) == (layout is null) && (ranged is null || (ranged.FooterOffset == layout!.FooterOffset && ranged.Footer.PageCount == layout.Footer.PageCount)),
            "the layout from ranged reads differs from the whole file's");
    }

    private string? ScanSpan(ReadOnlySpan<byte> file, List<Scanned> into)
    {
        into.Clear();
        SFileScanner scanner;
        try
        {
            scanner = new SFileScanner(file);
        }
        catch (SFileFormatException e)
        {
            return Describe(e);
        }

        try
        {
            return Walk(ref scanner, into);
        }
        finally
        {
            scanner.Dispose();
        }
    }

    private string? ScanSource(SFileSpanSource source, List<Scanned> into)
    {
        into.Clear();
        SFileScanner scanner;
        try
        {
            scanner = new SFileScanner(source);
        }
        catch (SFileFormatException e)
        {
            return Describe(e);
        }

        try
        {
            return Walk(ref scanner, into);
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>Moves through every series, decoding each that fits the buffers; returns the exception that stopped the scan, if any.</summary>
    private string? Walk(ref SFileScanner scanner, List<Scanned> into)
    {
        try
        {
            while (scanner.MoveNext())
            {
                var entry = scanner.Current;
                Contract.That(scanner.Block.Length == entry.BlockLength && scanner.Metadata.Length == entry.MetadataLength, "the scanner's block or metadata does not match its entry");
                ulong pointsHash = 0;
                var rejected = false;
                var decoded = false;
                if (entry.PointCount <= PointCap)
                {
                    try
                    {
                        var count = scanner.ReadPoints(_timestamps, _values);
                        Contract.That(count == entry.PointCount, "ReadPoints returned another count than the entry's", $"{count} against {entry.PointCount}");
                        pointsHash = HashPoints(count);
                        decoded = true;
                    }
                    catch (SFileFormatException)
                    {
                        rejected = true;
                    }
                }

                into.Add(new Scanned(entry, XxHash3.HashToUInt64(scanner.Metadata), pointsHash, decoded, rejected));
            }

            return null;
        }
        catch (SFileFormatException e)
        {
            return Describe(e);
        }
    }

    private void SameScan(string reader, string? error, string? expectedError)
    {
        Contract.That(error == expectedError, $"{reader} stops elsewhere", $"{error ?? "no error"} against {expectedError ?? "no error"}");
        Contract.That(_again.SequenceEqual(_scanned), $"{reader} returns other series", $"{_again.Count} against {_scanned.Count}");
    }

    /// <summary>Every key the scanner read is found by a lookup with the same entry, metadata and points; keys the file lacks are not.</summary>
    private void Lookups(byte[] bytes, SFileLayout? layout, FuzzRandom random)
    {
        SFileReader? reader = null;
        try
        {
            reader = ReadSources.Wait(SFileReader.OpenAsync(RangeSource.FromMemory(bytes), new SFileReaderOptions { TailReadBytes = random.Next(32, 70_000) }));
        }
        catch (SFileFormatException)
        {
        }

        var registered = layout is not null && SeriesCodecRegistry.Shared.TryGet(layout.Footer.CodecId, out _);
        Contract.That((reader is not null) == registered, "SFileReader.OpenAsync disagrees with the layout", $"opened {reader is not null}, layout {layout is not null}");
        if (reader is null)
        {
            return;
        }

        using (reader)
        {
            Contract.That(reader.ReadCount <= 2, "opening took more than two reads", $"{reader.ReadCount}");
            var step = Math.Max(1, _scanned.Count / 48);
            for (var i = random.Next(step); i < _scanned.Count; i += step)
            {
                var scanned = _scanned[i];
                SFileSeries? found;
                try
                {
                    found = ReadSources.Wait(reader.FindAsync(scanned.Entry.Key));
                }
                catch (SFileFormatException e)
                {
                    throw new ContractViolationException("a lookup rejects an index page the scanner read", $"{scanned.Entry.Key}: {e.Message}");
                }

                Contract.That(found is { } f && f.Entry == scanned.Entry && XxHash3.HashToUInt64(f.Metadata.Span) == scanned.MetadataHash,
                    "a lookup returns another entry than the scanner", $"{scanned.Entry.Key}");
                if (scanned.Entry.PointCount <= PointCap)
                {
                    ComparePoints(reader, scanned, random);
                }
            }

            for (var k = 0; k < 4; k++)
            {
                var key = _scanned.Count > 0 && random.NextBool()
                    ? Neighbour(_scanned[random.Next(_scanned.Count)].Entry.Key, random)
                    : new SeriesKey(random.NextUInt32() % 64, random.NextUInt64() % 128, random.NextUInt64());
                try
                {
                    var found = ReadSources.Wait(reader.FindAsync(key));
                    var index = _scanned.FindIndex(s => s.Entry.Key == key);
                    Contract.That(found is null || index < 0 || found.Value.Entry == _scanned[index].Entry, "a lookup of a neighbouring key returns another entry");
                    Contract.That(found is null || found.Value.Entry.Key == key, "a lookup returns another key", $"{found?.Entry.Key} for {key}");
                }
                catch (SFileFormatException)
                {
                }
            }
        }
    }

    private void ComparePoints(SFileReader reader, Scanned scanned, FuzzRandom random)
    {
        var entry = scanned.Entry;
        int count;
        try
        {
            count = ReadSources.Wait(reader.ReadPointsAsync(entry, _timestamps, _values));
        }
        catch (SFileFormatException)
        {
            Contract.That(scanned.Rejected, "a lookup rejects a block the scanner decoded", $"{entry.Key}");
            return;
        }

        Contract.That(scanned.Decoded && count == entry.PointCount && HashPoints(count) == scanned.PointsHash,
            "a lookup returns other points than the scanner", $"{entry.Key}: {count} points, scanner decoded {scanned.Decoded}");

        // A time range is a slice of the whole series.
        var from = entry.MinTimestamp + (long)(random.NextDouble() * (entry.MaxTimestamp - (double)entry.MinTimestamp));
        var to = random.NextBool() ? long.MaxValue : from + random.Next(1, 100_000);
        var first = Array.BinarySearch(_timestamps, 0, count, from);
        first = first >= 0 ? first : ~first;
        var last = Array.BinarySearch(_timestamps, 0, count, to);
        last = last >= 0 ? last : ~last;
        var expected = XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_timestamps.AsSpan(first, Math.Max(0, last - first))));
        var inRange = ReadSources.Wait(reader.ReadPointsAsync(entry, _timestamps, _values, from, to));
        Contract.That(inRange == Math.Max(0, last - first)
            && XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_timestamps.AsSpan(0, inRange))) == expected,
            "a time range is not the slice of the series", $"{entry.Key} [{from}, {to}): {inRange} points, expected {last - first}");
    }

    /// <summary>A cold reader finds and reads one series of a valid file in at most three range reads.</summary>
    private void ColdLookup(byte[] bytes)
    {
        using var reader = ReadSources.Wait(SFileReader.OpenAsync(RangeSource.FromMemory(bytes)));
        var entry = _scanned[_scanned.Count / 2].Entry;
        var found = ReadSources.Wait(reader.FindAsync(entry.Key));
        Contract.That(found is not null, "a cold lookup misses a series");
        if (entry.PointCount <= PointCap)
        {
            ReadSources.Wait(reader.ReadPointsAsync(found!.Value.Entry, _timestamps, _values));
        }

        Contract.That(reader.ReadCount <= 3, "a cold lookup took more than three range reads", $"{reader.ReadCount}");
    }

    private ulong HashPoints(int count) =>
        XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_timestamps.AsSpan(0, count)))
        ^ (XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_values.AsSpan(0, count))) * 31);

    private static SeriesKey Neighbour(SeriesKey key, FuzzRandom random) => random.Next(3) switch
    {
        0 => key with { ContextKey = unchecked(key.ContextKey + 1) },
        1 => key with { ContextKey = unchecked(key.ContextKey - 1) },
        _ => key with { MetricId = unchecked(key.MetricId + 1) },
    };

    private static string Describe(SFileFormatException e) => $"SFileFormatException at {e.Offset}";

    private static bool Strict(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (SFileFormatException)
        {
            return false;
        }
    }

    protected override void Dispose(bool disposing)
    {
        _guard?.Dispose();
        base.Dispose(disposing);
    }

    private readonly record struct Scanned(SFileIndexEntry Entry, ulong MetadataHash, ulong PointsHash, bool Decoded, bool Rejected);
}
