using System.Buffers;
using Tailor.Format.Series;
using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Series;

/// <summary>One series as the tests hold it.</summary>
internal sealed record TestSeries(SeriesKey Key, byte[] Metadata, long[] Timestamps, double[] Values);

/// <summary>Builds S-files from the workload corpus and reads them back whole, for the S-file tests.</summary>
internal static class TestSFiles
{
    /// <summary>Tag-like metadata of realistic size (60–200 bytes), deterministic per series.</summary>
    public static byte[] Metadata(int i) => System.Text.Encoding.UTF8.GetBytes(
        $"host:web-{i % 97:D3},env:{(i % 3 == 0 ? "prod" : "staging")},service:svc-{i % 13},region:us-east-{1 + (i % 2)},pod:pod-{i * 2654435761u:x8}"
        + (i % 4 == 0 ? ",type:gauge,unit:bytes,team:storage-platform,version:1.2." + (i % 50) : string.Empty));

    /// <summary>A distinct, well spread key per series index; the caller sorts.</summary>
    public static SeriesKey Key(int i)
    {
        var h = (ulong)i * 0x9E3779B97F4A7C15UL;
        return new SeriesKey((uint)(1 + (i / 300)), 1000 + (ulong)((i / 7) % 40), h ^ (h >> 29));
    }

    /// <summary>The corpus' series with keys and metadata, sorted by key.</summary>
    public static TestSeries[] FromCorpus(SeriesCorpus corpus)
    {
        var series = new TestSeries[corpus.SeriesCount];
        for (var i = 0; i < series.Length; i++)
        {
            series[i] = new TestSeries(Key(i), Metadata(i), corpus.GetTimestamps(i).ToArray(), corpus.GetValues(i).ToArray());
        }

        Array.Sort(series, (a, b) => a.Key.CompareTo(b.Key));
        return series;
    }

    public static TestSeries[] Corpus(int count, ulong seed = 11) => FromCorpus(SeriesCorpus.Generate(SeriesMix.Default, seed, count));

    public static byte[] Write(IEnumerable<TestSeries> series, SFileWriterOptions? options = null)
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new SFileWriter(output, options);
        foreach (var s in series)
        {
            writer.AddSeries(s.Key, s.Metadata, s.Timestamps, s.Values);
        }

        writer.Complete();
        Assert.Equal(output.WrittenCount, writer.Length);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Every series of a file through the scanner.</summary>
    public static List<TestSeries> Scan(ReadOnlySpan<byte> file, SFileReaderOptions? options = null)
    {
        var scanner = new SFileScanner(file, options);
        try
        {
            return Drain(ref scanner);
        }
        finally
        {
            scanner.Dispose();
        }
    }

    public static List<TestSeries> Scan(SFileSpanSource file, SFileReaderOptions? options = null)
    {
        var scanner = new SFileScanner(file, options);
        try
        {
            return Drain(ref scanner);
        }
        finally
        {
            scanner.Dispose();
        }
    }

    private static List<TestSeries> Drain(ref SFileScanner scanner)
    {
        var result = new List<TestSeries>();
        var max = scanner.Layout.Footer.Stats.MaxPointCount;
        var ts = new long[max];
        var vs = new double[max];
        while (scanner.MoveNext())
        {
            var n = scanner.ReadPoints(ts, vs);
            result.Add(new TestSeries(scanner.Current.Key, scanner.Metadata.ToArray(), ts[..n], vs[..n]));
        }

        return result;
    }

    /// <summary>Null when both lists hold the same series bit for bit, else what differs.</summary>
    public static string? Compare(IReadOnlyList<TestSeries> expected, IReadOnlyList<TestSeries> actual)
    {
        if (expected.Count != actual.Count)
        {
            return $"{actual.Count} series, expected {expected.Count}";
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var failure = Compare(expected[i], actual[i]);
            if (failure is not null)
            {
                return $"series {i}: {failure}";
            }
        }

        return null;
    }

    public static string? Compare(TestSeries e, TestSeries a)
    {
        if (e.Key != a.Key)
        {
            return $"key {a.Key}, expected {e.Key}";
        }

        if (!e.Metadata.AsSpan().SequenceEqual(a.Metadata))
        {
            return $"metadata of {e.Key} differs";
        }

        if (!e.Timestamps.AsSpan().SequenceEqual(a.Timestamps))
        {
            return $"timestamps of {e.Key} differ: [{string.Join(",", a.Timestamps)}], expected [{string.Join(",", e.Timestamps)}]";
        }

        if (e.Values.Length != a.Values.Length)
        {
            return $"{a.Values.Length} values of {e.Key}, expected {e.Values.Length}";
        }

        for (var j = 0; j < e.Values.Length; j++)
        {
            if (BitConverter.DoubleToUInt64Bits(e.Values[j]) != BitConverter.DoubleToUInt64Bits(a.Values[j]))
            {
                return $"value {j} of {e.Key}: {BitConverter.DoubleToUInt64Bits(a.Values[j]):X16}, expected {BitConverter.DoubleToUInt64Bits(e.Values[j]):X16}";
            }
        }

        return null;
    }
}

/// <summary>A range source that counts and records every read.</summary>
internal sealed class CountingRangeSource(IRangeSource inner) : IRangeSource
{
    public List<(long Offset, int Length)> Reads { get; } = [];

    public long Length => inner.Length;

    public ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Reads.Add((offset, destination.Length));
        return inner.ReadAsync(offset, destination, cancellationToken);
    }
}

/// <summary>A stream that counts range reads: a read that does not continue where the previous one ended is a new range.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    private long _expected = -1;

    public int RangeReads { get; private set; }

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (inner.Position != _expected)
        {
            RangeReads++;
        }

        var n = inner.Read(buffer);
        BytesRead += n;
        _expected = inner.Position;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
